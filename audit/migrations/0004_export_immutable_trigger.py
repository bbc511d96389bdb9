"""Make a finished audit export immutable in PostgreSQL itself, not only in Python."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_export_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status IN ('ready', 'failed') THEN
        RAISE EXCEPTION 'audit export % is % and immutable: % refused', OLD.id, OLD.status, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_export_immutable
    BEFORE UPDATE OR DELETE ON audit_auditexport
    FOR EACH ROW EXECUTE FUNCTION audit_export_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_export_immutable ON audit_auditexport;
DROP FUNCTION IF EXISTS audit_export_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_outbox_and_exports")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
