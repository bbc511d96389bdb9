"""Review pages: access matrix, queues, the panel, actions over HTTP, conflicts, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classification.models import ReviewAction, ReviewState
from classification.review import services
from tests.classification.review.conftest import MENS
from tests.matrix import check_access_matrix
from workbench.roles import Role

READERS = set(Role.values) - {Role.TENANT_ADMIN}
ACTORS = {Role.BROKER, Role.COMPLIANCE_LEAD}


def url(name, *args):
    return reverse(f"classification:{name}", args=["acme", *args])


@pytest.mark.parametrize(
    "queue",
    [
        "confirm",
        "needs_review",
        "blocked",
        "escalated_legal",
        "info_requested",
        "spot_check",
        "mine",
        "decided",
    ],
)
def test_every_queue_is_readable_by_every_member_role(cast, make_decision, queue):
    make_decision()
    check_access_matrix(cast, f"{url('index')}?queue={queue}", set(Role.values))


def test_the_panel_matrix_and_another_tenants_decision_is_404(cast, make_decision):
    state = make_decision()
    check_access_matrix(cast, url("review_panel", state.pk), set(Role.values))
    theirs = make_decision(tenant=cast.other_tenant)
    response = cast.client(Role.BROKER).get(url("review_panel", theirs.pk))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("review_accept", {"accept-version": "{v}"}),
        (
            "review_escalate",
            {"escalate-version": "{v}", "escalate-route": "legal", "escalate-note": "why"},
        ),
        (
            "review_request_info",
            {
                "request_info-version": "{v}",
                "request_info-missing_facts": "materials",
                "request_info-message": "which?",
            },
        ),
        ("review_assign", {"assign-version": "{v}"}),
        (
            "review_override",
            {
                "override-version": "{v}",
                "override-code": "6110.20.20.20",
                "override-reason_code": "other",
                "override-note": "Women's cut.",
            },
        ),
    ],
)
def test_action_matrix_brokers_and_leads_act_others_are_refused(
    cast, make_decision, us_schedule, name, data
):
    # Each permitted role acts on its own fresh item; refused roles never change anything.
    states = iter([make_decision() for _ in range(3)])
    current = {"state": next(states)}

    def post_url():
        return url(name, current["state"].pk)

    for who in ["anonymous", "outsider", *Role.values]:
        client = cast.client(who)
        state = current["state"]
        form = {k: v.format(v=state.version) for k, v in data.items()}
        response = client.post(post_url(), form)
        if who == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        elif who == "outsider":
            assert response.status_code == 404
        elif who in ACTORS:
            assert response.status_code == 302, (who, response.status_code)
            current["state"] = next(states)
        else:
            assert response.status_code == 403, (who, response.status_code)
    assert ReviewAction.objects.count() == 2


def test_release_matrix(cast, make_decision):
    state = make_decision()  # not assigned: permitted roles hear why (422), others get 403
    check_access_matrix(
        cast,
        url("review_release", state.pk),
        ACTORS,
        method="post",
        data={"release-version": "1"},
        ok=(422,),
    )


def test_bulk_accept_matrix(cast):
    check_access_matrix(
        cast, url("review_bulk_accept"), ACTORS, method="post", data={"note": ""}, ok=(302,)
    )


def test_grant_and_promote_are_for_compliance_leads(cast, make_decision):
    state = make_decision()
    check_access_matrix(
        cast,
        url("review_grant", state.pk),
        {Role.COMPLIANCE_LEAD},
        method="post",
        data={"grant-version": "1", "grant-username": "nobody"},
        ok=(422,),
    )
    check_access_matrix(
        cast,
        url("review_promote", state.pk),
        {Role.COMPLIANCE_LEAD},
        method="post",
        data={"promote-version": "1"},
        ok=(422,),
    )


def test_the_review_landing_page_shows_the_queue_rows_and_counts(cast, make_decision):
    state = make_decision()
    make_decision(outcome="blocked", code="", reasons=("no_candidate",), risk="high")
    body = cast.client(Role.BROKER).get(url("index")).content.decode()
    assert state.product.sku in body and "6110.20.20.10" in body
    assert 'data-count="needs_review">1<' in body and 'data-count="blocked">1<' in body
    assert "data-no-bulk" in body and 'name="item"' not in body  # decided one at a time
    make_decision(outcome="classified", reasons=())
    confirm = f"{url('index')}?queue=confirm"
    assert "Confirm selected" in cast.client(Role.BROKER).get(confirm).content.decode()
    assert "Confirm selected" not in cast.client(Role.AUDITOR).get(confirm).content.decode()


def test_dashboard_tile_links_open_the_matching_queue(cast, make_decision):
    blocked = make_decision(outcome="blocked", code="", reasons=("no_candidate",), risk="high")
    body = cast.client(Role.BROKER).get(url("index") + "?outcome=blocked").content.decode()
    assert blocked.product.sku in body


def test_filters_narrow_the_queue_and_live_in_the_url(cast, make_decision):
    low = make_decision()
    high = make_decision(risk="high", reasons=("restricted_goods",))
    client = cast.client(Role.BROKER)
    body = client.get(url("index") + "?risk=high").content.decode()
    assert high.product.sku in body and low.product.sku not in body
    body = client.get(url("index") + "?reason=low_confidence").content.decode()
    assert low.product.sku in body and high.product.sku not in body
    body = client.get(url("index") + "?origin=CN").content.decode()
    assert low.product.sku not in body and high.product.sku not in body


def test_risk_then_age_is_the_default_order_and_pages_follow_the_cursor(cast, make_decision):
    from classification.review import selectors

    states = [make_decision(risk=r) for r in ("low", "high", "medium", "low")]
    page = selectors.queue_page(
        cast.tenant, cast.users[Role.BROKER], queue="needs_review", filters={}, sort="risk"
    )
    assert [s.pk for s in page.rows] == [states[1].pk, states[2].pk, states[0].pk, states[3].pk]
    selectors_page_size = selectors.queues.PAGE_SIZE
    try:
        selectors.queues.PAGE_SIZE = 2
        first = selectors.queue_page(
            cast.tenant, cast.users[Role.BROKER], queue="needs_review", filters={}, sort="risk"
        )
        second = selectors.queue_page(
            cast.tenant,
            cast.users[Role.BROKER],
            queue="needs_review",
            filters={},
            sort="risk",
            cursor=first.next_cursor,
        )
    finally:
        selectors.queues.PAGE_SIZE = selectors_page_size
    assert [s.pk for s in first.rows + second.rows] == [s.pk for s in page.rows]
    assert second.next_cursor == ""


def test_queue_and_panel_query_counts_do_not_grow_with_rows(
    cast, make_decision, django_assert_max_num_queries
):
    # The page shell (session, membership, one guardian check per tenant permission for the
    # navigation) costs about 30 queries of its own; the queue adds its rows and the counts.
    client = cast.client(Role.BROKER)
    state = make_decision()
    for done in range(3):
        services.review_escalate(
            actor=cast.users[Role.BROKER],
            state=make_decision(),
            version=1,
            route="legal",
            note=f"#{done}",
        )
    client.get(url("index"))  # warm caches (sessions, content types)
    pages = [url("index"), url("index") + "?queue=escalated_legal", url("review_panel", state.pk)]
    baseline = {}
    for page in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        baseline[page] = len(queries)
        assert baseline[page] <= 40, (page, baseline[page])
    for _ in range(12):
        make_decision()
    for page in pages:
        with django_assert_max_num_queries(baseline[page]):
            assert client.get(page).status_code == 200


def test_an_htmx_row_click_returns_only_the_panel(cast, make_decision):
    state = make_decision()
    response = cast.client(Role.BROKER).get(
        url("review_panel", state.pk), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and f'data-decision="{state.pk}"' in body
    assert "<html" not in body and "Facts as classified" in body
    assert "HX-Request" in response["Vary"]


def test_an_htmx_accept_rerenders_the_panel_and_triggers_the_next_item(cast, make_decision):
    state = make_decision()
    response = cast.client(Role.BROKER).post(
        url("review_accept", state.pk), {"accept-version": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "reviewActed" in response["HX-Trigger"]
    assert "Final classification" in response.content.decode()
    assert ReviewState.objects.get(pk=state.pk).final_code == MENS


def test_an_invalid_override_answers_422_with_the_message_and_keeps_the_input(
    cast, make_decision, us_schedule
):
    state = make_decision()
    response = cast.client(Role.BROKER).post(
        url("review_override", state.pk),
        {
            "override-version": "1",
            "override-code": "6110.20.20.20",
            "override-reason_code": "other",
            "override-note": "",
        },
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "Write a note that says why" in body and 'value="6110.20.20.20"' in body
    assert not ReviewAction.objects.exists()


def test_two_reviewers_on_one_decision_one_wins_the_other_gets_409_with_note_kept(
    cast, make_decision, us_schedule
):
    state = make_decision()
    lead, broker = cast.client(Role.COMPLIANCE_LEAD), cast.client(Role.BROKER)
    first = lead.post(
        url("review_accept", state.pk), {"accept-version": "1"}, headers={"HX-Request": "true"}
    )
    second = broker.post(
        url("review_override", state.pk),
        {
            "override-version": "1",
            "override-code": "6110.20.20.20",
            "override-reason_code": "supplier_evidence",
            "override-note": "Supplier confirms a women's cut.",
        },
        headers={"HX-Request": "true"},
    )
    assert first.status_code == 200 and second.status_code == 409
    body = second.content.decode()
    assert "acme-compliance_lead accepted 6110.20.20.10 at" in body
    assert "Supplier confirms a women&#x27;s cut." in body
    assert 'data-version="2"' in body  # the panel shows fresh data
    fresh = ReviewState.objects.get(pk=state.pk)
    assert fresh.final_code == MENS and ReviewAction.objects.count() == 1


def test_a_stale_escalation_without_htmx_also_answers_409(cast, make_decision):
    state = make_decision()
    services.review_assign(actor=cast.users[Role.COMPLIANCE_LEAD], state=state, version=1)
    response = cast.client(Role.BROKER).post(
        url("review_escalate", state.pk),
        {"escalate-version": "1", "escalate-route": "legal", "escalate-note": "Dual use?"},
    )
    assert response.status_code == 409
    assert "assigned" in response.content.decode() and "Dual use?" in response.content.decode()


def test_bulk_confirm_over_http_summarises_refusals_in_one_message(cast, make_decision):
    ok = make_decision(outcome="classified", reasons=())
    risky = [make_decision(outcome="classified", reasons=(), risk="high") for _ in range(7)]
    review = make_decision(risk="medium")
    items = [f"{s.pk}:1" for s in (ok, *risky, review)]
    response = cast.client(Role.BROKER).post(
        url("review_bulk_accept"),
        {"item": items, "note": "Checked.", "queue": "confirm"},
        follow=True,
    )
    body = response.content.decode()
    assert "Confirmed 1 item as final." in body
    assert body.count("not confirmed") == 1, "one message, not one banner per item"
    assert "8 items were not confirmed." in body
    skus = ", ".join(s.product.sku for s in risky[:5])
    assert f"It is high risk: confirm it on its own — 7 items: {skus} and 2 more." in body
    assert f"decide it on its own — 1 item: {review.product.sku}." in body


def test_selection_is_offered_only_on_rows_that_may_be_confirmed_together(cast, make_decision):
    ok = make_decision(outcome="classified", reasons=())
    risky = make_decision(outcome="classified", reasons=(), risk="high")
    review = make_decision(risk="medium")
    client = cast.client(Role.BROKER)
    confirm = client.get(f"{url('index')}?queue=confirm").content.decode()
    assert f'value="{ok.pk}:1"' in confirm and f'value="{risky.pk}:1"' not in confirm
    assert "Not for bulk confirm: it is high risk" in confirm
    assert "data-bulk-eligible" in confirm and "not high risk" in confirm
    needs = client.get(f"{url('index')}?queue=needs_review").content.decode()
    assert f'value="{review.pk}:1"' not in needs and 'name="item"' not in needs
    assert "data-no-bulk" in needs and "decided one at a time" in needs
    analyst = cast.client(Role.ANALYST).get(f"{url('index')}?queue=confirm").content.decode()
    assert 'name="item"' not in analyst


def test_evidence_files_are_served_only_within_the_tenant(cast, make_decision, us_schedule):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classification.models import EvidenceFile

    state = make_decision()
    services.review_override(
        actor=cast.users[Role.BROKER],
        state=state,
        version=1,
        code=MENS,
        reason_code="binding_ruling",
        note="Ruling attached.",
        ruling_reference="NY N301511",
        files=[SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n....", "image/png")],
    )
    evidence = EvidenceFile.objects.get()
    check_access_matrix(cast, url("review_evidence", evidence.pk), set(Role.values))
    panel = cast.client(Role.AUDITOR).get(url("review_panel", state.pk)).content.decode()
    assert "photo.png" in panel and evidence.sha256[:10] in panel


def test_the_navigation_shows_the_open_review_count_on_every_page(cast, make_decision):
    make_decision()
    make_decision(outcome="blocked", code="", reasons=("no_candidate",), risk="high")
    body = cast.client(Role.ANALYST).get(reverse("tenant_dashboard", args=["acme"])).content
    assert b"data-nav-review-count>2<" in body


def test_counts_stop_at_the_cap_and_say_so(cast, make_decision, monkeypatch):
    from classification.review import selectors

    monkeypatch.setattr(selectors.queues, "COUNT_CAP", 2)
    for _ in range(3):
        make_decision()
    counts = selectors.open_counts(cast.tenant, cast.users[Role.BROKER])
    assert counts["needs_review"] == 2 and counts["capped"] == {"needs_review"}
    body = cast.client(Role.BROKER).get(url("index")).content.decode()
    assert 'data-count="needs_review">2+<' in body and "data-nav-review-count>2+<" in body


def test_the_dashboard_shows_escalations_and_requests_for_information(cast, make_decision):
    broker = cast.users[Role.BROKER]
    services.review_escalate(
        actor=broker, state=make_decision(), version=1, route="finance", note="Valuation?"
    )
    services.review_request_info(
        actor=broker, state=make_decision(), version=1, missing_facts=["materials"], message="?"
    )
    body = cast.client(Role.AUDITOR).get(reverse("tenant_dashboard", args=["acme"])).content
    body = body.decode()
    assert "Escalated" in body and "waiting for finance" in body
    assert "Info requested" in body and "?queue=info_requested" in body


def test_a_granted_auditor_decides_one_escalated_item_over_http_and_no_other(cast, make_decision):
    lead, auditor = cast.users[Role.COMPLIANCE_LEAD], cast.users[Role.AUDITOR]
    granted, other = make_decision(), make_decision()
    for state in (granted, other):
        services.review_escalate(actor=lead, state=state, version=1, route="legal", note="?")
    client = cast.client(Role.AUDITOR)
    assert client.post(url("review_accept", granted.pk), {"accept-version": "2"}).status_code == 403
    response = cast.client(Role.COMPLIANCE_LEAD).post(
        url("review_grant", granted.pk),
        {"grant-version": "2", "grant-username": auditor.username},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    panel = client.get(url("review_panel", granted.pk)).content.decode()
    assert "Accept 6110.20.20.10" in panel
    assert client.post(url("review_accept", other.pk), {"accept-version": "2"}).status_code == 403
    assert client.post(url("review_accept", granted.pk), {"accept-version": "3"}).status_code == 302
    assert ReviewState.objects.get(pk=granted.pk).decided_by == auditor
    # Another tenant's member with the same URL still gets 404, grant or not.
    assert cast.client("outsider").get(url("review_panel", granted.pk)).status_code == 404


def test_a_final_decision_can_be_corrected_or_reopened_from_its_panel(cast, make_decision):
    broker = cast.client(Role.BROKER)
    state = make_decision()
    services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    body = broker.get(url("review_panel", state.pk)).content.decode()
    assert "Correct with another code" in body and "Reopen for review" in body
    # An auditor reads the panel but gets no action on a final decision.
    audit_body = cast.client(Role.AUDITOR).get(url("review_panel", state.pk)).content.decode()
    assert "Reopen for review" not in audit_body

    response = broker.post(
        url("review_reopen", state.pk), {"reopen-version": "2", "reopen-note": ""}
    )
    assert response.status_code == 422 and "Say why" in response.content.decode()
    response = broker.post(
        url("review_reopen", state.pk),
        {"reopen-version": "2", "reopen-note": "new spec sheet"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "is no longer final" in response.content.decode()
    fresh = ReviewState.objects.get(pk=state.pk)
    assert (fresh.status, fresh.queue, fresh.final_code) == ("open", "needs_review", "")


def test_a_broker_sees_why_blocked_goods_are_not_theirs_to_release(cast, make_decision):
    from tests.classification.review.test_lifecycle import DENIED

    state = make_decision(
        outcome="blocked", code="", reasons=("denied_goods",), risk="high", reason_details=(DENIED,)
    )
    body = cast.client(Role.BROKER).get(url("review_panel", state.pk)).content.decode()
    assert "Only a compliance lead may release them" in body
    assert 'data-action="override"' not in body and 'data-action="escalate"' in body
    lead = cast.client(Role.COMPLIANCE_LEAD).get(url("review_panel", state.pk)).content.decode()
    assert "You may release them with a written justification" in lead
    assert 'data-action="override"' in lead
