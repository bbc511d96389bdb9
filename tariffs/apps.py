from django.apps import AppConfig


class TariffsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tariffs"
    verbose_name = "Tariff reference data"
