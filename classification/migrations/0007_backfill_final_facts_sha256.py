"""Products made final before the catalog kept the SHA-256 of the facts their final decision
classified get it from that decision (the latest final one per product)."""

from django.db import migrations

BACKFILL = """
UPDATE catalog_product p SET final_facts_sha256 = f.sha256
FROM (
    SELECT DISTINCT ON (s.product_id) s.product_id, v.sha256
    FROM classification_reviewstate s
    JOIN classification_decision d ON d.id = s.decision_id
    JOIN catalog_productversion v ON v.id = d.product_version_id
    WHERE s.status = 'final'
    ORDER BY s.product_id, s.decided_at DESC NULLS LAST
) f
WHERE p.id = f.product_id AND p.classification_status = 'final'
"""


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_product_final_facts_sha256"),
        ("classification", "0006_request_source_facts_changed"),
    ]

    operations = [migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop)]
