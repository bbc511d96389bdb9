"""The queue's search and filters, the reason at a glance, density, labels, and undo."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, OutboxEvent
from catalog.models import Product
from classification.models import ReviewAction, ReviewState
from classification.review import selectors, services
from integrations import delivery
from integrations.models import FeedEntry
from tests.classification.review import conftest as review_conftest
from tests.classification.review.conftest import MENS, WOMENS
from tests.conftest import let_undo_windows_pass
from workbench.roles import Role


def url(name, *args):
    return reverse(f"classification:{name}", args=["acme", *args])


def rows_of(body: str) -> int:
    return body.count("data-review-row ")


@pytest.fixture
def catalog_of_three(make_decision, make_products):
    """A sweater, a leather handbag and a battery pack, each waiting in Needs review."""
    sweater = make_decision(make_products(1, prefix="KNIT")[0])
    bag = make_decision(
        make_products(
            1,
            prefix="BAG",
            Name="Tote of calf leather",
            Description="Handbag with outer surface of leather, shoulder strap",
            Materials="leather",
        )[0],
        risk="high",
        reasons=("restricted_goods",),
    )
    power = make_decision(
        make_products(
            1,
            prefix="PWR",
            Name="Power bank 10000 mAh",
            Description="Portable lithium-ion battery pack for phones",
            Materials="plastic",
        )[0]
    )
    return sweater, bag, power


def test_search_matches_sku_name_and_description_and_stays_in_the_url(cast, catalog_of_three):
    _sweater, bag, power = catalog_of_three
    client = cast.client(Role.BROKER)
    by_sku = client.get(url("index") + "?q=bag-0").content.decode()
    assert bag.product.sku in by_sku and rows_of(by_sku) == 1
    by_name = client.get(url("index") + "?q=power+BANK").content.decode()
    assert power.product.sku in by_name and rows_of(by_name) == 1
    by_description = client.get(url("index") + "?q=lithium-ion").content.decode()
    assert power.product.sku in by_description and rows_of(by_description) == 1
    # Every word must match; the search is kept in the panel links and the pager.
    assert rows_of(client.get(url("index") + "?q=leather+battery").content.decode()) == 0
    assert f"/review/{power.pk}/?queue=needs_review&amp;q=lithium-ion" in by_description


def test_filters_combine_and_the_counts_per_queue_follow_them(cast, catalog_of_three):
    _sweater, bag, power = catalog_of_three
    broker = cast.users[Role.BROKER]
    services.review_escalate(actor=broker, state=power, version=1, route="legal", note="dual use?")
    client = cast.client(Role.BROKER)
    body = client.get(url("index") + "?q=leather&risk=high&reason=restricted_goods").content
    body = body.decode()
    assert bag.product.sku in body and rows_of(body) == 1
    assert 'data-count="needs_review">1<' in body
    assert 'data-count="escalated_legal">0<' in body
    body = client.get(url("index") + "?q=lithium").content.decode()
    assert 'data-count="needs_review">0<' in body and 'data-count="escalated_legal">1<' in body
    assert "Counts per queue follow these filters." in body
    # Unfiltered, the counts are the queue sizes.
    body = client.get(url("index")).content.decode()
    assert 'data-count="needs_review">2<' in body and "data-filter-note" not in body
    body = client.get(url("index") + "?q=lithium&risk=high").content.decode()
    assert rows_of(body) == 0 and 'data-count="escalated_legal">0<' in body


def test_the_source_filter_keeps_rows_whose_winning_evidence_came_from_it(cast, catalog_of_three):
    sweater, bag, power = catalog_of_three
    ReviewState.objects.filter(pk=bag.pk).update(evidence_source="precedent", rule_id="")
    ReviewState.objects.filter(pk=power.pk).update(evidence_source="semantic", rule_id="")
    client = cast.client(Role.BROKER)
    for source, expected in (("rule", sweater), ("precedent", bag), ("search", power)):
        body = client.get(url("index") + f"?source={source}").content.decode()
        assert expected.product.sku in body and rows_of(body) == 1, source


def test_a_search_matching_more_products_than_the_cap_says_so(cast, make_decision, monkeypatch):
    for _ in range(3):
        make_decision()
    monkeypatch.setattr(selectors.queues, "SEARCH_CAP", 2)
    body = cast.client(Role.BROKER).get(url("index") + "?q=pullover").content.decode()
    assert "data-search-capped" in body and "only the first 2 are searched" in body
    assert rows_of(body) == 2


def evidence_with(monkeypatch, **best):
    """Make the next decisions' best candidate carry ``best`` (decisions are immutable)."""
    original = review_conftest.evidence_for

    def evidence_for(*args, **kwargs):
        evidence = original(*args, **kwargs)
        evidence["candidates"][0].update(best)
        return evidence

    monkeypatch.setattr(review_conftest, "evidence_for", evidence_for)


def test_each_row_shows_the_code_its_confidence_where_it_came_from_and_whole_reasons(
    cast, make_decision, monkeypatch
):
    rule = make_decision(reasons=("agency_requirements", "restricted_goods"))
    evidence_with(
        monkeypatch,
        sources=[
            {
                "kind": "precedent",
                "ref": "17",
                "weight": 0.7,
                "detail": {"broker": "ines", "decided_at": "2026-03-04T10:00:00+00:00"},
            }
        ],
    )
    precedent = make_decision(confidence=0.64)
    assert ReviewState.objects.get(pk=precedent.pk).evidence_source == "precedent"
    body = cast.client(Role.BROKER).get(url("index")).content.decode()
    assert "6110.20.20.10" in body and "71%" in body and "64%" in body
    assert 'data-source="rule"' in body and "knit-cotton-sweater" in body
    assert 'data-source="precedent"' in body and "#17 ines 2026-03-04" in body
    # Reason chips are whole: "agency requirements", not "agency require".
    assert ">agency requirements<" in body and ">restricted goods<" in body
    assert rule.product.sku in body


def test_density_is_remembered_for_the_reviewer(cast, make_decision):
    make_decision()
    client = cast.client(Role.BROKER)
    assert "density-comfortable" in client.get(url("index")).content.decode()
    response = client.post(url("review_density"), {"density": "compact", "queue": "blocked"})
    assert response.status_code == 302 and response["Location"].endswith("?queue=blocked")
    assert "density-compact" in client.get(url("index")).content.decode()
    client.post(url("review_density"), {"density": "sideways"})
    assert "density-compact" in client.get(url("index")).content.decode()


def test_the_panel_labels_facts_in_the_catalogs_order_and_words_waiting_facts(cast, make_decision):
    state = make_decision()
    services.review_request_info(
        actor=cast.users[Role.BROKER],
        state=state,
        version=1,
        missing_facts=["materials", "product_type"],
        message="Which yarn?",
    )
    client = cast.client(Role.BROKER)
    body = client.get(url("review_panel", state.pk)).content.decode()
    assert "<dt>Country of origin</dt>" in body and "Countryoforigin" not in body
    assert body.index("<dt>Description</dt>") < body.index("<dt>Country of origin</dt>")
    assert body.index("<dt>Country of origin</dt>") < body.index("<dt>Materials</dt>")
    assert "Waiting for: materials, product type" in body
    queue = client.get(url("index") + "?queue=info_requested").content.decode()
    assert "waiting for: materials, product type" in queue
    assert "product_type" not in queue.split("data-review-queue")[1].split("</table>")[0]


def test_candidates_show_their_own_line_and_parent_first_with_the_products_words_marked(
    cast, make_decision, monkeypatch
):
    evidence_with(
        monkeypatch,
        description="Jerseys, pullovers, cardigans, waistcoats and similar articles, knitted or"
        " crocheted › Of cotton › Sweaters › Men's",
    )
    state = make_decision()
    body = cast.client(Role.BROKER).get(url("decision", state.pk)).content.decode()
    assert "data-candidate-line><mark>Men&#x27;s</mark></span>" in body
    assert "under: <mark>Sweaters</mark>" in body
    assert "<summary>Full heading</summary>" in body and "<mark>pullovers</mark>" in body
    panel = cast.client(Role.BROKER).get(url("review_panel", state.pk)).content.decode()
    assert "under: <mark>Sweaters</mark>" in panel


def accept_over_http(client, state):
    return client.post(
        url("review_accept", state.pk), {"accept-version": "1"}, headers={"HX-Request": "true"}
    )


def test_undo_after_accept_restores_the_item_and_cancels_the_announcement(cast, make_decision):
    state = make_decision()
    product = Product.objects.get(pk=state.product_id)
    before = (product.classification_status, product.final_code)
    client = cast.client(Role.BROKER)
    response = accept_over_http(client, state)
    body = response.content.decode()
    # The Undo toast comes out of band, outside the panel, naming the item.
    assert 'id="review-undo"' in body and 'hx-swap-oob="true"' in body
    assert f"{state.product.sku}: accepted 6110.20.20.10." in body
    event = OutboxEvent.objects.get(type="decision.finalized", target_id=str(state.pk))
    assert event.status == "pending" and event.available_at > timezone.now()

    response = client.post(
        url("review_undo", state.pk), {"undo-version": "2"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.content.decode()
    assert "is undone; nothing was announced" in response.content.decode()
    fresh = ReviewState.objects.get(pk=state.pk)
    assert (fresh.status, fresh.queue, fresh.final_code, fresh.decided_by) == (
        "open",
        "needs_review",
        "",
        None,
    )
    product.refresh_from_db()
    assert (product.classification_status, product.final_code) == before
    event.refresh_from_db()
    assert event.status == "cancelled"
    # An audited reversal: both actions stay in the history.
    kinds = list(
        ReviewAction.objects.filter(decision_id=state.pk)
        .order_by("version")
        .values_list("kind", flat=True)
    )
    assert kinds == ["accept", "undo"]
    assert AuditEvent.objects.filter(verb="classification.review.undone").count() == 1
    let_undo_windows_pass()
    delivery.dispatch_pending()
    assert not FeedEntry.objects.filter(decision_id=state.pk).exists()


def test_undo_after_delivery_is_refused_and_points_to_reopen(cast, make_decision):
    state = make_decision()
    client = cast.client(Role.BROKER)
    accept_over_http(client, state)
    let_undo_windows_pass()
    delivery.dispatch_pending()  # the ERP heard of it
    response = client.post(
        url("review_undo", state.pk), {"undo-version": "2"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "has already been announced to other systems" in body and "reopen" in body
    assert ReviewState.objects.get(pk=state.pk).status == "final"
    assert FeedEntry.objects.filter(decision_id=state.pk).count() == 1


def test_undo_after_the_window_or_by_someone_else_is_refused(cast, make_decision):
    state = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    with pytest.raises(ValidationError, match="Only the person who acted"):
        services.review_undo(actor=cast.users[Role.COMPLIANCE_LEAD], state=state, version=2)
    later = timezone.now() + dt.timedelta(seconds=services.UNDO_SECONDS + 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timezone, "now", lambda: later)
        with pytest.raises(ValidationError, match="undo window has passed"):
            services.review_undo(actor=cast.users[Role.BROKER], state=state, version=2)
    assert ReviewState.objects.get(pk=state.pk).status == "final"


def test_undoing_an_override_of_a_final_code_gives_the_old_code_back(
    cast, make_decision, us_schedule
):
    state = make_decision()
    broker = cast.users[Role.BROKER]
    services.review_accept(actor=broker, state=state, version=1)
    let_undo_windows_pass()
    delivery.dispatch_pending()
    services.review_override(
        actor=broker,
        state=ReviewState.objects.get(pk=state.pk),
        version=2,
        code=WOMENS,
        reason_code="supplier_evidence",
        note="women's cut after all",
    )
    services.review_undo(actor=broker, state=ReviewState.objects.get(pk=state.pk), version=3)
    fresh = ReviewState.objects.get(pk=state.pk)
    assert (fresh.status, fresh.final_code, fresh.decided_by) == ("final", MENS, broker)
    assert Product.objects.get(pk=state.product_id).final_code == MENS
    finalized = OutboxEvent.objects.filter(type="decision.finalized", target_id=str(state.pk))
    assert sorted(finalized.values_list("status", flat=True)) == ["cancelled", "delivered"]


def test_undo_gives_back_the_older_final_decision_an_accept_superseded(cast, make_decision):
    broker = cast.users[Role.BROKER]
    older = make_decision()
    services.review_accept(actor=broker, state=older, version=1)
    newer = make_decision(product=Product.objects.get(pk=older.product_id), code=WOMENS)
    assert ReviewState.objects.get(pk=older.pk).status == "final"
    services.review_accept(actor=broker, state=newer, version=1)
    assert ReviewState.objects.get(pk=older.pk).status == "superseded"
    services.review_undo(actor=broker, state=ReviewState.objects.get(pk=newer.pk), version=2)
    restored = ReviewState.objects.get(pk=older.pk)
    assert (restored.status, restored.queue, restored.final_code) == ("final", "final", MENS)
    assert Product.objects.get(pk=older.product_id).final_code == MENS


def test_the_panel_offers_undo_only_to_the_actor_within_the_window(cast, make_decision):
    state = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    mine = cast.client(Role.BROKER).get(url("review_panel", state.pk)).content.decode()
    assert "data-undo " in mine and 'aria-keyshortcuts="u"' in mine
    theirs = cast.client(Role.COMPLIANCE_LEAD).get(url("review_panel", state.pk)).content
    assert b"data-undo " not in theirs


def test_small_fixes_favicon_members_label_and_one_product(cast, make_decision):
    state = make_decision()
    response = cast.client(Role.TENANT_ADMIN).get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    from django.test import Client

    assert Client().get("/favicon.ico").status_code == 301  # no login needed
    nav = cast.client(Role.TENANT_ADMIN).get("/t/acme/members/").content.decode()
    assert ">Members</a>" in nav and ">Settings</a>" not in nav
    request = state.decision.job.request_id
    body = cast.client(Role.BROKER).get(url("request", request)).content.decode()
    assert "1 product ·" in body
