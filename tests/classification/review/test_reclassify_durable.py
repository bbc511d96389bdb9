"""Re-classification after a catalog change is durable: a reaction that fails is recorded and
shown beside dead jobs, and the sweep classifies the product again and marks it recovered."""

from django.urls import reverse

from catalog import services as catalog_services
from catalog.models import Product
from classification import selectors, sweep, tasks
from classification.models import ClassificationRequest, Job, JobStatus, ReviewState
from classification.review import services as review_services
from tests.classification.conftest import import_products
from workbench.models import ReactionFailure
from workbench.roles import Role


def _ask(cast, state, facts=("materials",)):
    review_services.review_request_info(
        actor=cast.users[Role.BROKER],
        state=state,
        version=state.version,
        missing_facts=list(facts),
        message="Is it cotton or acrylic?",
    )


def _broken(message):
    def broken(**kwargs):
        raise RuntimeError(message)

    return broken


def _dead_jobs_page(cast) -> str:
    url = reverse("classification:dead_jobs", args=["acme"])
    return cast.client(Role.ANALYST).get(url).content.decode()


def test_a_failed_fact_update_reaction_is_shown_and_the_sweep_recovers_it(
    cast, make_decision, monkeypatch, django_capture_on_commit_callbacks
):
    state = make_decision()
    _ask(cast, state)
    product = Product.objects.get(pk=state.product_id)
    real = review_services.review_info_received
    monkeypatch.setattr(
        review_services, "review_info_received", _broken("tariff reference not loaded")
    )
    before = ClassificationRequest.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_update_facts(
            actor=cast.users[Role.ANALYST],
            product=product,
            raw={**product.current_version.facts, "materials": "acrylic"},
        )

    # The catalog change committed; the reaction did not, and says so.
    assert Product.objects.get(pk=product.pk).current_version.n == 2
    assert ClassificationRequest.objects.count() == before
    assert ReviewState.objects.get(pk=state.pk).status == "info_requested"
    failure = ReactionFailure.objects.get()
    assert (failure.tenant_id, failure.hook, failure.app_label) == (
        cast.tenant.pk,
        "on_product_changed",
        "classification",
    )
    assert failure.subject == f"product {product.sku}"
    assert failure.error == "RuntimeError: tariff reference not loaded"
    assert failure.recovered_at is None
    page = _dead_jobs_page(cast)
    assert "Re-classifications that failed" in page
    assert f"product {product.sku}" in page and "tariff reference not loaded" in page
    dashboard = cast.client(Role.ANALYST).get("/t/acme/").content.decode()
    assert "Failed re-classifications" in dashboard

    # A sweep that fails too leaves the failure open for the next one.
    report = sweep.sweep()
    assert report.failed_tenants == [cast.tenant.pk] and report.queued == []
    assert ReactionFailure.objects.get().recovered_at is None

    monkeypatch.setattr(review_services, "review_info_received", real)
    assert tasks.sweep_stale_items() == {"queued": 1, "failed_tenants": [], "recovered": 1}
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert request.source == "info_update"
    assert list(request.jobs.values_list("product_id", flat=True)) == [product.pk]
    assert ReviewState.objects.get(pk=state.pk).status == "superseded"
    assert ReactionFailure.objects.get().recovered_at is not None
    assert "Re-classifications that failed" not in _dead_jobs_page(cast)
    assert (
        "Failed re-classifications"
        not in cast.client(Role.ANALYST).get("/t/acme/").content.decode()
    )

    # Idempotent: the job for the current facts takes the item out of the sweep's query.
    assert tasks.sweep_stale_items() == {"queued": 0, "failed_tenants": [], "recovered": 0}
    assert ClassificationRequest.objects.count() == before + 1


def test_a_failed_import_reaction_is_swept_once_and_a_dead_job_is_not_queued_again(
    cast, make_decision, monkeypatch, django_capture_on_commit_callbacks
):
    state = make_decision()  # open, awaiting review
    waiting = make_decision()
    _ask(cast, waiting)  # asked for materials; the file changes another fact
    untouched = make_decision()
    monkeypatch.setattr(review_services, "review_facts_changed", _broken("database went away"))
    before = ClassificationRequest.objects.count()
    rows = [{"SKU": s.product.sku, "Intended use": "Outdoor wear"} for s in (state, waiting)]
    with django_capture_on_commit_callbacks(execute=True):
        import_products(cast.tenant, cast.users[Role.ANALYST], rows)
    assert ClassificationRequest.objects.count() == before
    failure = ReactionFailure.objects.get()
    assert failure.hook == "on_catalog_imported" and failure.subject.startswith("import #")
    assert "database went away" in _dead_jobs_page(cast)
    assert set(sweep.stale_items().values_list("pk", flat=True)) == {state.pk, waiting.pk}

    monkeypatch.undo()
    report = sweep.sweep()
    assert report.queued == [state.product_id] and report.recovered == 1
    request = ClassificationRequest.objects.order_by("-pk").first()
    assert request.source == "facts_changed"
    assert list(request.jobs.values_list("product_id", flat=True)) == [state.product_id]
    # The item waiting for materials keeps waiting; the untouched one was never stale.
    assert ReviewState.objects.get(pk=waiting.pk).status == "info_requested"
    assert ReviewState.objects.get(pk=untouched.pk).status == "open"

    # Its job dies: it shows with the dead jobs, and the sweep does not queue it again.
    Job.objects.filter(request=request).update(status=JobStatus.DEAD, last_error="boom")
    assert sweep.sweep().queued == []
    assert selectors.dead_and_failed_counts(cast.tenant) == (1, 0)
    assert "Dead jobs" in cast.client(Role.ANALYST).get("/t/acme/").content.decode()
    assert ClassificationRequest.objects.count() == before + 1


def test_a_reaction_that_succeeds_leaves_nothing_to_sweep(
    cast, make_decision, django_capture_on_commit_callbacks
):
    state = make_decision()
    product = Product.objects.get(pk=state.product_id)
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.product_update_facts(
            actor=cast.users[Role.ANALYST],
            product=product,
            raw={**product.current_version.facts, "intended_use": "Outdoor wear"},
        )
    assert ClassificationRequest.objects.order_by("-pk").first().source == "facts_changed"
    assert not ReactionFailure.objects.exists()
    assert not sweep.stale_items().exists()
    assert sweep.sweep().queued == []
