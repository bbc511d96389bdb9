"""Usage counted in the transactions that do the work: the counts match the work done."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import services as audit_services
from catalog import services as catalog_services
from classification import leases, runner
from classification import services as classification_services
from classification.models import Decision, ReviewState
from classification.review import services as review_services
from integrations import delivery
from metering import counters
from metering.models import UsageCounter
from tests.classification.conftest import import_products
from tests.conftest import let_undo_windows_pass
from workbench.roles import Role

CSV = (
    "SKU,Name,Description,Country of origin,Materials,Intended use,Product type,Destination\n{rows}"
)
ROW = "S-{i},Pullover,Men's knitted cotton pullover,VN,cotton,Everyday wear,Sweater,US\n"


def _csv(n: int) -> bytes:
    return CSV.format(rows="".join(ROW.format(i=i) for i in range(n))).encode()


def _upserts(queries) -> list[str]:
    return [q["sql"] for q in queries if "INSERT INTO metering_usagecounter" in q["sql"]]


def _import(cast, body: bytes):
    return catalog_services.import_batch_start(
        actor=cast.users[Role.ANALYST],
        tenant=cast.tenant,
        fileobj=io.BytesIO(body),
        filename="products.csv",
        background=False,
    )


def test_importing_n_products_counts_n_products_the_import_and_the_uploaded_bytes(cast, usage):
    body = _csv(7)
    with CaptureQueriesContext(connection) as queries:
        batch = _import(cast, body)
    assert batch.status == "done" and batch.new_count == 7
    counts = usage(cast.tenant)
    assert counts[counters.PRODUCTS_IMPORTED] == 7
    assert counts[counters.CATALOG_IMPORTS] == 1
    assert counts[counters.UPLOAD_BYTES] == len(body)
    assert counters.IMPORT_MS in counts
    assert len(_upserts(queries)) == 1  # one statement for the whole import
    assert usage(cast.other_tenant) == {}


def test_reimporting_unchanged_products_counts_the_import_but_no_products(cast, usage):
    _import(cast, _csv(3))
    _import(cast, _csv(3))
    counts = usage(cast.tenant)
    assert (counts[counters.PRODUCTS_IMPORTED], counts[counters.CATALOG_IMPORTS]) == (3, 2)


def test_a_refused_import_counts_nothing(cast, usage):
    batch = _import(cast, b"not,a,catalog\n1,2,3\n")
    assert batch.status == "refused"
    assert usage(cast.tenant) == {}


def test_classifying_m_products_counts_m_decisions_by_outcome_in_one_statement(
    cast, make_products, usage
):
    products = make_products(30)
    classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    UsageCounter.objects.all().delete()  # only the classification's counts from here
    with CaptureQueriesContext(connection) as queries:
        report = runner.drain(owner="test")
    assert report.done == 30
    written = {}
    for outcome in Decision.objects.values_list("outcome", flat=True):
        written[counters.decisions(outcome)] = written.get(counters.decisions(outcome), 0) + 1
    counts = usage(cast.tenant)
    assert {k: v for k, v in counts.items() if k.startswith("decisions_")} == written
    assert sum(written.values()) == 30
    assert len(_upserts(queries)) == 2  # one per committed batch of 25


def test_review_actions_by_people_count_once_each_and_refused_ones_not_at_all(
    cast, make_decision, usage
):
    broker = cast.users[Role.BROKER]
    state = make_decision()
    review_services.review_escalate(
        actor=broker, state=state, version=1, route="compliance", note="Check the fibre."
    )
    with pytest.raises(ValidationError):
        review_services.review_escalate(
            actor=broker, state=ReviewState.objects.get(pk=state.pk), version=2, route="x", note=""
        )
    assert usage(cast.tenant).get(counters.REVIEW_ACTIONS) == 1


def test_a_bulk_accept_counts_each_accepted_item_in_one_statement(cast, make_decision, usage):
    states = [make_decision(outcome="classified", reasons=()) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        result = review_services.review_bulk_accept(
            actor=cast.users[Role.BROKER],
            tenant=cast.tenant,
            items=[(s.pk, s.version) for s in states],
            note="Checked against the supplier sheets.",
        )
    assert len(result.accepted) == 3
    assert usage(cast.tenant)[counters.REVIEW_ACTIONS] == 3
    assert len(_upserts(queries)) == 1


def test_evidence_attached_to_an_override_counts_files_and_bytes(
    cast, make_decision, us_schedule, usage
):
    state = make_decision()
    pdf = SimpleUploadedFile("ruling.pdf", b"%PDF-1.7 ruling text", "application/pdf")
    png = SimpleUploadedFile("label.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    review_services.review_override(
        actor=cast.users[Role.BROKER],
        state=state,
        version=1,
        code="6110.20.20.20",
        reason_code="supplier_evidence",
        note="Supplier's spec sheet: women's cut.",
        files=[pdf, png],
    )
    counts = usage(cast.tenant)
    assert counts[counters.EVIDENCE_FILES] == 2
    assert counts[counters.EVIDENCE_BYTES] == pdf.size + png.size
    assert counts[counters.REVIEW_ACTIONS] == 1


def test_api_calls_count_each_authenticated_request_and_not_refused_tokens(cast, api_for, usage):
    client = api_for("read")
    for _ in range(3):
        assert client.get("/api/v1/products").status_code == 200
    client.token = "wb_not-a-token"
    assert client.client.get("/api/v1/products", headers=client._headers()).status_code == 401
    assert usage(cast.tenant)[counters.API_CALLS] == 3


def test_webhook_deliveries_count_by_result(cast, receiver, endpoint_for, make_decision, usage):
    endpoint_for()
    receiver.plan = [500]
    state = make_decision()
    review_services.review_accept(actor=cast.users[Role.BROKER], state=state, version=1)
    let_undo_windows_pass()
    delivery.dispatch_pending()
    assert delivery.deliver_due().retrying == 1
    later = timezone.now() + dt.timedelta(hours=1)
    assert delivery.deliver_due(now=later).succeeded == 1
    counts = usage(cast.tenant)
    assert counts[counters.webhook_deliveries("retrying")] == 1
    assert counts[counters.webhook_deliveries("succeeded")] == 1


def test_an_audit_export_counts_once_with_its_size(cast, usage):
    export = audit_services.export_request(
        actor=cast.users[Role.COMPLIANCE_LEAD], tenant=cast.tenant, scope={}, background=False
    )
    export = audit_services.export_build(export_id=export.pk)
    assert export.status == "ready"
    counts = usage(cast.tenant)
    assert counts[counters.AUDIT_EXPORTS] == 1
    assert counts[counters.EXPORT_BYTES] == export.size_bytes > 0


def test_an_expired_lease_retaken_counts_as_an_expiry_and_a_reclaim(cast, make_products, usage):
    products = make_products(2)
    classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    assert len(leases.claim(owner="stalled", limit=25)) == 2
    assert counters.JOBS_RECLAIMED not in usage(cast.tenant)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE classification_job SET lease_expires_at = now() - interval '1 s'"
            " WHERE status = 'leased'"
        )
    assert len(leases.claim(owner="b", limit=25)) == 2
    counts = usage(cast.tenant)
    assert (counts[counters.LEASES_EXPIRED], counts[counters.JOBS_RECLAIMED]) == (2, 2)


def test_counts_of_work_that_rolls_back_are_rolled_back_with_it(cast, usage):
    with pytest.raises(RuntimeError), transaction.atomic():
        import_products(cast.tenant, cast.users[Role.ANALYST], [{"SKU": "GONE-1"}])
        assert usage(cast.tenant)[counters.PRODUCTS_IMPORTED] == 1
        raise RuntimeError("roll back")
    assert usage(cast.tenant) == {}


def test_a_failed_batch_drops_its_sums_and_a_nested_one_hands_them_to_the_outer(cast, usage):
    with counters.batch():
        with pytest.raises(RuntimeError), counters.batch():
            counters.add(tenant_id=cast.tenant.pk, metric="x")
            raise RuntimeError
        with counters.batch():
            counters.add(tenant_id=cast.tenant.pk, metric="y", n=2)
        assert usage(cast.tenant) == {}  # nothing written before the outer batch ends
    assert usage(cast.tenant) == {"y": 2}
