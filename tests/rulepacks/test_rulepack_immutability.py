"""Active and retired packs are immutable in PostgreSQL; concurrent activations leave one."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction

from rulepacks import services
from rulepacks.models import RulePack
from tests.rulepacks.conftest import real_pack_source


def raw_update(pack, assignment: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE rulepacks_rulepack SET {assignment} WHERE id = %s", [*params, pack.pk]
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "assignment",
    [
        "source = source || '# sneaky edit'",
        "sha256 = repeat('0', 64)",
        "min_confidence = 0.5",
        "gate_report = '{}'::jsonb",
        "backtest_report = '{}'::jsonb",
        "schedule_revision = 'other'",
        "status = 'draft'",
        "status = 'validated'",
    ],
)
def test_a_raw_sql_update_of_an_active_pack_is_refused(make_pack, assignment):
    pack = make_pack(stage="active")
    with pytest.raises(DatabaseError, match="immutable"):
        raw_update(pack, assignment)
    fresh = RulePack.objects.get(pk=pack.pk)
    assert (fresh.source, fresh.sha256, fresh.status) == (pack.source, pack.sha256, "active")


@pytest.mark.django_db
def test_a_retired_pack_cannot_come_back_or_be_deleted(make_pack):
    old = make_pack(stage="active")
    make_pack(real_pack_source().replace('version = "1"', 'version = "2"'), stage="active")
    with pytest.raises(DatabaseError, match="immutable"):
        raw_update(old, "status = 'active'")
    with pytest.raises(DatabaseError, match="immutable"):
        raw_update(old, "retired_at = now()")
    with pytest.raises(DatabaseError, match="DELETE is refused"), transaction.atomic():
        RulePack.objects.filter(pk=old.pk).delete()


@pytest.mark.django_db
def test_drafts_stay_editable_in_the_database(make_pack):
    pack = make_pack()
    raw_update(pack, "source = %s", ["[pack]\n"])
    assert RulePack.objects.get(pk=pack.pk).source == "[pack]\n"


@pytest.mark.django_db
def test_two_active_packs_for_one_jurisdiction_are_refused_by_a_constraint(make_pack):
    make_pack(stage="active")
    other = make_pack(
        real_pack_source().replace('version = "1"', 'version = "2"'), stage="backtested"
    )
    with pytest.raises(DatabaseError, match="rulepack_one_active_per_tenant_jurisdiction"):
        raw_update(other, "status = 'active'")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_activations_leave_exactly_one_active_pack(make_pack, lead):
    first = make_pack(stage="backtested")
    second = make_pack(
        real_pack_source().replace('version = "1"', 'version = "2"'), stage="backtested"
    )
    barrier = threading.Barrier(2)
    outcomes = {}

    def activate(pack):
        try:
            barrier.wait(timeout=10)
            services.rulepack_activate(actor=lead, pack=pack)
            outcomes[pack.pk] = "activated"
        except ValidationError as err:
            outcomes[pack.pk] = err.messages
        finally:
            connections.close_all()

    threads = [threading.Thread(target=activate, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes == {first.pk: "activated", second.pk: "activated"}
    statuses = sorted(RulePack.objects.values_list("status", flat=True))
    assert statuses == ["active", "retired"]
