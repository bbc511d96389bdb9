"""The final-classifications feed: every finalization exactly once, in cursor order."""

import threading
import time

import pytest
from django.db import connection, transaction

from integrations import delivery, selectors
from integrations.models import FeedEntry
from tests.integrations.conftest import finalize, make_decision


def _poll(client, cursor, limit=2):
    params = {"limit": limit, **({"after": cursor} if cursor else {})}
    body = client.get("/api/v1/final-classifications", params).json()
    return body["items"], body["next_cursor"], body["has_more"]


def test_finalizing_while_paging_shows_every_decision_exactly_once(cast, api_for):
    client = api_for("read")
    decisions = [make_decision(cast.tenant, f"SKU-{i}") for i in range(9)]
    seen, cursor = [], None
    pending = list(decisions)
    rounds = 0
    while pending or rounds < 2:
        # Finalize a few more between polls, as brokers do while the ERP pages.
        for decision in pending[:2]:
            finalize(decision, code=f"61091000{decision.pk % 100:02d}")
        pending = pending[2:]
        delivery.dispatch_pending()
        items, cursor, has_more = _poll(client, cursor)
        seen += items
        while has_more:
            items, cursor, has_more = _poll(client, cursor)
            seen += items
        rounds += 1
    decision_ids = [item["decision_id"] for item in seen]
    assert sorted(decision_ids) == sorted(d.pk for d in decisions)
    assert len(decision_ids) == len(set(decision_ids))
    positions = [item["position"] for item in seen]
    assert positions == sorted(positions)
    assert seen[0]["final_code"].startswith("61091000") and seen[0]["finalized_by"] == "acme-broker"
    # Polling again with the last cursor returns nothing and keeps the cursor.
    items, again, has_more = _poll(client, cursor)
    assert (items, again, has_more) == ([], cursor, False)


def test_a_later_override_appears_again_with_its_new_code(cast, api_for):
    decision = make_decision(cast.tenant, "SKU-1")
    finalize(decision, code="6109100012")
    finalize(decision, code="6109100040")
    delivery.dispatch_pending()
    items, _, _ = _poll(api_for("read"), None, limit=10)
    assert [i["final_code"] for i in items] == ["6109100012", "6109100040"]


def test_the_feed_is_per_tenant(cast, api_for):
    finalize(make_decision(cast.other_tenant, "THEIRS"))
    delivery.dispatch_pending()
    assert _poll(api_for("read"), None)[0] == []
    assert _poll(api_for("read", tenant=cast.other_tenant), None)[0][0]["sku"] == "THEIRS"


def test_an_event_is_appended_once_even_if_dispatch_runs_twice(cast):
    finalize(make_decision(cast.tenant, "SKU-1"))
    delivery.dispatch_pending()
    delivery.dispatch_pending()
    assert FeedEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_append_committing_late_is_never_overtaken_by_a_later_one(cast, monkeypatch):
    """Two dispatchers: the first holds its append open; the second must not become visible
    before it (a reader would move its cursor past the first and miss it forever)."""
    from integrations import tasks

    monkeypatch.setattr(tasks, "wake", lambda: None)  # drive the dispatchers by hand
    first = make_decision(cast.tenant, "FIRST")
    second = make_decision(cast.tenant, "SECOND")
    finalize(first)
    appended, release = threading.Event(), threading.Event()
    errors = []

    def slow_dispatcher():
        try:
            with transaction.atomic():
                delivery.dispatch_pending()
                appended.set()
                release.wait(10)
        except Exception as err:  # surfaced by the assertion below
            errors.append(err)
        finally:
            connection.close()

    def other_dispatcher():
        try:
            delivery.dispatch_pending()
        except Exception as err:
            errors.append(err)
        finally:
            connection.close()

    slow = threading.Thread(target=slow_dispatcher)
    slow.start()
    assert appended.wait(10)
    finalize(second)
    other = threading.Thread(target=other_dispatcher)
    other.start()
    time.sleep(0.5)
    assert other.is_alive(), "the second append must wait for the first to commit"
    page = selectors.feed_page(tenant=cast.tenant, after=0, limit=10)
    assert page.items == []
    release.set()
    slow.join(10)
    other.join(10)
    assert errors == []
    page = selectors.feed_page(tenant=cast.tenant, after=0, limit=10)
    assert [e.sku for e in page.items] == ["FIRST", "SECOND"]


def test_a_malformed_finalization_does_not_hold_up_the_outbox(cast):
    from audit import outbox
    from audit.models import OutboxEvent

    with transaction.atomic():
        outbox.emit(
            tenant=cast.tenant,
            type=outbox.DECISION_FINALIZED,
            payload={
                "decision_id": "not-a-number",
                "product_id": 1,
                "sku": "X",
                "final_code": "6109100012",
                "link": "/t/acme/",
            },
        )
    finalize(make_decision(cast.tenant, "GOOD"))
    assert delivery.dispatch_pending() == 2
    assert not OutboxEvent.objects.filter(status="pending").exists()
    assert [e.sku for e in FeedEntry.objects.all()] == ["GOOD"]
