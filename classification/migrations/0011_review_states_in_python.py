"""Review states are opened in Python, with their record; the database only guards the result.

The trigger of migration 0004 created each decision's review state with the outcome → queue
mapping in SQL and superseded older open states without an action or an audit event. Writers now
call ``classification.review.states.review_states_open`` (one mapping, ``REVIEW_START``; each
supersede a recorded, audited ``superseded`` action). What stays in PostgreSQL is a guard: a
decision committed without its review state is refused.
"""

from django.db import migrations

FORWARD = """
DROP TRIGGER IF EXISTS classification_review_state_on_decision ON classification_decision;
DROP FUNCTION IF EXISTS classification_review_state_create();

CREATE OR REPLACE FUNCTION classification_decision_has_review() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM classification_reviewstate WHERE decision_id = NEW.id) THEN
        RAISE EXCEPTION 'decision % was committed without its review state: open it with '
            'classification.review.states.review_states_open in the same transaction', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER classification_decision_has_review
    AFTER INSERT ON classification_decision
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION classification_decision_has_review();
"""

# Going back restores the trigger as migration 0009 left it.
BACKWARD = """
DROP TRIGGER IF EXISTS classification_decision_has_review ON classification_decision;
DROP FUNCTION IF EXISTS classification_decision_has_review();
"""


def backward_sql():
    from importlib import import_module

    previous = import_module("classification.migrations.0009_decision_lifecycle")
    trigger = """
CREATE TRIGGER classification_review_state_on_decision
    AFTER INSERT ON classification_decision
    FOR EACH ROW EXECUTE FUNCTION classification_review_state_create();
"""
    return BACKWARD + previous.trigger("open", "confirm") + trigger


class Migration(migrations.Migration):
    dependencies = [("classification", "0010_refuse_truncate")]
    operations = [migrations.RunSQL(FORWARD, backward_sql())]
