"""TRUNCATE skips row triggers: refuse it on append-only and immutable tables as well.

``audit_refuse_truncate()`` is shared: the other apps' migrations attach it to their own
append-only tables (decisions, review actions, calibration fits, rule packs, tariff data).
"""

from django.db import migrations

TABLES = ["audit_auditevent", "audit_auditexport"]

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE on % is refused: its rows are append-only evidence',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
FORWARD = FUNCTION + "".join(
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();\n"
    for t in TABLES
)
BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS audit_refuse_truncate();"
)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_bulk_json_values")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
