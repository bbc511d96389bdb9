from django.db import migrations, models


class Migration(migrations.Migration):
    # A nullable column rewrites no row, so the export triggers (0004, 0007) do not fire for it.
    dependencies = [("audit", "0007_export_lifecycle_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditexport",
            name="heartbeat_at",
            field=models.DateTimeField(
                blank=True, help_text="Last sign of life of the build under way.", null=True
            ),
        ),
    ]
