from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classification"
    verbose_name = "Classification"

    def audit_export_sections(self, tenant, scope):
        from classification import export

        return export.sections(tenant, scope)
