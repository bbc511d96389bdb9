"""Decisions are evidence: PostgreSQL refuses to change or delete one."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION classification_decision_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'decisions are immutable: % on classification_decision is refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER classification_decision_immutable
    BEFORE UPDATE OR DELETE ON classification_decision
    FOR EACH ROW EXECUTE FUNCTION classification_decision_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS classification_decision_immutable ON classification_decision;
DROP FUNCTION IF EXISTS classification_decision_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("classification", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
