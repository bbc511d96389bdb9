"""Loaded reference data refuses TRUNCATE as well as UPDATE and DELETE (function: audit 0006)."""

from django.db import migrations

TABLES = [
    "tariffs_tariffschedule",
    "tariffs_tariffline",
    "tariffs_referencelist",
    "tariffs_agencyflag",
    "tariffs_trademeasure",
    "tariffs_lexicon",
    "tariffs_lexiconentry",
]
FORWARD = "".join(
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();\n"
    for t in TABLES
)
BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};\n" for t in TABLES)


class Migration(migrations.Migration):
    dependencies = [("tariffs", "0004_lexicon"), ("audit", "0006_refuse_truncate")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
