"""PostgreSQL allows only the rule-pack lifecycle the services perform; raw SQL cannot skip it."""

import pytest
from django.db import DatabaseError, connection, transaction

from rulepacks import services
from rulepacks.models import RulePack
from tests.rulepacks.conftest import cases_toml, real_pack_source
from tests.rulepacks.test_rulepack_immutability import raw_update

pytestmark = pytest.mark.django_db


def status_of(pack) -> str:
    return RulePack.objects.values_list("status", flat=True).get(pk=pack.pk)


@pytest.mark.parametrize(
    ("stage", "assignment", "message"),
    [
        ("draft", "status = 'active'", "status draft to active is refused"),
        ("draft", "status = 'retired'", "status draft to retired is refused"),
        ("draft", "status = 'validated'", "validated needs a passing gate report"),
        ("failed", "status = 'active'", "status failed to active is refused"),
        ("validated", "status = 'retired'", "status validated to retired is refused"),
        ("validated", "status = 'active'", "activation needs passing gates and a passing backtest"),
        ("validated", "source = source || '# sneaky'", "validated needs a passing gate report"),
        (
            "backtested",
            "status = 'active', backtest_report = '{}'::jsonb",
            "activation needs passing gates and a passing backtest",
        ),
    ],
)
def test_a_raw_illegal_status_change_is_refused(make_pack, stage, assignment, message):
    source = real_pack_source()
    if stage == "failed":
        source = source.replace('code = "9503000073"', 'code = "9503000099"', 1)
    pack = make_pack(source, stage="validated" if stage == "failed" else stage)
    before = status_of(pack)
    assert before == {"backtested": "validated"}.get(stage, stage)
    with pytest.raises(DatabaseError, match=message):
        raw_update(pack, assignment)
    assert status_of(pack) == before


def test_a_pack_cannot_be_inserted_active(make_pack):
    pack = make_pack(stage="backtested")
    with (
        pytest.raises(DatabaseError, match="a new pack starts as draft, not active"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO rulepacks_rulepack (tenant_id, jurisdiction, name, version, status, "
            "source, sha256, schedule_revision, gate_report, backtest_cases, "
            "backtest_cases_name, backtest_report, created_at, updated_at) "
            "SELECT tenant_id, jurisdiction, name, version, 'active', source, sha256, "
            "schedule_revision, gate_report, backtest_cases, backtest_cases_name, "
            "backtest_report, now(), now() FROM rulepacks_rulepack WHERE id = %s",
            [pack.pk],
        )
    assert not RulePack.objects.filter(status="active").exists()


def test_every_transition_the_services_make_is_allowed(make_pack, lead):
    bad = real_pack_source().replace('code = "9503000073"', 'code = "9503000099"', 1)
    pack = make_pack(bad, stage="validated")
    assert pack.status == "failed"  # draft -> failed
    pack = services.rulepack_update(actor=lead, pack=pack, source=real_pack_source())
    assert pack.status == "draft"  # failed -> draft
    pack = services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=cases_toml(12)
    )
    pack = services.rulepack_validate(actor=lead, pack=pack)
    assert pack.status == "validated"  # draft -> validated
    pack = services.rulepack_validate(actor=lead, pack=pack)
    assert pack.status == "validated"  # validated -> validated
    pack = services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=cases_toml(12)
    )
    assert pack.status == "draft"  # validated -> draft
    pack = services.rulepack_validate(actor=lead, pack=pack)
    pack = services.rulepack_update(actor=lead, pack=pack, source=bad)
    pack = services.rulepack_validate(actor=lead, pack=pack)
    assert pack.status == "failed"
    pack = services.rulepack_update(actor=lead, pack=pack, source=real_pack_source())
    pack = services.rulepack_validate(actor=lead, pack=pack)
    pack = services.rulepack_backtest(actor=lead, pack=pack)
    pack = services.rulepack_activate(actor=lead, pack=pack)
    assert status_of(pack) == "active"  # validated -> active
    newer = make_pack(real_pack_source().replace('version = "1"', 'version = "2"'), stage="active")
    assert (status_of(pack), status_of(newer)) == ("retired", "active")  # active -> retired
    discarded = make_pack(stage="validated")
    services.rulepack_discard(actor=lead, pack=discarded)
    assert not RulePack.objects.filter(pk=discarded.pk).exists()


def test_a_draft_stays_editable_by_raw_sql_within_the_editable_statuses(make_pack):
    pack = make_pack(stage="validated")
    raw_update(pack, "status = 'draft', gate_report = '{}'::jsonb")
    assert status_of(pack) == "draft"
    raw_update(pack, "status = 'failed'")
    assert status_of(pack) == "failed"
