from django.apps import AppConfig


class RulepacksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rulepacks"
    verbose_name = "Rule packs"
