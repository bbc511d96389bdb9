"""An audit export follows its lifecycle in PostgreSQL too: queued → running → ready or failed.

A row is inserted queued; it is sealed ``ready`` only from running and only with a digest and
stored bytes, so raw SQL cannot turn a queued row into a "ready" export. Migration 0004 freezes
finished exports.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_export_lifecycle() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.status <> 'queued' THEN
        RAISE EXCEPTION 'audit export %: a new export starts queued, not %', NEW.id, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status AND NOT (
            (OLD.status = 'queued' AND NEW.status IN ('running', 'failed'))
            OR (OLD.status = 'running' AND NEW.status IN ('ready', 'failed'))) THEN
        RAISE EXCEPTION 'audit export %: status % to % is refused (queued, running, then ready '
            'or failed)', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status = 'ready' AND (NEW.sha256 ~ '^[0-9a-f]{64}$'
            AND (NEW.payload <> '' OR NEW.payload_file <> '')) IS NOT TRUE THEN
        RAISE EXCEPTION 'audit export %: ready needs its snapshot and its SHA-256', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_export_lifecycle
    BEFORE INSERT OR UPDATE ON audit_auditexport
    FOR EACH ROW EXECUTE FUNCTION audit_export_lifecycle();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_export_lifecycle ON audit_auditexport;
DROP FUNCTION IF EXISTS audit_export_lifecycle();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_refuse_truncate")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
