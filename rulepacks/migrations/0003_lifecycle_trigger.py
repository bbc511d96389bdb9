"""Only the lifecycle the services perform is possible in PostgreSQL, and TRUNCATE is refused.

A pack is inserted as a draft; draft, validated and failed move among themselves (edit, upload
cases, validate); only a validated pack becomes active, and only an active one retired. A pack is
validated only with a passing gate report for its source as it is now (its hash recomputed), and
activated only with a passing backtest for it too. So a raw ``UPDATE … SET status = 'active'``
cannot put a never-validated pack in force. (Migration 0002 freezes active and retired packs.)
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION rulepacks_rulepack_lifecycle() RETURNS trigger AS $$
DECLARE
    editable CONSTANT text[] := ARRAY['draft', 'validated', 'failed'];
BEGIN
    IF TG_OP = 'INSERT' AND NEW.status <> 'draft' THEN
        RAISE EXCEPTION 'rule pack %: a new pack starts as draft, not %', NEW.id, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status AND NOT (
            (OLD.status = ANY (editable) AND NEW.status = ANY (editable))
            OR (OLD.status = 'validated' AND NEW.status = 'active')
            OR (OLD.status = 'active' AND NEW.status = 'retired')) THEN
        RAISE EXCEPTION 'rule pack %: status % to % is refused (draft, validated or failed, '
            'then active from validated only, then retired)', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- IS NOT TRUE: a missing report key gives NULL, which must refuse too.
    IF NEW.status = 'validated' AND (NEW.gate_report ->> 'passed' = 'true'
            AND NEW.gate_report ->> 'sha256' = NEW.sha256
            AND NEW.sha256 = encode(sha256(convert_to(NEW.source, 'UTF8')), 'hex')) IS NOT TRUE THEN
        RAISE EXCEPTION 'rule pack %: validated needs a passing gate report for its source', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = 'active' AND OLD.status <> 'active' AND (
            NEW.gate_report ->> 'passed' = 'true' AND NEW.gate_report ->> 'sha256' = NEW.sha256
            AND NEW.backtest_report ->> 'passed' = 'true'
            AND NEW.backtest_report ->> 'sha256' = NEW.sha256) IS NOT TRUE THEN
        RAISE EXCEPTION 'rule pack %: activation needs passing gates and a passing backtest for '
            'its source', NEW.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rulepacks_rulepack_lifecycle
    BEFORE INSERT OR UPDATE ON rulepacks_rulepack
    FOR EACH ROW EXECUTE FUNCTION rulepacks_rulepack_lifecycle();

CREATE TRIGGER rulepacks_rulepack_no_truncate BEFORE TRUNCATE ON rulepacks_rulepack
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS rulepacks_rulepack_no_truncate ON rulepacks_rulepack;
DROP TRIGGER IF EXISTS rulepacks_rulepack_lifecycle ON rulepacks_rulepack;
DROP FUNCTION IF EXISTS rulepacks_rulepack_lifecycle();
"""


class Migration(migrations.Migration):
    dependencies = [("rulepacks", "0002_immutability_trigger"), ("audit", "0006_refuse_truncate")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
