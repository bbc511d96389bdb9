"""Webhook delivery from the outbox: fan-out, signed POSTs, retries with backoff, the feed.

Two steps, both safe to run in any number of workers at once:

1. ``dispatch_pending`` claims committed, pending outbox events (``FOR UPDATE SKIP LOCKED``),
   writes one ``WebhookDelivery`` per subscribed, enabled endpoint, appends finalizations to the
   feed, and marks the events dispatched — all in one short transaction.
2. ``deliver_due`` claims due deliveries with a lease (``status=sending``, ``next_attempt_at`` =
   lease expiry), POSTs them outside any transaction, and records each attempt. A worker that
   dies mid-send leaves a lease that expires and is claimed again, so delivery is at least once:
   receivers deduplicate on the event id header.

Nothing here runs in a request: the core only writes outbox rows, so imports, classification,
review and exports never wait on a receiver.
"""

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from http.client import HTTPException

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

import audit
from audit import outbox
from audit.models import OutboxEvent, OutboxStatus
from integrations import conf, netguard, signing
from integrations.models import (
    OPEN_DELIVERY_STATUSES,
    DeliveryStatus,
    FeedEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from metering import counters
from workbench import paths

log = logging.getLogger(__name__)

TEST_EVENT_TYPE = "webhook.test"
USER_AGENT = "CustomsWorkbench-Webhooks/1"
# First key of the advisory lock that serialises appends to one tenant's feed.
FEED_LOCK_NAMESPACE = 0x46454544  # "FEED"
# Seconds past the HTTP timeout before a ``sending`` lease is considered abandoned.
LEASE_GRACE_SECONDS = 55
_ENVELOPE_KEYS = {"type", "tenant", "occurred_at"}


@dataclass(frozen=True)
class DeliverReport:
    claimed: int = 0
    succeeded: int = 0
    retrying: int = 0
    dead: int = 0


def backoff_seconds(attempt: int) -> float:
    """Return the wait after failed attempt ``attempt`` (1-based): base × 3^(n-1), ±20 % jitter.

    With the defaults (60 s, 8 attempts) the waits are about 1, 3, 9, 27, 81, 243 and 729
    minutes: the eighth attempt comes about 18 hours after the first, the delivery is dead
    after roughly a day.
    """
    base = conf.get("WEBHOOK_BACKOFF_SECONDS") * 3 ** (attempt - 1)
    return base * random.uniform(0.8, 1.2)


def _decision_details(events: list[OutboxEvent]) -> dict[tuple[int, int], dict]:
    """Return ``{(tenant_id, decision_id): summary}`` for the decisions ``events`` name."""
    from classification.models import Decision

    wanted = {
        (e.tenant_id, int(e.payload["decision_id"]))
        for e in events
        if str(e.payload.get("decision_id", "")).isdigit()
    }
    if not wanted:
        return {}
    rows = Decision.objects.filter(pk__in={d for _, d in wanted}).values(
        "pk",
        "tenant_id",
        "outcome",
        "selected_code",
        "jurisdiction",
        "risk_band",
        "confidence",
        "reasons",
    )
    return {
        (row.pop("tenant_id"), row.pop("pk")): row
        for row in rows
        if (row["tenant_id"], row["pk"]) in wanted
    }


def envelope_for(event: OutboxEvent, decisions: dict | None = None) -> dict:
    """Return the JSON envelope receivers get for ``event``: id, type, time, tenant, data.

    ``decisions`` (from ``_decision_details``) adds the decision's outcome and codes; without it
    they are looked up.
    """
    payload = dict(event.payload)
    data = {k: v for k, v in payload.items() if k not in _ENVELOPE_KEYS}
    links = {}
    if isinstance(data.get("link"), str):
        links["html"] = conf.absolute(data["link"])
    if "decision_id" in data:
        links["api"] = conf.absolute(paths.site_path("api-v1:get_decision", data["decision_id"]))
        if decisions is None:
            decisions = _decision_details([event])
        summary = decisions.get((event.tenant_id, _int(data["decision_id"])))
        if summary:
            data["decision"] = summary
    data["links"] = links
    return {
        "id": f"evt_{event.pk}",
        "type": event.type,
        "created_at": payload.get("occurred_at") or event.created_at.isoformat(),
        "tenant": payload.get("tenant"),
        "data": data,
    }


def _int(value) -> int | None:
    return int(value) if str(value).isdigit() else None


def _feed_entry(event: OutboxEvent) -> FeedEntry:
    payload = event.payload
    finalized_by = payload.get("finalized_by") or payload.get("decided_by") or ""
    return FeedEntry(
        tenant_id=event.tenant_id,
        outbox_event=event,
        decision_id=int(payload["decision_id"]),
        product_id=int(payload["product_id"]),
        sku=str(payload["sku"])[:64],
        final_code=str(payload["final_code"])[:16],
        finalized_at=_when(payload, event),
        finalized_by=str(finalized_by)[:200],
        data=payload,
    )


def _when(payload: dict, event: OutboxEvent):
    for key in ("finalized_at", "decided_at", "occurred_at"):
        value = parse_datetime(str(payload.get(key) or ""))
        if value is not None:
            return value
    return event.created_at


def _append_to_feed(events: list[OutboxEvent]) -> int:
    entries = []
    for event in events:
        if event.type != outbox.DECISION_FINALIZED:
            continue
        try:
            entries.append(_feed_entry(event))
        except (KeyError, TypeError, ValueError):
            # One malformed payload must not hold up the outbox behind it.
            log.exception("outbox event %s: not a finalization the feed can hold", event.pk)
    for tenant_id in sorted({e.tenant_id for e in entries}):
        # Held until commit: the next append for this tenant takes its id after this one is
        # visible, so feed positions appear in increasing order (see FeedEntry).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [FEED_LOCK_NAMESPACE, tenant_id])
        FeedEntry.objects.bulk_create([e for e in entries if e.tenant_id == tenant_id])
    return len(entries)


def _fan_out(events: list[OutboxEvent], now) -> list[WebhookDelivery]:
    """Return one unsaved delivery per event and subscribed, enabled endpoint of its tenant."""
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(
        tenant_id__in={e.tenant_id for e in events}, enabled=True
    ):
        endpoints.setdefault(endpoint.tenant_id, []).append(endpoint)
    subscribers = {
        e.pk: [ep for ep in endpoints.get(e.tenant_id, []) if e.type in ep.event_types]
        for e in events
    }
    subscribed = [e for e in events if subscribers[e.pk]]
    decisions = _decision_details(subscribed)
    max_attempts = conf.get("WEBHOOK_MAX_ATTEMPTS")
    deliveries = []
    for event in subscribed:
        envelope = envelope_for(event, decisions)
        deliveries += [
            WebhookDelivery(
                tenant_id=event.tenant_id,
                endpoint=ep,
                outbox_event=event,
                event_id=envelope["id"],
                event_type=event.type,
                envelope=envelope,
                max_attempts=max_attempts,
                next_attempt_at=now,
            )
            for ep in subscribers[event.pk]
        ]
    return deliveries


def dispatch_pending(*, limit: int = 200) -> int:
    """Fan committed outbox events out to subscribed endpoints and the feed; return how many.

    One transaction: the events' deliveries and feed entries commit together with the events'
    ``dispatched`` mark, so an event is fanned out exactly once even with several workers.
    """
    now = timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, available_at__lte=now)
            .order_by("id")[:limit]
        )
        if not events:
            return 0
        deliveries = _fan_out(events, now)
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        _append_to_feed(events)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(
            status=OutboxStatus.DELIVERED, delivered_at=now, attempts=F("attempts") + 1
        )
    return len(events)


def _claim(now, limit: int) -> list[WebhookDelivery]:
    lease = timedelta(seconds=conf.get("WEBHOOK_TIMEOUT_SECONDS") + LEASE_GRACE_SECONDS)
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "tenant")
            .filter(
                status__in=OPEN_DELIVERY_STATUSES,
                next_attempt_at__lte=now,
                endpoint__enabled=True,
            )
            .order_by("next_attempt_at", "id")[:limit]
        )
        for delivery in due:
            delivery.status = DeliveryStatus.SENDING
            delivery.attempts += 1
            delivery.next_attempt_at = now + lease
        WebhookDelivery.objects.bulk_update(due, ["status", "attempts", "next_attempt_at"])
    return due


def deliver_due(*, now=None, limit: int = 50) -> DeliverReport:
    """Send every due delivery of enabled endpoints once; return what became of them.

    ``now`` decides which deliveries are due (tests move it forward to reach the next retry).
    """
    now = now or timezone.now()
    counts = {"succeeded": 0, "retrying": 0, "dead": 0}
    claimed = _claim(now, limit)
    for delivery in claimed:
        status = _attempt(delivery, now=now)
        if status in counts:
            counts[status] += 1
    return DeliverReport(claimed=len(claimed), **counts)


def _headers(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Workbench-Event-Id": delivery.event_id,
        "X-Workbench-Event-Type": delivery.event_type,
        "X-Workbench-Timestamp": str(timestamp),
        "X-Workbench-Signature": signing.sign(delivery.endpoint.secret, timestamp, body),
        "X-Workbench-Delivery": str(delivery.pk),
        "X-Workbench-Attempt": str(delivery.attempts),
    }


def body_bytes(envelope: dict) -> bytes:
    """Return the exact bytes POSTed for an envelope (stable across attempts)."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _send(delivery: WebhookDelivery) -> tuple[int | None, str, str, int]:
    body = body_bytes(delivery.envelope)
    timestamp = int(time.time())
    timeout = conf.get("WEBHOOK_TIMEOUT_SECONDS")
    started = time.monotonic()
    try:
        response = netguard.post(
            delivery.endpoint.url, body, _headers(delivery, body, timestamp), timeout=timeout
        )
    except netguard.DestinationRefused as err:
        return None, "", f"Refused: {err}", int((time.monotonic() - started) * 1000)
    except TimeoutError:
        return None, "", f"No answer within {timeout} s (timed out).", timeout * 1000
    except (OSError, HTTPException) as err:
        error = f"Could not reach the receiver: {err.__class__.__name__}: {err}"
        return None, "", error[:500], int((time.monotonic() - started) * 1000)
    return response.status, response.excerpt, "", response.latency_ms


def _attempt(delivery: WebhookDelivery, *, now) -> str:
    started_at = timezone.now()
    status_code, excerpt, error, latency = _send(delivery)
    ok = status_code is not None and 200 <= status_code < 300
    if ok:
        status, next_at, finished = DeliveryStatus.SUCCEEDED, delivery.next_attempt_at, started_at
    elif delivery.attempts >= delivery.max_attempts:
        status, next_at, finished = DeliveryStatus.DEAD, delivery.next_attempt_at, started_at
    else:
        status = DeliveryStatus.RETRYING
        next_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
        finished = None
    if not ok and not error:
        error = f"The receiver answered HTTP {status_code}."
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            n=delivery.attempts,
            started_at=started_at,
            latency_ms=latency,
            status_code=status_code,
            response_excerpt=excerpt,
            error=error,
        )
        # Only the holder of the current lease records the outcome.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
        ).update(
            status=status,
            next_attempt_at=next_at,
            last_status_code=status_code,
            last_error=error,
            finished_at=finished,
        )
        counters.add(tenant_id=delivery.tenant_id, metric=counters.webhook_deliveries(status))
    return status


@transaction.atomic
def delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue the same event (same id, same envelope) to the same endpoint again, now.

    A new delivery row with a fresh attempt budget; the original keeps its log. Audited as
    ``integrations.delivery.redelivered``; a worker is woken after commit.
    """
    copy = WebhookDelivery.objects.create(
        tenant=delivery.tenant,
        endpoint=delivery.endpoint,
        outbox_event=delivery.outbox_event,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        envelope=delivery.envelope,
        is_test=delivery.is_test,
        redelivery_of=delivery,
        max_attempts=conf.get("WEBHOOK_MAX_ATTEMPTS"),
        next_attempt_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        verb="integrations.delivery.redelivered",
        target=delivery.endpoint,
        data={"event_id": delivery.event_id, "delivery": delivery.pk, "new_delivery": copy.pk},
    )
    _wake_after_commit()
    return copy


@transaction.atomic
def endpoint_send_test(*, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a signed ``webhook.test`` event to ``endpoint`` (even if it subscribes to none).

    Audited as ``integrations.webhook.test_sent``; a worker is woken after commit.
    """
    now = timezone.now()
    event_id = f"evt_test_{uuid.uuid4().hex[:16]}"
    envelope = {
        "id": event_id,
        "type": TEST_EVENT_TYPE,
        "created_at": now.isoformat(),
        "tenant": endpoint.tenant.slug,
        "data": {
            "message": "A test event from the customs workbench. Verify its signature.",
            "sent_by": actor.get_username() if actor else "system",
            "links": {
                "html": conf.absolute(paths.tenant_path(endpoint.tenant, "integrations:index"))
            },
        },
    }
    delivery = WebhookDelivery.objects.create(
        tenant=endpoint.tenant,
        endpoint=endpoint,
        event_id=event_id,
        event_type=TEST_EVENT_TYPE,
        envelope=envelope,
        is_test=True,
        max_attempts=1,
        next_attempt_at=now,
    )
    audit.record(
        actor=actor,
        verb="integrations.webhook.test_sent",
        target=endpoint,
        data={"event_id": event_id, "delivery": delivery.pk},
    )
    _wake_after_commit()
    return delivery


def _wake_after_commit() -> None:
    from integrations import tasks

    transaction.on_commit(tasks.wake, robust=True)
