"""Ruling references of overrides (issue 17, item 6): checked per jurisdiction, stored in one
spelling, and shown on the decision page, the review panel, the export and the certificate."""

import io
import re

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit import renderers, selectors, snapshot
from audit import services as audit_services
from classification.models import ReviewAction, ReviewState
from classification.review import rulings, services
from tests.classification.review.conftest import WOMENS
from workbench.roles import Role


@pytest.mark.parametrize(
    ("jurisdiction", "typed", "stored"),
    [
        ("US", "NY N301511", "NY N301511"),
        ("US", "n301511", "NY N301511"),  # as CROSS lists it
        ("US", "ny  812345", "NY 812345"),
        ("US", "NY A80123", "NY A80123"),
        ("US", "HQ H301234", "HQ H301234"),
        ("US", "h301234", "HQ H301234"),
        ("US", "HQ W968123", "HQ W968123"),
        ("US", "hq 967890", "HQ 967890"),
        ("EU", "DE12345/21-1", "DE12345/21-1"),
        ("EU", "eebtiee bti 030296-1/166/17", "EEBTIEE BTI 030296-1/166/17"),
        ("EU", "XI 2021-000123", "XI 2021-000123"),
        ("GB", "600003124", "600003124"),
        ("GB", "gb 600003124", "GB600003124"),
        ("US", "", ""),
    ],
)
def test_references_of_the_jurisdictions_authority_are_stored_in_one_spelling(
    jurisdiction, typed, stored
):
    assert rulings.ruling_normalize(jurisdiction, typed) == stored


@pytest.mark.parametrize(
    ("jurisdiction", "typed", "says"),
    [
        ("US", "call me", "NY N301511"),
        ("US", "812345", "write NY or HQ first"),
        ("US", "DE12345/21-1", "CBP Headquarters ruling"),
        ("US", "NY N3015111", "Cite a ruling of another jurisdiction in the note"),
        ("EU", "NY N301511", "EU Binding Tariff Information"),
        ("EU", "US12345/21", "issuing member state"),
        ("EU", "DEBTI/A", "DE12345/21-1"),  # too few digits
        ("GB", "60000312", "UK Advance Tariff Ruling: 600003124"),
        ("GB", "DE12345/21-1", "600003124"),
    ],
)
def test_other_text_is_refused_with_the_accepted_forms(jurisdiction, typed, says):
    with pytest.raises(rulings.RulingError) as err:
        rulings.ruling_normalize(jurisdiction, typed)
    assert says in str(err.value) and typed in str(err.value)


def test_an_override_refuses_a_reference_of_another_jurisdiction_and_writes_nothing(
    cast, make_decision, us_schedule
):
    state = make_decision()
    with pytest.raises(ValidationError) as err:
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=WOMENS,
            reason_code="binding_ruling",
            note="An EU BTI for the same sweater.",
            ruling_reference="DE12345/21-1",
        )
    [message] = err.value.message_dict["ruling_reference"]
    assert "not a ruling reference for US" in message and "NY N301511" in message
    assert not ReviewAction.objects.exists()
    assert ReviewState.objects.get(pk=state.pk).status == "open"


def test_the_reference_is_checked_against_the_decisions_jurisdiction(
    cast, make_decision, us_schedule
):
    state = make_decision()
    ReviewState.objects.filter(pk=state.pk).update(jurisdiction="GB")
    state.refresh_from_db()
    with pytest.raises(ValidationError) as err:
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=WOMENS,
            reason_code="binding_ruling",
            note="ruling",
            ruling_reference="NY N301511",
        )
    assert "UK Advance Tariff Ruling" in err.value.message_dict["ruling_reference"][0]


def test_a_binding_ruling_reason_needs_the_rulings_reference(cast, make_decision, us_schedule):
    state = make_decision()
    with pytest.raises(ValidationError) as err:
        services.review_override(
            actor=cast.users[Role.BROKER],
            state=state,
            version=1,
            code=WOMENS,
            reason_code="binding_ruling",
            note="CBP ruled on this sweater.",
        )
    assert "give its reference" in err.value.message_dict["ruling_reference"][0]


def _text(html: str) -> str:
    """What a reader sees: the page without its tags (and their attributes)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_ruling_reaches_the_decision_page_panel_export_and_certificate(
    cast, make_decision, us_schedule
):
    state = make_decision()
    broker = cast.client(Role.BROKER)
    response = broker.post(
        reverse("classification:review_override", args=["acme", state.pk]),
        {
            "override-version": "1",
            "override-code": WOMENS,
            "override-reason_code": "binding_ruling",
            "override-note": "CBP ruled on this women's sweater.",
            "override-ruling_reference": "n301511",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    action = ReviewAction.objects.get(kind="override")
    assert action.ruling_reference == "NY N301511"

    page = broker.get(reverse("classification:decision", args=["acme", state.pk])).content.decode()
    review = page[page.index("data-review") : page.index("Suggested code")]
    assert "6110.20.20.20" in review and "Sweaters of cotton, women" in review
    assert "NY N301511" in review and "CBP New York ruling" in review
    assert "Binding ruling" in review

    panel = broker.get(reverse("classification:review_panel", args=["acme", state.pk]))
    history = panel.content.decode().split("data-history", 1)[1]
    assert "NY N301511" in history and "CBP New York ruling" in history

    export = audit_services.export_request(
        actor=cast.users[Role.COMPLIANCE_LEAD], tenant=cast.tenant, scope={}, background=False
    )
    export = audit_services.export_build(export_id=export.pk)
    assert export.status == "ready", export.failure_reason
    [record] = renderers.decisions(snapshot.parse(selectors.export_bytes(export)))
    assert record["final"]["ruling_reference"] == "NY N301511"
    assert record["final"]["description"].startswith("Sweaters of cotton, women")
    out = io.BytesIO()
    data = selectors.export_bytes(export)
    renderers.render_xlsx(snapshot.parse(data), export.sha256, out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    for sheet in ("Decisions", "Review actions"):
        header, *rows = book[sheet].iter_rows(values_only=True)
        column = header.index("Ruling reference")
        assert [r[column] for r in rows if r[column]] == ["NY N301511"], sheet

    url = f"/t/acme/audit/exports/{export.pk}/decisions/{state.pk}/certificate/"
    certificate = _text(cast.client(Role.AUDITOR).get(url).content.decode())
    assert "Ruling reference: NY N301511" in certificate
    # Labels, not raw keys; timestamps as people read them.
    assert "Country of origin" in certificate and "country_of_origin" not in certificate
    assert "reason: binding ruling" in certificate and "binding_ruling" not in certificate
    assert "Confidence below the pack" in certificate and "low_confidence" not in certificate
    assert "Overridden by acme-broker on " in certificate
    assert re.search(r"\b\d{1,2} [A-Z][a-z]+ 20\d\d, \d\d:\d\d UTC\b", certificate)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", certificate), "an ISO timestamp"
