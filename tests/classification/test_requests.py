import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from catalog.models import Product, ProductVersion
from classification import services
from classification.models import ClassificationRequest, Decision, Job
from tests.matrix import check_access_matrix
from tests.pgstats import seq_scans, table_scan_plans
from workbench.roles import Role


def test_a_request_queues_one_job_per_product_and_is_audited(cast, make_products):
    products = make_products(3)
    request = services.request_create(
        actor=cast.users[Role.ANALYST], tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    jobs = Job.objects.filter(request=request)
    assert jobs.count() == 3 and set(jobs.values_list("status", flat=True)) == {"queued"}
    assert {j.product_version_id for j in jobs} == {p.current_version_id for p in products}
    assert set(
        Product.objects.filter(pk__in=[p.pk for p in products]).values_list(
            "classification_status", flat=True
        )
    ) == {"queued"}
    event = AuditEvent.objects.get(verb="classification.request.created")
    assert event.data["products"] == 3 and event.actor == cast.users[Role.ANALYST]


def test_more_than_100_products_are_refused_with_the_count_and_what_to_do(cast, make_products):
    products = make_products(101)
    with pytest.raises(ValidationError) as err:
        services.request_create(
            actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
        )
    message = " ".join(err.value.messages)
    assert "101 products were selected" in message and "Classify catalog" in message
    assert not ClassificationRequest.objects.exists() and not Job.objects.exists()


def test_products_of_another_tenant_are_refused_without_revealing_them(cast, make_products):
    mine = make_products(2)
    theirs = make_products(1, prefix="G", tenant=cast.other_tenant)
    with pytest.raises(ValidationError) as err:
        services.request_create(
            actor=None, tenant=cast.tenant, product_ids=[mine[0].pk, theirs[0].pk]
        )
    assert "not in this catalog" in " ".join(err.value.messages)
    assert theirs[0].sku not in " ".join(err.value.messages)
    assert not Job.objects.exists()


def test_classify_catalog_splits_the_work_into_requests_of_100(cast, make_products):
    make_products(230)
    requests = services.catalog_classify(actor=None, tenant=cast.tenant)
    assert [r.product_count for r in requests] == [100, 100, 30]
    assert len({r.group for r in requests}) == 1
    assert Job.objects.count() == 230
    # Products already queued are not queued twice.
    assert services.catalog_classify(actor=None, tenant=cast.tenant, only_unclassified=False) == []


def test_classify_selected_matrix(cast, make_products):
    product = make_products(1)[0]
    url = reverse("classification:classify_selected", args=["acme"])
    allowed = {Role.ANALYST, Role.BROKER, Role.COMPLIANCE_LEAD}
    check_access_matrix(
        cast, url, allowed, method="post", data={"product": [product.pk]}, ok=(302,)
    )


def test_the_web_form_refuses_101_products_with_a_message(cast, make_products):
    ids = [p.pk for p in make_products(101)]
    client = cast.client(Role.ANALYST)
    response = client.post(
        reverse("classification:classify_selected", args=["acme"]), {"product": ids}, follow=True
    )
    assert "101 products were selected" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.parametrize("name", ["classification:index", "classification:dead_jobs"])
def test_reading_pages_matrix(cast, name):
    check_access_matrix(cast, reverse(name, args=["acme"]), set(Role.values))


def test_request_page_matrix_and_other_tenants_request_is_404(cast, make_products):
    theirs = make_products(1, prefix="G", tenant=cast.other_tenant)
    request = services.request_create(
        actor=None, tenant=cast.other_tenant, product_ids=[theirs[0].pk]
    )
    response = cast.client(Role.BROKER).get(
        reverse("classification:request", args=["acme", request.pk])
    )
    assert response.status_code == 404
    mine = services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in make_products(1)]
    )
    check_access_matrix(
        cast, reverse("classification:request", args=["acme", mine.pk]), set(Role.values)
    )


def test_the_catalog_list_offers_classify_selected_only_to_roles_that_may(cast, make_products):
    make_products(1)
    url = reverse("catalog:product_list", args=["acme"])
    assert b"Classify selected" in cast.client(Role.ANALYST).get(url).content
    assert b"Classify selected" not in cast.client(Role.AUDITOR).get(url).content


def test_a_product_page_lists_its_decisions(cast, make_products):
    from classification import runner

    product = make_products(1)[0]
    services.request_create(actor=None, tenant=cast.tenant, product_ids=[product.pk])
    runner.drain(owner="test")
    page = cast.client(Role.AUDITOR).get(
        reverse("catalog:product_detail", args=["acme", product.pk])
    )
    assert page.status_code == 200
    assert b"Decisions" in page.content and product.sku.encode() in page.content
    decision = Decision.objects.get(product=product)
    assert reverse("classification:decision", args=["acme", decision.pk]).encode() in page.content


def test_decision_page_matrix_shows_the_evidence(cast, make_products):
    from classification import runner

    product = make_products(1)[0]
    services.request_create(actor=None, tenant=cast.tenant, product_ids=[product.pk])
    runner.drain(owner="test")
    decision = Decision.objects.get(product=product)
    url = reverse("classification:decision", args=["acme", decision.pk])
    check_access_matrix(cast, url, set(Role.values))
    body = cast.client(Role.BROKER).get(url).content.decode()
    assert "Facts as classified" in body and product.sku in body
    assert decision.get_outcome_display() in body
    for reason in decision.reasons:
        assert reason.replace("_", " ")[:6].lower() in body.lower()


def test_request_progress_polls_until_done_then_answers_286(cast, make_products):
    from classification import runner

    request = services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in make_products(2)]
    )
    url = reverse("classification:request", args=["acme", request.pk])
    client = cast.client(Role.ANALYST)
    running = client.get(url, headers={"HX-Request": "true"})
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in running.content.decode()
    runner.drain(owner="test")
    done = client.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 286
    assert "hx-trigger" not in done.content.decode() and "Finished." in done.content.decode()


def test_classify_catalog_checks_job_keys_by_index_whatever_the_connection_planned_before(
    cast, make_products
):
    # A first request whose key checks run (as at its COMMIT) planned as table scans, as they
    # are while the catalog is small; the connection keeps those plans.
    first = make_products(10)
    with table_scan_plans(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        services.request_create(actor=None, tenant=cast.tenant, product_ids=[p.pk for p in first])
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    # The catalog grows (another connection's import, say) without that plan being dropped.
    facts = first[0].current_version.facts
    grown = Product.objects.bulk_create(
        Product(
            tenant=cast.tenant,
            sku=f"G-{i:05d}",
            name="Wool sweater",
            description="Knitted wool sweater",
            destination="US",
            country_of_origin="IT",
        )
        for i in range(2000)
    )
    versions = ProductVersion.objects.bulk_create(
        ProductVersion(product=p, n=1, facts=facts, sha256=first[0].current_version.sha256)
        for p in grown
    )
    for product, version in zip(grown, versions, strict=True):
        product.current_version = version
    Product.objects.bulk_update(grown, ["current_version"])
    before = seq_scans("catalog_product", "catalog_productversion")

    requests = services.catalog_classify(actor=None, tenant=cast.tenant)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT checks, checked now

    assert sum(r.product_count for r in requests) == 2000
    after = seq_scans("catalog_product", "catalog_productversion")
    # One scan per request is its own bookkeeping; one per job is the kept plan at work.
    assert all(after[t] - before[t] < 100 for t in after), (before, after)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        assert cursor.fetchone()[0] == "on"


def test_the_polled_fragment_brings_the_decisions_table_with_the_progress(cast, make_products):
    """The page said "Finished" above "No decisions yet" until reloaded (issue 17)."""
    from classification import runner

    products = make_products(2)
    request = services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in products]
    )
    url = reverse("classification:request", args=["acme", request.pk])
    client = cast.client(Role.ANALYST)
    running = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "No decisions yet." in running
    runner.drain(owner="test")
    done = client.get(url, headers={"HX-Request": "true"})
    body = done.content.decode()
    assert done.status_code == 286 and "Finished." in body
    assert "No decisions yet." not in body
    for product in products:
        assert product.sku in body


def test_the_outcome_chips_open_this_requests_decisions_with_that_outcome(cast, make_products):
    from classification import runner

    mine = make_products(2, prefix="MINE")
    other = make_products(1, prefix="OTHER")
    request = services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[p.pk for p in mine]
    )
    services.request_create(actor=None, tenant=cast.tenant, product_ids=[other[0].pk])
    runner.drain(owner="test")
    outcome = Decision.objects.filter(product=mine[0]).get().outcome
    url = reverse("classification:request", args=["acme", request.pk])
    client = cast.client(Role.ANALYST)
    page = client.get(url).content.decode()
    assert f'href="?outcome={outcome}#decisions"' in page
    assert "classification/?outcome=" not in page  # not the unfiltered review queue

    chosen = client.get(f"{url}?outcome={outcome}").content.decode()
    assert all(p.sku in chosen for p in mine) and other[0].sku not in chosen
    elsewhere = next(o for o in ("classified", "needs_review", "blocked") if o != outcome)
    filtered = client.get(f"{url}?outcome={elsewhere}").content.decode()
    assert not any(p.sku in filtered for p in mine)
    assert "None of these decisions" in filtered
