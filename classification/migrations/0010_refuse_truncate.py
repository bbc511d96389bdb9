"""Decisions, review actions and calibration fits refuse TRUNCATE too (function: audit 0006)."""

from django.db import migrations

TABLES = [
    "classification_decision",
    "classification_reviewaction",
    "classification_calibrationfit",
]
FORWARD = "".join(
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();\n"
    for t in TABLES
)
BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};\n" for t in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("classification", "0009_decision_lifecycle"),
        ("audit", "0006_refuse_truncate"),
    ]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
