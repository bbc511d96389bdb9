import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

import audit
from audit import verify
from audit.models import GENESIS_HASH, AuditEvent
from tests.factories import TenantFactory, UserFactory


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="chain")


def _record(tenant, n=1, verb="catalog.product.created"):
    return [
        audit.record(
            actor=None,
            verb=verb,
            tenant=tenant,
            target=("catalog.product", i),
            data={"i": i, "price": "1.50"},
        )
        for i in range(n)
    ]


def test_events_link_into_a_chain_per_tenant(tenant):
    other = TenantFactory(slug="other-chain")
    first, second = _record(tenant, 2)
    theirs = _record(other, 1)[0]
    assert first.prev_hash == GENESIS_HASH and first.seq == 1
    assert second.prev_hash == first.hash and second.seq == 2
    assert theirs.seq == 1 and theirs.prev_hash == GENESIS_HASH
    assert verify.verify_chain(tenant.pk).ok and verify.verify_chain(tenant.pk).checked == 2


def test_a_verb_that_is_not_namespaced_is_refused(tenant):
    with pytest.raises(ValueError, match=r"app\.entity\.past_tense"):
        audit.record(actor=None, verb="created", tenant=tenant)
    assert not AuditEvent.objects.exists()


def test_raw_sql_update_and_delete_are_refused_by_the_database(tenant):
    event = _record(tenant)[0]
    for sql in (
        "UPDATE audit_auditevent SET verb = 'x.y.z' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    event.refresh_from_db()
    assert event.verb == "catalog.product.created"


def test_an_event_rolled_back_with_its_change_leaves_no_trace(tenant):
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(tenant)
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(tenant=tenant).exists()


def _tamper(event_id, sql):
    with connection.cursor() as cursor:
        # Deferred foreign-key checks must fire before the table can be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, [event_id])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_audit_verify_names_the_first_edited_event(tenant, capsys):
    events = _record(tenant, 4)
    call_command("audit_verify", tenant="chain")
    assert "4 events verified" in capsys.readouterr().out
    _tamper(events[2].pk, "UPDATE audit_auditevent SET data = '{\"i\": 99}' WHERE id = %s")
    with pytest.raises(CommandError) as err:
        call_command("audit_verify", tenant="chain")
    assert f"event id {events[2].pk} (seq 3)" in str(err.value)
    assert "altered" in str(err.value)


def test_audit_verify_notices_a_deleted_event(tenant):
    events = _record(tenant, 3)
    _tamper(events[1].pk, "DELETE FROM audit_auditevent WHERE id = %s")
    report = verify.verify_chain(tenant.pk)
    assert not report.ok and report.bad_event_id == events[2].pk
    assert "missing" in report.problem


def test_audit_verify_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("audit_verify", tenant="nope")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    tenant = TenantFactory(slug="race")
    errors = []

    def write():
        try:
            for _ in range(10):
                with transaction.atomic():
                    _record(tenant)
        except Exception as err:  # reported below
            errors.append(err)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify.verify_chain(tenant.pk)
    assert report.ok and report.checked == 40


def test_record_many_appends_in_order_to_the_same_chain(tenant):
    from audit import services

    first = _record(tenant)[0]
    many = services.record_many(
        tenant=tenant,
        entries=[
            {
                "actor": None,
                "verb": "classification.decision.created",
                "target": ("classification.decision", i),
                "data": {"i": i},
            }
            for i in range(3)
        ],
    )
    last = _record(tenant)[0]
    assert [e.seq for e in many] == [2, 3, 4] and last.seq == 5
    assert many[0].prev_hash == first.hash and last.prev_hash == many[-1].hash
    assert verify.verify_chain(tenant.pk).ok


def test_record_many_refuses_a_bad_verb_before_writing_anything(tenant):
    from audit import services

    with pytest.raises(ValueError, match="past_tense"):
        services.record_many(
            tenant=tenant, entries=[{"verb": "catalog.product.created"}, {"verb": "oops"}]
        )
    assert not AuditEvent.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    ("label", "data", "micro"),
    [
        ('quote " backslash \\ tab \t', {"é": "ünïcode ✓", "n": 1.5, "x": None}, 0),
        ("emoji 🧾 and </script>", {"nested": {"b": [1, 2.0, True], "a": "\u2028"}}, 7),
        ("", {}, 999999),
        ("big numbers", {"i": 10**20, "f": 1e-7, "neg": -0.0, "d": "1.50"}, 500000),
    ],
)
def test_verify_recomputes_exactly_the_recorded_hashes(tenant, label, data, micro):
    import datetime as dt
    from unittest import mock

    at = dt.datetime(2026, 11, 22, 1, 2, 3, micro, tzinfo=dt.UTC)
    with mock.patch("audit.services.timezone.now", return_value=at):
        event = audit.record(
            actor=None,
            actor_label=label or None,
            verb="catalog.product.updated",
            tenant=tenant,
            target=("catalog.product", "ü-1", label),
            data=data,
        )
    event.refresh_from_db()
    assert verify.verify_chain(tenant.pk).ok
    row_text = verify.payload_text(tenant.pk, _row(event))
    from audit import canonical

    assert row_text == canonical.dumps(event.chain_payload())


def _row(event):
    with connection.cursor() as cursor:
        cursor.execute(verify.select_sql(event.tenant_id, f" AND id = {int(event.pk)}"))
        return cursor.fetchone()


def test_the_system_chain_of_log_ins_verifies(db):
    audit.record(actor=None, actor_label="anonymous (x)", verb="workbench.user.login_failed")
    report = verify.verify_chain(None)
    assert report.ok and report.checked == 1


def test_the_connection_stays_usable_after_a_broken_chain_is_found(tenant):
    events = _record(tenant, 5)
    _tamper(events[1].pk, "UPDATE audit_auditevent SET verb = 'x.y.z' WHERE id = %s")
    assert not verify.verify_chain(tenant.pk).ok
    assert AuditEvent.objects.filter(tenant=tenant).count() == 5


def test_audit_verify_all_checks_every_chain_and_names_each_broken_one(tenant, capsys):
    other = TenantFactory(slug="other-chain")
    _record(other, 2)
    events = _record(tenant, 3)
    audit.record(actor=None, actor_label="anonymous (x)", verb="workbench.user.login_failed")
    call_command("audit_verify", all=True)
    out = capsys.readouterr().out
    assert "tenant chain: 3 events verified" in out and "tenant other-chain: 2 events" in out
    assert "system chain: 1 events verified" in out
    _tamper(events[0].pk, "UPDATE audit_auditevent SET verb = 'x.y.z' WHERE id = %s")
    with pytest.raises(CommandError) as err:
        call_command("audit_verify", all=True)
    assert f"tenant chain: chain broken at event id {events[0].pk} (seq 1)" in str(err.value)
    assert "other-chain" not in str(err.value)


def _head_line(capsys, **options) -> str:
    call_command("audit_head", **options)
    return capsys.readouterr().out.strip()


def test_audit_head_prints_the_newest_event_as_options_for_audit_verify(tenant, capsys):
    events = _record(tenant, 3)
    line = _head_line(capsys, tenant="chain")
    assert line.startswith(f"--tenant chain --expect-head {events[-1].hash}  # seq 3, ")
    assert f"event id {events[-1].pk}, {events[-1].created_at.isoformat()}" in line
    every = _head_line(capsys).splitlines()
    assert line in every and every[-1].startswith("--system --expect-head ")


def test_audit_verify_passes_while_the_expected_head_is_in_the_chain(tenant, capsys):
    head = _record(tenant, 3)[-1].hash
    call_command("audit_verify", tenant="chain", expect_head=head)
    assert f"the expected head {head} is in the chain" in capsys.readouterr().out
    _record(tenant, 2)  # later events chain from the stored head
    call_command("audit_verify", tenant="chain", expect_head=head.upper())
    assert "5 events verified" in capsys.readouterr().out


def test_audit_verify_fails_when_the_newest_events_were_deleted(tenant):
    events = _record(tenant, 4)
    head = events[-1].hash
    for event in events[2:]:
        _tamper(event.pk, "DELETE FROM audit_auditevent WHERE id = %s")
    call_command("audit_verify", tenant="chain")  # what remains still verifies on its own
    with pytest.raises(CommandError) as err:
        call_command("audit_verify", tenant="chain", expect_head=head)
    assert f"the expected head {head} is no longer in the chain (now 2 events" in str(err.value)
    assert "deleted" in str(err.value)


def test_audit_verify_fails_when_the_newest_events_were_replaced(tenant):
    events = _record(tenant, 3)
    _tamper(events[-1].pk, "DELETE FROM audit_auditevent WHERE id = %s")
    _record(tenant, 2)  # appended again from seq 3: a valid chain without the stored head
    with pytest.raises(CommandError, match="is no longer in the chain"):
        call_command("audit_verify", tenant="chain", expect_head=events[-1].hash)


def test_audit_verify_refuses_a_head_of_another_chain_or_a_bad_hash(tenant):
    other = TenantFactory(slug="other-chain")
    _record(tenant, 1)
    theirs = _record(other, 1)[0]
    with pytest.raises(CommandError, match="belongs to another chain"):
        call_command("audit_verify", tenant="chain", expect_head=theirs.hash)
    with pytest.raises(CommandError, match="is not a SHA-256"):
        call_command("audit_verify", tenant="chain", expect_head="abc")
    with pytest.raises(CommandError, match="names one chain"):
        call_command("audit_verify", all=True, expect_head=theirs.hash)


def test_audit_verify_still_reports_a_broken_chain_before_the_head(tenant):
    events = _record(tenant, 3)
    _tamper(events[0].pk, "UPDATE audit_auditevent SET data = '{\"i\": 9}' WHERE id = %s")
    with pytest.raises(CommandError, match=f"chain broken at event id {events[0].pk}"):
        call_command("audit_verify", tenant="chain", expect_head=events[-1].hash)


def test_events_inside_as_system_name_the_system_actor_not_the_user_passed(tenant):
    user = UserFactory(username="chain-broker")
    with audit.as_system("demo data"):
        inside = audit.record(actor=user, verb="catalog.product.created", tenant=tenant)
        labelled = audit.record(
            actor=None, actor_label="classification worker", verb="catalog.product.created"
        )
    after = audit.record(actor=user, verb="catalog.product.created", tenant=tenant)
    assert (inside.actor, inside.actor_label) == (None, "demo data")
    assert (labelled.actor, labelled.actor_label) == (None, "demo data")
    assert (after.actor, after.actor_label) == (user, "chain-broker")
    assert verify.verify_chain(tenant.pk).ok
