# The dashboard's rollups: each final state's band of time to final and final code's duty
# (``review.tallies.derive_final``), and the daily tallies counted again with the backlog, time
# to final, duty exposure and actions per person (``review.tallies``). ``tally_rebuild`` runs
# the same SQL for one tenant, narrowing ``WHERE true``; %(tz)s is the server's TIME_ZONE.

import django.db.models.expressions
import django.db.models.functions.math
from django.conf import settings
from django.db import migrations, models

# ``review.tallies.FINAL_BANDS`` when this was written (seconds; a test keeps them equal).
BANDS = [
    *(m * 60 for m in (0, 1, 2, 5, 10, 15, 20, 30, 45)),
    *(int(h * 3600) for h in (1, 1.5, *range(2, 24), *range(24, 48, 2), *range(48, 96, 3))),
    *(h * 3600 for h in range(96, 168, 6)),
    *(d * 86400 for d in (7, 8, 9, 10, 12, 14, 17, 21, 25, 30, 35, 40, 50, 60, 75, 90, 120)),
    *(d * 86400 for d in (150, 180, 270, 365)),
]
DERIVE = f"""
UPDATE classification_reviewstate s SET
       final_bucket = CASE WHEN s.status = 'final' AND s.decided_at IS NOT NULL THEN greatest(
           width_bucket(extract(epoch FROM s.decided_at - s.decision_created_at),
                        ARRAY{BANDS}::numeric[]) - 1, 0) END,
       final_duty = CASE
           WHEN s.status <> 'final' OR s.declared_duty IS NULL OR s.final_code = '' THEN NULL
           WHEN s.final_code = s.selected_code AND s.duty_sort >= 0 THEN s.duty_sort
           ELSE (SELECT CASE WHEN m.total ~ '^-?[0-9]+(\\.[0-9]+)?$'
                             THEN round(m.total::numeric, 2) END
                   FROM (SELECT c -> 'duty' ->> 'total' AS total
                           FROM classification_decision d,
                                jsonb_array_elements(
                                    CASE WHEN jsonb_typeof(d.evidence -> 'candidates') = 'array'
                                         THEN d.evidence -> 'candidates' ELSE '[]' END) c
                          WHERE d.id = s.decision_id AND c ->> 'code' = s.final_code
                            AND coalesce(c -> 'duty' ->> 'total', '') <> ''
                          LIMIT 1) m) END
 WHERE true AND (s.final_bucket IS NOT NULL OR s.final_duty IS NOT NULL OR s.status = 'final')
"""
REBUILD = [
    """
INSERT INTO classification_reviewtally
       (tenant_id, day, jurisdiction, figure, key, key2, n, kept, right6, confidence, amount)
SELECT tenant_id, day, jurisdiction, figure, key, key2,
       count(*), sum(kept), sum(right6), sum(conf), sum(amount)
  FROM (SELECT s.tenant_id, f.day, s.jurisdiction, f.figure, f.key, f.key2, f.kept, f.right6,
               f.conf, f.amount
          FROM (SELECT *, status = 'final' AND selected_code <> ''
                          AND (decided_by_id IS NOT NULL
                               OR spot_check IN ('confirmed', 'corrected')) AS checked,
                       (final_code = selected_code)::int AS k,
                       (decision_created_at AT TIME ZONE %(tz)s)::date AS dday,
                       status = 'final' AND declared_duty IS NOT NULL AND final_code <> ''
                           AS duty
                  FROM classification_reviewstate) s
         CROSS JOIN LATERAL (VALUES
               (true, s.dday, 'outcome', s.outcome, '', 0, 0, 0.0::float8, 0::numeric),
               (s.status IN ('open', 'escalated', 'info_requested'), s.dday, 'open', s.queue,
                '', 0, 0, 0.0, 0),
               (s.spot_check <> '', s.dday, 'spot', s.spot_check, '', 0, 0, 0.0, 0),
               (s.status = 'final' AND s.decided_at IS NOT NULL AND s.final_bucket IS NOT NULL,
                (s.decided_at AT TIME ZONE %(tz)s)::date, 'final_time', s.final_bucket::text,
                '', 0, 0, 0.0, 0),
               (s.duty AND s.final_duty IS NOT NULL, s.dday, 'duty', 'known', '', 0, 0, 0.0,
                s.final_duty - s.declared_duty),
               (s.duty AND s.final_duty IS NULL, s.dday, 'duty', 'unknown', '', 0, 0, 0.0, 0),
               (s.checked, s.dday, 'checked_outcome', s.outcome, '', s.k, 0, 0.0, 0),
               (s.checked, s.dday, 'checked_source', s.evidence_source, '', s.k, 0, 0.0, 0),
               (s.checked AND s.rule_id <> '', s.dday, 'checked_rule', s.rule_id, '', s.k, 0,
                0.0, 0),
               (s.checked AND s.rule_pack_version <> '', s.dday, 'checked_pack',
                s.rule_pack_version, '', s.k, 0, 0.0, 0),
               (s.checked AND s.k = 0, s.dday, 'moved', s.final_code, s.selected_code, 0, 0, 0.0,
                0),
               (s.checked, s.dday, 'bin',
                least(greatest(floor(s.confidence * 10), 0), 9)::int::text, '', 0,
                (left(s.final_code, 6) = left(s.selected_code, 6))::int, s.confidence, 0)
         ) f(applies, day, figure, key, key2, kept, right6, conf, amount)
         WHERE true AND f.applies) t
 GROUP BY tenant_id, day, jurisdiction, figure, key, key2
""",
    """
INSERT INTO classification_reviewtally
       (tenant_id, day, jurisdiction, figure, key, key2, n, kept, right6, confidence, amount)
SELECT a.tenant_id, (a.created_at AT TIME ZONE %(tz)s)::date, s.jurisdiction, 'actions',
       a.actor_id::text, '', count(*), 0, 0, 0.0, 0
  FROM classification_reviewaction a
  JOIN classification_reviewstate s ON s.decision_id = a.decision_id
 WHERE true AND a.actor_id IS NOT NULL
   AND a.kind IN ('accept', 'override', 'escalate', 'request_info', 'spot_check', 'reopen',
                  'sign_off')
 GROUP BY 1, 2, 3, 5
""",
]


def rebuild(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DERIVE)
        cursor.execute("DELETE FROM classification_reviewtally")
        for sql in REBUILD:
            cursor.execute(sql, {"tz": settings.TIME_ZONE})


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_productversion_author_label"),
        ("classification", "0014_undo"),
        ("workbench", "0004_view_insights_permission"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="reviewstate",
            name="review_declared_duty",
        ),
        migrations.AddField(
            model_name="reviewstate",
            name="final_bucket",
            field=models.SmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="reviewstate",
            name="final_duty",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
        ),
        migrations.AddField(
            model_name="reviewtally",
            name="amount",
            field=models.DecimalField(
                decimal_places=2, default=0, help_text="Sum of duty differences.", max_digits=20
            ),
        ),
        migrations.AddIndex(
            model_name="reviewstate",
            index=models.Index(
                condition=models.Q(("declared_duty__isnull", False), ("status", "final")),
                fields=["tenant", "decision_created_at"],
                include=("final_code", "final_duty", "declared_duty", "jurisdiction"),
                name="review_declared_duty",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewstate",
            index=models.Index(
                models.F("tenant"),
                models.OrderBy(
                    django.db.models.functions.math.Abs(
                        django.db.models.expressions.CombinedExpression(
                            models.F("final_duty"), "-", models.F("declared_duty")
                        )
                    ),
                    descending=True,
                ),
                models.F("decision"),
                condition=models.Q(
                    ("declared_duty__isnull", False),
                    ("final_duty__isnull", False),
                    ("status", "final"),
                ),
                include=("decision_created_at", "jurisdiction", "final_code"),
                name="review_duty_gap",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewstate",
            index=models.Index(
                condition=models.Q(("status", "final")),
                fields=["tenant", "final_bucket", "decided_at"],
                include=("decision_created_at", "jurisdiction"),
                name="review_final_band",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewtally",
            index=models.Index(fields=["tenant", "figure", "day"], name="review_tally_figure"),
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
        # Vacuum the review states after a fiftieth of them changed, not a fifth: the dashboard's
        # index-only scans (open items, bands of time to final, duty) skip the table only on
        # pages the visibility map marks all-visible.
        migrations.RunSQL(
            "ALTER TABLE classification_reviewstate SET (autovacuum_vacuum_scale_factor = 0.02,"
            " autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)",
            "ALTER TABLE classification_reviewstate RESET (autovacuum_vacuum_scale_factor,"
            " autovacuum_vacuum_insert_scale_factor, autovacuum_analyze_scale_factor)",
        ),
    ]
