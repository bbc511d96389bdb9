"""Decisions always end final or in a queue a person owns (issue 17).

A `classified` decision no longer closes as "auto" with nobody owning it: the review-state
trigger puts it in the Confirm queue (status open), where a broker confirms it, or the worker
finalizes it on the pack's authority when the pack says ``auto_finalize = true``. Decisions left
"auto" by earlier versions move to the Confirm queue.
"""

from django.db import migrations, models


def trigger(classified_status: str, classified_queue: str) -> str:
    """The review-state trigger of migration 0004, with where a `classified` decision goes."""
    return f"""
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
           CASE WHEN NEW.outcome = 'classified' THEN '{classified_status}' ELSE 'open' END,
           CASE WHEN NEW.outcome = 'classified' THEN '{classified_queue}' ELSE NEW.outcome END,
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
"""


STRANDED = """
UPDATE classification_reviewstate
   SET status = 'open', queue = 'confirm', version = version + 1, updated_at = now()
 WHERE status = 'auto';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("classification", "0008_calibration_fit"),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewstate",
            name="spot_check",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Waiting for a broker"),
                    ("confirmed", "Confirmed by a broker"),
                    ("corrected", "Corrected by a broker"),
                ],
                db_default="",
                default="",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="reviewaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("accept", "Accepted"),
                    ("override", "Overrode"),
                    ("escalate", "Escalated"),
                    ("request_info", "Requested information"),
                    ("info_received", "Facts updated; classified again"),
                    ("assign", "Assigned"),
                    ("release", "Released"),
                    ("grant", "Granted a decision right"),
                    ("promote", "Promoted to a golden case"),
                    ("system_finalize", "Finalized on the rule pack's authority"),
                    ("spot_check", "Confirmed in a spot check"),
                    ("reopen", "Reopened"),
                    ("sign_off", "Signed off; a second compliance lead must confirm"),
                    ("superseded", "Superseded by a later final decision"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="reviewstate",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Open"),
                    ("escalated", "Escalated"),
                    ("info_requested", "Information requested"),
                    ("final", "Final"),
                    ("superseded", "Superseded by a newer decision"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="reviewstate",
            name="reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunSQL(trigger("open", "confirm"), trigger("auto", "closed")),
        migrations.RunSQL(STRANDED, migrations.RunSQL.noop),
    ]
