"""Webhook delivery against a real HTTP receiver on loopback."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit import outbox
from audit.models import AuditEvent, OutboxEvent
from catalog import services as catalog_services
from catalog.models import Product
from integrations import delivery, signing
from integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.integrations.conftest import finalize, make_decision, product_raw
from workbench.roles import Role


def _run(now=None):
    delivery.dispatch_pending()
    return delivery.deliver_due(now=now)


def _later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_finalized_decision_arrives_signed_once_with_codes_outcome_and_links(
    cast, receiver, endpoint_for
):
    endpoint = endpoint_for()
    decision = make_decision(cast.tenant, "TEE-1")
    event = finalize(decision, code="6109100040")
    report = _run()
    assert report.succeeded == 1
    assert receiver.bad_signatures == 0
    assert receiver.accepted_ids() == [f"evt_{event.pk}"]
    envelope = receiver.accepted[0]
    assert envelope["type"] == "decision.finalized" and envelope["tenant"] == "acme"
    data = envelope["data"]
    assert data["final_code"] == "6109100040" and data["sku"] == "TEE-1"
    assert data["decision"]["outcome"] == "needs_review"
    assert data["decision"]["selected_code"] == "6109100012"
    assert data["links"]["html"].endswith(f"/t/acme/classification/decisions/{decision.pk}/")
    assert data["links"]["api"].endswith(f"/api/v1/decisions/{decision.pk}")
    headers = receiver.requests[0]["headers"]
    assert headers["X-Workbench-Event-Id"] == f"evt_{event.pk}"
    assert headers["X-Workbench-Timestamp"].isdigit()
    assert headers["X-Workbench-Signature"].startswith("v1=")
    # Running again sends nothing more: the event was fanned out once and delivered.
    assert _run().claimed == 0
    assert len(receiver.accepted) == 1
    sent = WebhookDelivery.objects.get(endpoint=endpoint)
    assert sent.status == DeliveryStatus.SUCCEEDED and sent.attempts == 1
    attempt = sent.log.get()
    assert attempt.status_code == 200 and attempt.response_excerpt == "ok"
    event.refresh_from_db()
    assert event.status == "delivered"


def test_the_signature_covers_timestamp_and_body_with_the_endpoint_secret(
    cast, receiver, endpoint_for
):
    endpoint_for()
    finalize(make_decision(cast.tenant, "TEE-1"))
    _run()
    request = receiver.requests[0]
    timestamp = request["headers"]["X-Workbench-Timestamp"]
    signature = request["headers"]["X-Workbench-Signature"]
    now = int(timestamp)
    assert signing.verify(receiver.secret, timestamp, request["body"], signature, now=now)
    assert not signing.verify("whsec_other", timestamp, request["body"], signature, now=now)
    tampered = request["body"].replace(b"TEE-1", b"TEE-2")
    assert not signing.verify(receiver.secret, timestamp, tampered, signature, now=now)
    assert not signing.verify(receiver.secret, timestamp, request["body"], signature, now=now + 301)


def test_a_500_makes_the_sender_retry_with_backoff_until_it_is_accepted(
    cast, receiver, endpoint_for
):
    endpoint_for()
    receiver.plan = [500, 503]
    event = finalize(make_decision(cast.tenant, "TEE-1"))
    assert _run().retrying == 1
    sent = WebhookDelivery.objects.get()
    assert sent.status == DeliveryStatus.RETRYING and sent.last_status_code == 500
    first_wait = sent.next_attempt_at - timezone.now()
    assert timedelta(seconds=40) < first_wait < timedelta(seconds=80)
    assert delivery.deliver_due().claimed == 0  # not due yet
    assert delivery.deliver_due(now=_later(2)).retrying == 1
    sent.refresh_from_db()
    assert timedelta(minutes=2) < sent.next_attempt_at - _later(2) < timedelta(minutes=4)
    assert delivery.deliver_due(now=_later(10)).succeeded == 1
    assert receiver.accepted_ids() == [f"evt_{event.pk}"]
    assert len(receiver.requests) == 3
    assert [a.status_code for a in WebhookAttempt.objects.order_by("n")] == [500, 503, 200]


def test_a_receiver_that_times_out_is_retried(cast, receiver, endpoint_for, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    endpoint_for()
    receiver.plan = [("sleep", 2.5)]
    event = finalize(make_decision(cast.tenant, "TEE-1"))
    assert _run().retrying == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "timed out" in attempt.error
    assert receiver.accepted == []  # the slow answer was never taken as a delivery
    assert delivery.deliver_due(now=_later(2)).succeeded == 1
    assert receiver.accepted_ids() == [f"evt_{event.pk}"]


def test_the_default_timeout_is_five_seconds_and_eight_attempts():
    from integrations import conf

    assert conf.get("WEBHOOK_TIMEOUT_SECONDS") == 5
    assert conf.get("WEBHOOK_MAX_ATTEMPTS") == 8
    total = sum(60 * 3**n for n in range(7))
    assert timedelta(hours=15) < timedelta(seconds=total) < timedelta(hours=24)


def test_a_disabled_endpoint_receives_nothing_and_an_unsubscribed_type_is_not_sent(
    cast, receiver, endpoint_for
):
    endpoint_for(enabled=False)
    finalize(make_decision(cast.tenant, "TEE-1"))
    _run(now=_later(60))
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()
    endpoint_for(event_types=[outbox.RULEPACK_ACTIVATED])
    finalize(make_decision(cast.tenant, "TEE-2"))
    _run()
    assert receiver.requests == []


def test_deliveries_of_an_endpoint_disabled_later_wait_and_resume_when_enabled(
    cast, receiver, endpoint_for
):
    from integrations import services

    endpoint = endpoint_for()
    receiver.plan = [500]
    finalize(make_decision(cast.tenant, "TEE-1"))
    _run()
    lead = cast.users[Role.COMPLIANCE_LEAD]
    fields = {"url": endpoint.url, "event_types": endpoint.event_types, "description": ""}
    services.endpoint_update(actor=lead, endpoint=endpoint, enabled=False, **fields)
    assert delivery.deliver_due(now=_later(60)).claimed == 0
    assert len(receiver.requests) == 1
    services.endpoint_update(actor=lead, endpoint=endpoint, enabled=True, **fields)
    assert delivery.deliver_due(now=_later(60)).succeeded == 1
    assert len(receiver.accepted) == 1


def test_a_receiver_that_is_down_leaves_the_core_working_and_deliveries_die_after_the_limit(
    cast, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(event_types=[outbox.DECISION_FINALIZED])
    endpoint.url = "http://127.0.0.1:9/down"  # discard port: nothing listens
    endpoint.save()
    decisions = [make_decision(cast.tenant, f"TEE-{i}") for i in range(3)]
    # The core's writes commit (and wake the worker, which runs inline in tests) regardless.
    with django_capture_on_commit_callbacks(execute=True):
        for decision in decisions:
            finalize(decision)
        catalog_services.product_upsert(
            actor=cast.users[Role.ANALYST], tenant=cast.tenant, raw=product_raw("NEW-1")
        )
    assert Product.objects.filter(tenant=cast.tenant, sku="NEW-1").exists()
    assert OutboxEvent.objects.filter(status="pending").count() == 0
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == 3
    assert {d.status for d in deliveries} == {DeliveryStatus.RETRYING}
    assert "Could not reach the receiver" in deliveries.first().last_error
    minutes = 0
    for _ in range(12):
        minutes += 24 * 60 / 8
        delivery.deliver_due(now=_later(minutes))
    assert {d.status for d in deliveries.all()} == {DeliveryStatus.DEAD}
    assert {d.attempts for d in deliveries.all()} == {8}
    assert WebhookAttempt.objects.filter(delivery__endpoint=endpoint).count() == 24


def test_redelivery_sends_the_same_event_id_again(cast, receiver, endpoint_for):
    endpoint = endpoint_for()
    event = finalize(make_decision(cast.tenant, "TEE-1"))
    _run()
    original = WebhookDelivery.objects.get(endpoint=endpoint)
    copy = delivery.delivery_redeliver(actor=cast.users[Role.COMPLIANCE_LEAD], delivery=original)
    assert delivery.deliver_due().succeeded == 1
    assert receiver.accepted_ids() == [f"evt_{event.pk}", f"evt_{event.pk}"]
    assert copy.redelivery_of == original
    assert AuditEvent.objects.filter(verb="integrations.delivery.redelivered").exists()


def test_send_test_event_is_signed_and_logged(cast, receiver, endpoint_for):
    endpoint = endpoint_for()
    sent = delivery.endpoint_send_test(actor=cast.users[Role.COMPLIANCE_LEAD], endpoint=endpoint)
    assert delivery.deliver_due().succeeded == 1
    assert receiver.bad_signatures == 0
    assert receiver.accepted[0]["type"] == "webhook.test"
    assert receiver.accepted[0]["id"] == sent.event_id
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SUCCEEDED and sent.log.get().latency_ms >= 0


def test_the_body_is_the_same_bytes_on_every_attempt(cast, receiver, endpoint_for):
    endpoint_for()
    receiver.plan = [500]
    finalize(make_decision(cast.tenant, "TEE-1"))
    _run()
    delivery.deliver_due(now=_later(5))
    first, second = (r["body"] for r in receiver.requests)
    assert first == second
    assert json.loads(first)["data"]["sku"] == "TEE-1"


def test_an_event_fans_out_once_to_each_subscribed_endpoint_of_its_tenant_only(
    cast, receiver, endpoint_for
):
    mine_a = endpoint_for()
    mine_b = endpoint_for(event_types=[outbox.DECISION_FINALIZED, outbox.DECISION_CREATED])
    theirs = endpoint_for(tenant=cast.other_tenant)
    finalize(make_decision(cast.tenant, "TEE-1"))
    delivery.dispatch_pending()
    delivery.dispatch_pending()
    assert WebhookDelivery.objects.filter(endpoint=mine_a).count() == 1
    assert WebhookDelivery.objects.filter(endpoint=mine_b).count() == 1
    assert not WebhookDelivery.objects.filter(endpoint=theirs).exists()


@pytest.mark.parametrize("attempt, low, high", [(1, 48, 72), (2, 144, 216), (7, 34992, 52488)])
def test_backoff_grows_threefold_with_jitter(attempt, low, high):
    waits = [delivery.backoff_seconds(attempt) for _ in range(50)]
    assert all(low <= w <= high for w in waits)
    assert len({round(w, 3) for w in waits}) > 1


def test_only_events_someone_waits_for_wake_a_worker(
    cast, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from integrations import tasks

    def emit(type, **payload):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            outbox.emit(tenant=cast.tenant, type=type, payload=payload)
        return [c for c in callbacks if c is tasks.wake]

    export = {"export_id": 1, "sha256": "0" * 64, "link": "/t/acme/audit/exports/1/"}
    assert emit(outbox.AUDIT_EXPORT_READY, **export) == []
    endpoint_for(event_types=[outbox.AUDIT_EXPORT_READY])
    assert emit(outbox.AUDIT_EXPORT_READY, **export) == [tasks.wake]


def test_finalizations_wake_a_worker_once_per_transaction(cast, django_capture_on_commit_callbacks):
    from django.db import transaction

    from integrations import tasks

    decision = make_decision(cast.tenant, "TEE-1")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        finalize(decision)
        finalize(decision)
    assert [c for c in callbacks if c is tasks.wake] == [tasks.wake]  # once per transaction
