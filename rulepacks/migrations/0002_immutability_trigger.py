"""Make active and retired rule packs immutable in PostgreSQL itself, not only in Python.

Audits ask which rules produced a decision; the answer must not change after the fact. Once a
pack is active, its content columns are frozen, the only status change allowed is
active → retired (which may set retired_by / retired_at once), and it cannot be deleted.
"""

from django.db import migrations

FROZEN = (
    "tenant_id, jurisdiction, name, version, source, sha256, min_confidence, tie_margin, "
    "schedule_revision, gate_report, backtest_cases, backtest_cases_name, backtest_report, "
    "created_by_id, created_at, validated_by_id, validated_at, backtested_by_id, backtested_at, "
    "activated_by_id, activated_at"
)
OLD = ", ".join(f"OLD.{c.strip()}" for c in FROZEN.split(","))
NEW = ", ".join(f"NEW.{c.strip()}" for c in FROZEN.split(","))

FORWARD = f"""
CREATE OR REPLACE FUNCTION rulepacks_rulepack_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status NOT IN ('active', 'retired') THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'rule pack % is % and immutable: DELETE is refused', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ROW({NEW}) IS DISTINCT FROM ROW({OLD}) THEN
        RAISE EXCEPTION 'rule pack % is % and immutable: its content cannot change',
            OLD.id, OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status
            AND NOT (OLD.status = 'active' AND NEW.status = 'retired') THEN
        RAISE EXCEPTION 'rule pack % is % and immutable: status % is refused',
            OLD.id, OLD.status, NEW.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'retired'
            AND ROW(NEW.retired_by_id, NEW.retired_at)
                IS DISTINCT FROM ROW(OLD.retired_by_id, OLD.retired_at) THEN
        RAISE EXCEPTION 'rule pack % is retired and immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rulepacks_rulepack_immutable
    BEFORE UPDATE OR DELETE ON rulepacks_rulepack
    FOR EACH ROW EXECUTE FUNCTION rulepacks_rulepack_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS rulepacks_rulepack_immutable ON rulepacks_rulepack;
DROP FUNCTION IF EXISTS rulepacks_rulepack_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("rulepacks", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
