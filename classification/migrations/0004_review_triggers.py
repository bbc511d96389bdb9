"""Review states follow decisions, and review actions are append-only, both in PostgreSQL.

A trigger creates the review state of every inserted decision (so the runner, bulk loads and
benchmarks all get exactly one), copying the columns the queues filter and sort on, and marks the
product's older unfinished states superseded. Review actions, like decisions, refuse change.
"""

from django.db import migrations

BACKFILL = """
-- Decisions written before this migration get their states too (older ones superseded).
INSERT INTO classification_reviewstate (
    decision_id, tenant_id, product_id, status, queue, route, version, outcome, risk_rank,
    confidence, duty_sort, jurisdiction, origin, rule_pack_version, reasons,
    suggested_description, decision_created_at, final_code, missing_facts, updated_at)
SELECT d.id, d.tenant_id, d.product_id,
       CASE WHEN d.latest <> d.id THEN 'superseded'
            WHEN d.outcome = 'classified' THEN 'auto' ELSE 'open' END,
       CASE WHEN d.latest <> d.id OR d.outcome = 'classified' THEN 'closed' ELSE d.outcome END,
       '', 1, d.outcome,
       CASE d.risk_band WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END,
       d.confidence, COALESCE(d.duty_total, -1), d.jurisdiction,
       COALESCE(upper(left(v.facts ->> 'country_of_origin', 2)), ''),
       d.rule_pack_version, d.reasons,
       CASE WHEN d.selected_code <> ''
            THEN COALESCE(left(d.evidence -> 'candidates' -> 0 ->> 'description', 300), '')
            ELSE '' END,
       d.created_at, '', '[]'::jsonb, now()
  FROM (SELECT *, max(id) OVER (PARTITION BY product_id) AS latest
          FROM classification_decision) d
  JOIN catalog_productversion v ON v.id = d.product_version_id
 WHERE NOT EXISTS (SELECT 1 FROM classification_reviewstate s WHERE s.decision_id = d.id);
"""

FORWARD = """
CREATE OR REPLACE FUNCTION classification_review_state_create() RETURNS trigger AS $$
BEGIN
    UPDATE classification_reviewstate
       SET status = 'superseded', queue = 'closed', version = version + 1, updated_at = now()
     WHERE tenant_id = NEW.tenant_id AND product_id = NEW.product_id
       AND status IN ('auto', 'open', 'escalated', 'info_requested');
    INSERT INTO classification_reviewstate (
        decision_id, tenant_id, product_id, status, queue, route, version, outcome, risk_rank,
        confidence, duty_sort, jurisdiction, origin, rule_pack_version, reasons,
        suggested_description, decision_created_at, final_code, missing_facts, updated_at)
    SELECT NEW.id, NEW.tenant_id, NEW.product_id,
           CASE WHEN NEW.outcome = 'classified' THEN 'auto' ELSE 'open' END,
           CASE WHEN NEW.outcome = 'classified' THEN 'closed' ELSE NEW.outcome END,
           '', 1, NEW.outcome,
           CASE NEW.risk_band WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END,
           NEW.confidence, COALESCE(NEW.duty_total, -1), NEW.jurisdiction,
           COALESCE(upper(left(v.facts ->> 'country_of_origin', 2)), ''),
           NEW.rule_pack_version, NEW.reasons,
           CASE WHEN NEW.selected_code <> ''
                THEN COALESCE(left(NEW.evidence -> 'candidates' -> 0 ->> 'description', 300), '')
                ELSE '' END,
           NEW.created_at, '', '[]'::jsonb, now()
      FROM catalog_productversion v WHERE v.id = NEW.product_version_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER classification_review_state_on_decision
    AFTER INSERT ON classification_decision
    FOR EACH ROW EXECUTE FUNCTION classification_review_state_create();

CREATE OR REPLACE FUNCTION classification_reviewaction_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'review actions are append-only: % on classification_reviewaction is refused',
        TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER classification_reviewaction_append_only
    BEFORE UPDATE OR DELETE ON classification_reviewaction
    FOR EACH ROW EXECUTE FUNCTION classification_reviewaction_refuse_change();

"""

BACKWARD = """
DROP TRIGGER IF EXISTS classification_reviewaction_append_only ON classification_reviewaction;
DROP FUNCTION IF EXISTS classification_reviewaction_refuse_change();
DROP TRIGGER IF EXISTS classification_review_state_on_decision ON classification_decision;
DROP FUNCTION IF EXISTS classification_review_state_create();
"""


class Migration(migrations.Migration):
    dependencies = [("classification", "0003_review")]
    operations = [migrations.RunSQL(FORWARD + BACKFILL, BACKWARD)]
