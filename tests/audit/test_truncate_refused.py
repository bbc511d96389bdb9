"""TRUNCATE, which row triggers do not see, is refused on every append-only table."""

import pytest
from django.db import DatabaseError, connection, transaction

import audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

APPEND_ONLY = [
    "audit_auditevent",
    "audit_auditexport",
    "classification_decision",
    "classification_reviewaction",
    "classification_calibrationfit",
    "rulepacks_rulepack",
    "tariffs_tariffschedule",
    "tariffs_tariffline",
    "tariffs_referencelist",
    "tariffs_agencyflag",
    "tariffs_trademeasure",
    "tariffs_lexicon",
    "tariffs_lexiconentry",
]

# Tables with a row trigger that fires on DELETE (pg_trigger.tgtype bit 3), and those with a
# statement trigger on TRUNCATE (bit 5).
TRIGGERED = """
SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND t.tgtype & %s <> 0
   AND c.relnamespace = current_schema()::regnamespace
"""


def tables_with_triggers_on(bit: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(TRIGGERED, [bit])
        return {row[0] for row in cursor.fetchall()}


def truncate(table: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred key checks pending
        cursor.execute(f"TRUNCATE {table} CASCADE")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncating_an_append_only_table_is_refused(table):
    with pytest.raises(DatabaseError, match=r"TRUNCATE on [a-z_]+ is refused"):
        truncate(table)


def test_the_audit_log_survives_a_truncate(cast):
    audit.record(actor=None, verb="catalog.product.updated", tenant=cast.tenant, data={})
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="TRUNCATE on audit_auditevent is refused"):
        truncate("audit_auditevent")
    assert AuditEvent.objects.count() == before > 0


def test_every_table_that_refuses_delete_also_refuses_truncate():
    deletes_refused = tables_with_triggers_on(8) - {"audit_auditexport", "rulepacks_rulepack"}
    assert deletes_refused <= tables_with_triggers_on(32)
    assert set(APPEND_ONLY) <= tables_with_triggers_on(32)
