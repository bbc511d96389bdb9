"""Loaded reference data is never edited: refuse UPDATE and DELETE in PostgreSQL itself."""

from django.db import migrations

TABLES = [
    "tariffs_tariffschedule",
    "tariffs_tariffline",
    "tariffs_referencelist",
    "tariffs_agencyflag",
    "tariffs_trademeasure",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION tariffs_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'tariff reference data is immutable once loaded: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

FORWARD = FUNCTION + "".join(
    f"CREATE TRIGGER {t}_immutable BEFORE UPDATE OR DELETE ON {t} "
    "FOR EACH ROW EXECUTE FUNCTION tariffs_refuse_change();\n"
    for t in TABLES
)
BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_immutable ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS tariffs_refuse_change();"
)


class Migration(migrations.Migration):
    dependencies = [("tariffs", "0002_hs_nomenclature")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
