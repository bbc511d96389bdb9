"""Every public service of every app that writes rows also writes an audit event.

The walk finds each public function of each project app's ``services`` module (or package) by
introspection; each must have an entry in ``COVERAGE``, which calls it with real fixtures. While
a call runs, ``connection.execute_wrapper`` counts INSERT/UPDATE/DELETE statements that changed
at least one row of a table other than ``audit_auditevent``; a call that wrote rows must also
have written an AuditEvent.

A new service fails ``test_every_service_is_in_the_coverage_table`` until it gets an entry here.
"""

import datetime as dt
import importlib
import inspect
import io
import json
import pkgutil
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

import audit
from audit import services as audit_services
from audit.models import AuditEvent
from tests.factories import UserFactory
from workbench import services as workbench_services
from workbench.models import Membership
from workbench.roles import Role

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def _service_modules():
    """Every module named ``services`` (or inside a ``services`` package) of a project app."""
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(settings.BASE_DIR):
            continue
        package = importlib.import_module(config.name)
        names = [f"{config.name}.services"] + [
            info.name
            for info in pkgutil.walk_packages(package.__path__, f"{config.name}.")
            if ".migrations" not in info.name
            and (info.name.endswith(".services") or ".services." in info.name)
        ]
        for name in dict.fromkeys(names):
            try:
                yield importlib.import_module(name)
            except ModuleNotFoundError:
                continue


def discovered_services() -> set[str]:
    """Return ``module.function`` for every public function defined in a services module."""
    found = set()
    for module in _service_modules():
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and func.__module__ == module.__name__:
                found.add(f"{module.__name__}.{name}")
    return found


class WriteCounter:
    def __init__(self):
        self.tables: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        match = _WRITE.match(sql)
        # A statement that changed no row (a DELETE of nothing) wrote nothing.
        if match and match.group(2) != "audit_auditevent" and context["cursor"].rowcount:
            self.tables.append(match.group(2))
        return result


# --- Coverage table: one callable per service, run with real fixtures ----------------------
# Each returns nothing; "pure" services are asserted to write nothing at all.

PURE = {
    "audit.services.event_hash",
    "audit.services.changes",
    "audit.services.normalise_scope",
    "tariffs.services.current_schedule",
    "tariffs.services.code_validate",
    "tariffs.services.code_uses",
    "tariffs.services.invalid_code_uses",
    "integrations.services.token_digest",
    "workbench.services.invitation_digest",
    "workbench.services.invitation_refusal",
    "workbench.services.invitation_new_account",
    "integrations.services.token_authenticate",
    "classification.review.services.evidence.evidence_files_check",
    "followup.services.supplier_link_digest",
    "followup.services.supplier_link_token",
    "followup.services.supplier_link_refusal",
}
# Operational bookkeeping that is deliberately not an audit record, and the only tables it may
# touch: request counters for rate limiting.
HOUSEKEEPING = {
    "integrations.services.token_rate_check": {"integrations_apiratewindow"},
    "integrations.services.purge_rate_windows": {"integrations_apiratewindow"},
    "followup.services.rate_check": {"followup_ratewindow"},
    "followup.services.rate_windows_purge": {"followup_ratewindow"},
    # What a person has read, and that an already-audited action's email went out.
    "notifications.services.notifications_mark_read": {"notifications_notification"},
    "notifications.services.notifications_email": {"notifications_notification"},
}
# Services documented to leave the audit event to their caller, which records the decision that
# made the change; each entry says who audits. Their cases must still write (or the entry lies).
CALLER_AUDITS = {
    "catalog.services.products.product_set_classification": "classification's decision services",
    "catalog.services.products.products_set_classification": (
        "classification's request and job services"
    ),
    "notifications.services.notify": "the action that gives rise to the message",
    "classification.review.services.evidence.evidence_files_store": "the override or supplier "
    "answer that attaches the files (classification.evidence.attached, followup.link.answered)",
}


def _tenant_create(cast):
    workbench_services.tenant_create(
        actor=cast.users["tenant_admin"], slug="initech", name="Initech"
    )


def _membership_set_new(cast):
    user = UserFactory(username="newcomer")
    workbench_services.membership_set(actor=None, tenant=cast.tenant, user=user, role=Role.ANALYST)


def _membership_set_change(cast):
    workbench_services.membership_set(
        actor=None, tenant=cast.tenant, user=cast.users["analyst"], role=Role.BROKER
    )


def _membership_set_same(cast):
    workbench_services.membership_set(
        actor=None, tenant=cast.tenant, user=cast.users["analyst"], role=Role.ANALYST
    )


def _membership_remove(cast):
    membership = Membership.objects.get(tenant=cast.tenant, user=cast.users["broker"])
    workbench_services.membership_remove(actor=cast.users["tenant_admin"], membership=membership)


def _invitation(cast, invitee="newcomer"):
    return workbench_services.invitation_create(
        actor=cast.users["tenant_admin"], tenant=cast.tenant, invitee=invitee, role=Role.BROKER
    )


def _invitation_create(cast):
    _invitation(cast)


def _invitation_accept(cast):
    user = UserFactory(username="newcomer")
    _, token = _invitation(cast)
    yield
    workbench_services.invitation_accept(user=user, token=token)


def _invitation_revoke(cast):
    invitation, _ = _invitation(cast)
    yield
    workbench_services.invitation_revoke(actor=cast.users["tenant_admin"], invitation=invitation)


def _invitation_reads(cast):
    invitation, token = _invitation(cast)
    yield
    workbench_services.invitation_digest(token)
    workbench_services.invitation_refusal(invitation, cast.users["broker"])


def _record(cast):
    audit.record(actor=None, verb="catalog.product.created", tenant=cast.tenant)


def _record_many(cast):
    audit_services.record_many(
        tenant=cast.tenant,
        entries=[
            {"actor": None, "verb": "classification.decision.created", "data": {"i": i}}
            for i in range(3)
        ],
    )


def _event_hash(cast):
    audit_services.event_hash({"a": 1})


def _changes(cast):
    audit_services.changes({"a": 1}, {"a": 2})


def _as_system(cast):
    # The events of the writes inside the block name the system, not the actor given.
    with audit_services.as_system("demo data"):
        workbench_services.tenant_create(
            actor=cast.users["tenant_admin"], slug="initech", name="Initech"
        )
    assert AuditEvent.objects.filter(actor=None, actor_label="demo data").exists()


def _normalise_scope(cast):
    audit_services.normalise_scope({"from": "2026-01-01"})


def _export_request(cast):
    audit_services.export_request(actor=cast.users["compliance_lead"], tenant=cast.tenant, scope={})


def _queued_export(cast):
    return audit_services.export_request(actor=None, tenant=cast.tenant, scope={}, background=False)


def _export_build(cast):
    export = _queued_export(cast)
    before = AuditEvent.objects.count()
    audit_services.export_build(export_id=export.pk)
    assert AuditEvent.objects.count() > before


def _export_fail(cast):
    export = _queued_export(cast)
    audit_services.export_fail(export_id=export.pk, reason="disk full")


def _exports_fail_stalled(cast):
    from audit.models import AuditExport

    export = _queued_export(cast)
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    AuditExport.objects.filter(pk=export.pk).update(status="running", started_at=long_ago)
    yield
    assert audit_services.exports_fail_stalled() == 1


def _export_record_download(cast):
    export = audit_services.export_build(export_id=_queued_export(cast).pk)
    audit_services.export_record_download(
        actor=cast.users["auditor"], export=export, rendering="json"
    )


def _catalog_csv(*skus) -> bytes:
    from tests.catalog.conftest import csv_bytes, row

    return csv_bytes([row(sku) for sku in skus])


def _import_inline(cast):
    from catalog import services as catalog_services

    catalog_services.import_batch_start(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        fileobj=io.BytesIO(_catalog_csv("A-1")),
        filename="catalog.csv",
        background=False,
    )


def _import_refused(cast):
    from catalog import services as catalog_services

    catalog_services.import_batch_start(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        fileobj=io.BytesIO(b"not,a\ncatalog"),
        filename="catalog.csv",
        background=False,
    )


def _import_background(cast):
    from catalog import services as catalog_services

    batch = catalog_services.import_batch_start(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        fileobj=io.BytesIO(_catalog_csv("B-1", "B-2")),
        filename="catalog.csv",
        background=True,
    )
    catalog_services.import_batch_process(batch_id=batch.pk)


def _import_fail_stalled(cast):
    from catalog import services as catalog_services
    from catalog.models import ImportBatch

    batch = catalog_services.import_batch_start(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        fileobj=io.BytesIO(_catalog_csv("B-1")),
        filename="catalog.csv",
        background=True,
    )
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", started_at=long_ago)
    yield
    assert catalog_services.import_batches_fail_stalled() == 1


def _import_held(cast):
    """An import that stops over an in-app edit: the batch waits for a choice, audited."""
    from catalog import services as catalog_services

    product = _a_product(cast)
    facts = dict(product.current_version.facts, name="Renamed T-shirt")
    catalog_services.product_update_facts(actor=cast.users["analyst"], product=product, raw=facts)
    yield
    batch = catalog_services.import_batch_start(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        fileobj=io.BytesIO(_catalog_csv("A-1")),
        filename="catalog.csv",
        background=False,
    )
    assert batch.status == "confirm"
    return batch


def _import_choose_edits(cast):
    from catalog import services as catalog_services

    held = _import_held(cast)
    next(held)
    try:
        next(held)
    except StopIteration as stop:
        batch = stop.value
    yield
    catalog_services.import_batch_choose_edits(
        actor=cast.users["broker"], batch=batch, edits="keep"
    )


def _a_product(cast):
    from catalog.models import Product

    _import_inline(cast)
    return Product.objects.get(tenant=cast.tenant, sku="A-1")


def _product_update_facts(cast):
    from catalog import services as catalog_services

    product = _a_product(cast)
    facts = dict(product.current_version.facts, name="Renamed T-shirt")
    catalog_services.product_update_facts(actor=cast.users["analyst"], product=product, raw=facts)


def _product_set_classification(cast):
    from catalog import services as catalog_services

    product = _a_product(cast)
    catalog_services.product_set_classification(
        product=product, status="final", final_code="6109100012"
    )


USITC_CSV = (
    "HTS Number,Indent,Description,Unit of Quantity,General Rate of Duty,Special Rate of Duty,"
    "Column 2 Rate of Duty,Quota Quantity,Additional Duties\n"
    "8471,0,Automatic data processing machines,,,,,,\n"
    '8471.30.01.00,1,Portable,"[""No.""]",Free,,35%,,\n'
)


def _schedule_load_usitc(cast):
    from tariffs import parsers
    from tariffs import services as tariff_services

    tariff_services.schedule_load_usitc(
        actor=None,
        source=parsers.Source("hts.csv", USITC_CSV.encode()),
        revision="2026 Rev 9",
        effective_date=dt.date(2026, 7, 1),
    )


def _schedule_load_eu_cn(cast):
    from tariffs import parsers
    from tariffs import services as tariff_services

    def source(name, value):
        return parsers.Source(name, json.dumps(value).encode())

    tariff_services.schedule_load_eu_cn(
        actor=None,
        cn8=source(
            "cn8.json",
            [{"code": "84713000", "name": "Portable", "heading": "8471", "subheading": "847130"}],
        ),
        headings=source("h.json", [{"code": "8471", "name": "ADP machines"}]),
        subheadings=source("s.json", [{"code": "847130", "name": "Portable", "heading": "8471"}]),
        revision="CN 2026",
        effective_date=dt.date(2026, 1, 1),
    )


def _reference_list_load(cast):
    from tariffs import parsers
    from tariffs import services as tariff_services

    data = b"hts8,list,ch99_code\n84713001,List 3,9903.88.03\n"
    tariff_services.reference_list_load(
        actor=None, kind="section301", source=parsers.Source("301.csv", data)
    )


def _tariff_reads(cast):
    from tariffs import services as tariff_services

    _schedule_load_usitc(cast)
    _import_inline(cast)
    return tariff_services


def _lexicon_load(cast):
    from tariffs import parsers
    from tariffs import services as tariff_services

    data = b"term,message,commodity_codes,subheadings,headings,chapters,too_generic\n"
    data += b"power bank,Accumulators.,,,8407,,False\n"
    tariff_services.lexicon_load(actor=None, source=parsers.Source("lexicon.csv", data))


def _current_schedule(cast):
    from tariffs import services as tariff_services

    tariff_services.current_schedule("US")


def _code_validate(cast):
    from tariffs import services as tariff_services

    tariff_services.code_validate(jurisdiction="US", code="8471.30.01.00")


def _code_uses(cast):
    from tariffs import services as tariff_services

    tariff_services.code_uses(cast.tenant, "US")


def _invalid_code_uses(cast):
    from tariffs import services as tariff_services

    tariff_services.invalid_code_uses(tenant=cast.tenant, jurisdiction="US")


def _pack(cast, stage="draft"):
    from rulepacks import services as rp
    from tests.rulepacks import conftest as rpc

    rpc.load_schedule()
    lead = cast.users[Role.COMPLIANCE_LEAD]
    pack = rp.rulepack_create(
        actor=lead, tenant=cast.tenant, jurisdiction="US", source=rpc.real_pack_source()
    )
    if stage == "draft":
        return lead, pack
    pack = rp.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=rpc.cases_toml(12)
    )
    if stage == "cases":
        return lead, pack
    pack = rp.rulepack_validate(actor=lead, pack=pack)
    if stage == "validated":
        return lead, pack
    return lead, rp.rulepack_backtest(actor=lead, pack=pack)


# A generator case sets up before its ``yield`` (not counted) and calls the service after it.


def _rulepack_create(cast):
    from rulepacks import services as rp
    from tests.rulepacks import conftest as rpc

    rpc.load_schedule()
    yield
    rp.rulepack_create(
        actor=cast.users[Role.COMPLIANCE_LEAD],
        tenant=cast.tenant,
        jurisdiction="US",
        source=rpc.real_pack_source(),
    )


def _rulepack_update(cast):
    from rulepacks import services as rp

    lead, pack = _pack(cast)
    yield
    rp.rulepack_update(actor=lead, pack=pack, source=pack.source + "\n# reviewed\n")


def _rulepack_cases_upload(cast):
    from rulepacks import services as rp
    from tests.rulepacks import conftest as rpc

    lead, pack = _pack(cast)
    yield
    rp.rulepack_cases_upload(actor=lead, pack=pack, filename="c.toml", content=rpc.cases_toml(3))


def _rulepack_discard(cast):
    from rulepacks import services as rp

    lead, pack = _pack(cast)
    yield
    rp.rulepack_discard(actor=lead, pack=pack)


def _rulepack_validate(cast):
    from rulepacks import services as rp

    lead, pack = _pack(cast, "cases")
    yield
    rp.rulepack_validate(actor=lead, pack=pack)


def _rulepack_backtest(cast):
    from rulepacks import services as rp

    lead, pack = _pack(cast, "validated")
    yield
    rp.rulepack_backtest(actor=lead, pack=pack)


def _rulepack_activate(cast):
    from rulepacks import services as rp

    lead, pack = _pack(cast, "backtested")
    yield
    rp.rulepack_activate(actor=lead, pack=pack)


def _import_from_path(cast):
    import tempfile

    from catalog import services as catalog_services

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.csv"
        path.write_bytes(_catalog_csv("F-1"))
        catalog_services.import_batch_from_path(
            actor=cast.users["analyst"], tenant=cast.tenant, path=str(path), source="cli"
        )


def _products_set_classification(cast):
    from catalog import services as catalog_services

    product = _a_product(cast)
    yield
    catalog_services.products_set_classification(product_ids=[product.pk], status="queued")


def _hs_nomenclature_reload(cast):
    from tariffs import services as tariff_services

    tariff_services.hs_nomenclature_load()  # loaded by migration 0002: a reload writes nothing


def _request_create(cast):
    from classification import services as classification_services

    product = _a_product(cast)
    yield
    classification_services.request_create(
        actor=cast.users["analyst"], tenant=cast.tenant, product_ids=[product.pk]
    )


def _catalog_classify(cast):
    from classification import services as classification_services

    _a_product(cast)
    yield
    classification_services.catalog_classify(actor=cast.users["analyst"], tenant=cast.tenant)


def _products_classify(cast):
    from classification import services as classification_services

    product = _a_product(cast)
    yield
    classification_services.products_classify(
        actor=cast.users["analyst"], tenant=cast.tenant, product_ids=[product.pk]
    )


def _rulepack_reclassify(cast):
    from classification import runner
    from classification import services as classification_services
    from rulepacks import services as rp

    product = _a_product(cast)
    classification_services.request_create(
        actor=cast.users["analyst"], tenant=cast.tenant, product_ids=[product.pk]
    )
    runner.drain()  # no active pack yet: an open, blocked decision
    lead, pack = _pack(cast, "backtested")
    pack = rp.rulepack_activate(actor=lead, pack=pack)
    yield
    rp.rulepack_reclassify(actor=lead, pack=pack)


def _job_retry(cast):
    from classification import services as classification_services
    from classification.models import Job

    product = _a_product(cast)
    request = classification_services.request_create(
        actor=cast.users["analyst"], tenant=cast.tenant, product_ids=[product.pk]
    )
    Job.objects.filter(request=request).update(status="dead", attempts=3, last_error="boom")
    job = Job.objects.get(request=request)
    yield
    classification_services.job_retry(actor=cast.users["analyst"], job=job)


COVERAGE = {
    "catalog.services.imports.import_batch_from_path": [_import_from_path],
    "catalog.services.products.products_set_classification": [_products_set_classification],
    "tariffs.services.hs_nomenclature_load": [_hs_nomenclature_reload],
    "classification.services.request_create": [_request_create],
    "classification.services.catalog_classify": [_catalog_classify],
    "classification.services.job_retry": [_job_retry],
    "rulepacks.services.rulepack_create": [_rulepack_create],
    "rulepacks.services.rulepack_update": [_rulepack_update],
    "rulepacks.services.rulepack_cases_upload": [_rulepack_cases_upload],
    "rulepacks.services.rulepack_discard": [_rulepack_discard],
    "rulepacks.services.rulepack_validate": [_rulepack_validate],
    "rulepacks.services.rulepack_backtest": [_rulepack_backtest],
    "rulepacks.services.rulepack_activate": [_rulepack_activate],
    "catalog.services.imports.import_batch_start": [_import_inline, _import_refused, _import_held],
    "catalog.services.imports.import_batch_choose_edits": [_import_choose_edits],
    "catalog.services.imports.import_batch_process": [_import_background],
    "catalog.services.imports.import_batches_fail_stalled": [_import_fail_stalled],
    "catalog.services.products.product_update_facts": [_product_update_facts],
    "catalog.services.products.product_set_classification": [_product_set_classification],
    "tariffs.services.schedule_load_usitc": [_schedule_load_usitc],
    "tariffs.services.schedule_load_eu_cn": [_schedule_load_eu_cn],
    "tariffs.services.reference_list_load": [_reference_list_load],
    "tariffs.services.lexicon_load": [_lexicon_load],
    "tariffs.services.current_schedule": [_current_schedule],
    "tariffs.services.code_validate": [_code_validate],
    "tariffs.services.code_uses": [_code_uses],
    "tariffs.services.invalid_code_uses": [_invalid_code_uses],
    "workbench.services.tenant_create": [_tenant_create],
    "workbench.services.membership_set": [
        _membership_set_new,
        _membership_set_change,
        _membership_set_same,
    ],
    "workbench.services.membership_remove": [_membership_remove],
    "workbench.services.invitation_create": [_invitation_create],
    "workbench.services.invitation_accept": [_invitation_accept],
    "workbench.services.invitation_revoke": [_invitation_revoke],
    "workbench.services.invitation_digest": [_invitation_reads],
    "workbench.services.invitation_refusal": [_invitation_reads],
    "audit.services.record": [_record],
    "audit.services.record_many": [_record_many],
    "audit.services.event_hash": [_event_hash],
    "audit.services.changes": [_changes],
    "audit.services.as_system": [_as_system],
    "audit.services.normalise_scope": [_normalise_scope],
    "audit.services.export_request": [_export_request],
    "audit.services.export_build": [_export_build],
    "audit.services.export_fail": [_export_fail],
    "audit.services.exports_fail_stalled": [_exports_fail_stalled],
    "audit.services.export_record_download": [_export_record_download],
}


def _product_upsert(cast):
    from catalog import services as catalog_services

    catalog_services.product_upsert(
        actor=cast.users["analyst"],
        tenant=cast.tenant,
        raw={
            "sku": "API-1",
            "name": "Tee",
            "description": "Men's knitted cotton T-shirt",
            "country_of_origin": "BD",
            "materials": "cotton",
            "intended_use": "Casual wear",
            "product_type": "T-shirt",
            "destination": "US",
        },
    )


# --- integrations ---------------------------------------------------------------------------


def _token(cast, scope="read"):
    from integrations import services as integration_services

    return integration_services.token_create(
        actor=cast.users["tenant_admin"], tenant=cast.tenant, name="ERP", scope=scope
    )


def _token_create(cast):
    _token(cast)


def _token_revoke(cast):
    from integrations import services as integration_services

    token, _ = _token(cast)
    yield
    integration_services.token_revoke(actor=cast.users["tenant_admin"], token=token)


def _token_digest(cast):
    from integrations import services as integration_services

    integration_services.token_digest("wbt_x")


def _token_authenticate(cast):
    from integrations import services as integration_services

    _, plaintext = _token(cast)
    yield
    integration_services.token_authenticate(plaintext)


def _token_rate_check(cast):
    from integrations import services as integration_services

    token, _ = _token(cast)
    yield
    integration_services.token_rate_check(token=token)


def _purge_rate_windows(cast):
    from integrations import services as integration_services

    token, _ = _token(cast)
    integration_services.token_rate_check(token=token, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    yield
    integration_services.purge_rate_windows()


def _token_record_use(cast):
    from integrations import services as integration_services

    token, _ = _token(cast)
    yield
    integration_services.token_record_use(token=token, method="GET", path="/api/v1/", ip=None)


def _endpoint(cast):
    from django.test import override_settings

    from integrations import services as integration_services

    with override_settings(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_LOOPBACK=True):
        endpoint, _ = integration_services.endpoint_create(
            actor=cast.users["compliance_lead"],
            tenant=cast.tenant,
            url="http://127.0.0.1:9/hook",
            event_types=["decision.finalized"],
        )
    return endpoint


def _endpoint_create(cast):
    _endpoint(cast)


def _endpoint_update(cast):
    from django.test import override_settings

    from integrations import services as integration_services

    endpoint = _endpoint(cast)
    yield
    with override_settings(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_LOOPBACK=True):
        integration_services.endpoint_update(
            actor=cast.users["compliance_lead"],
            endpoint=endpoint,
            url=endpoint.url,
            event_types=["decision.finalized"],
            description="ERP",
            enabled=False,
        )


def _endpoint_rotate_secret(cast):
    from integrations import services as integration_services

    endpoint = _endpoint(cast)
    yield
    integration_services.endpoint_rotate_secret(
        actor=cast.users["compliance_lead"], endpoint=endpoint
    )


# --- review ---------------------------------------------------------------------------------

REVIEW_CODE = "8471300100"


def _review_state(cast, *, reasons=("low_confidence",), outcome="needs_review"):
    """A needs-review decision on a declarable code of a small current schedule."""
    from decimal import Decimal

    from classification import services as classification_services
    from classification.models import Decision, Job, ReviewState

    _schedule_load_usitc(cast)
    product = _a_product(cast)
    request = classification_services.request_create(
        actor=None, tenant=cast.tenant, product_ids=[product.pk]
    )
    job = Job.objects.get(request=request)
    Job.objects.filter(pk=job.pk).update(status="done")
    from django.db import transaction

    from classification.review import states as review_states

    with transaction.atomic():  # a decision commits with its review state
        decision = Decision.objects.create(
            tenant=cast.tenant,
            job=job,
            attempt=1,
            product=product,
            product_version_id=job.product_version_id,
            jurisdiction="US",
            schedule_revision="2026 Rev 9",
            engine_version="test",
            selected_code=REVIEW_CODE,
            confidence=0.7,
            outcome=outcome,
            reasons=list(reasons),
            risk_band="low",
            duty_total=Decimal("0.00"),
            duty_currency="USD",
            evidence={
                "candidates": [
                    {
                        "code": REVIEW_CODE,
                        "score": 0.7,
                        "description": "Portable",
                        "rationale": "",
                        "sources": [],
                        "duty": None,
                    }
                ],
                "rejected": [],
                "reasons": [],
                "duty": {},
                "flags": {},
            },
        )
        review_states.review_states_open([decision], actor_label="test")
    return ReviewState.objects.select_related("decision", "product", "tenant").get(pk=decision.pk)


def _review(name):
    from classification.review import services as review_services

    return getattr(review_services, name)


def _review_accept(cast):
    state = _review_state(cast)
    yield
    _review("review_accept")(actor=cast.users["broker"], state=state, version=state.version)


def _review_override(cast):
    state = _review_state(cast)
    yield
    _review("review_override")(
        actor=cast.users["broker"],
        state=state,
        version=state.version,
        code="8471.30.01.00",
        reason_code="supplier_evidence",
        note="Supplier datasheet: portable, under 10 kg",
    )


def _evidence_files_store(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classification.models import ActionKind, EvidenceFile, ReviewAction

    state = _review_state(cast)
    action = ReviewAction.objects.create(
        tenant=cast.tenant, decision_id=state.pk, kind=ActionKind.ASSIGN, version=2
    )
    pdf = SimpleUploadedFile("spec.pdf", b"%PDF-1.4 spec sheet", content_type="application/pdf")
    checked = _review("evidence_files_check")([pdf])
    yield
    stored = _review("evidence_files_store")(
        EvidenceFile, checked, tenant_id=cast.tenant.pk, action=action
    )
    assert [f.name for f in stored] == ["spec.pdf"] and stored[0].size == pdf.size


def _review_escalate(cast):
    state = _review_state(cast)
    yield
    _review("review_escalate")(
        actor=cast.users["broker"],
        state=state,
        version=state.version,
        route="legal",
        note="Needs counsel",
    )


def _review_request_info(cast):
    state = _review_state(cast)
    yield
    _review("review_request_info")(
        actor=cast.users["broker"],
        state=state,
        version=state.version,
        missing_facts=["materials"],
        message="Which materials, by weight?",
    )


def _asked_for_materials(cast):
    """A review item whose broker asked for the product's materials."""
    state = _review_state(cast)
    _review("review_request_info")(
        actor=cast.users["broker"],
        state=state,
        version=state.version,
        missing_facts=["materials"],
        message="Which materials, by weight?",
    )
    return state


def _review_info_received(cast):
    state = _asked_for_materials(cast)
    yield
    _review("review_info_received")(
        actor=cast.users["analyst"],
        tenant_id=cast.tenant.pk,
        product_id=state.product_id,
        changed_facts=["materials"],
    )


def _review_info_received_from_import(cast):
    from catalog.models import ImportBatch
    from tests.classification.conftest import import_products

    state = _asked_for_materials(cast)
    import_products(
        cast.tenant, cast.users["analyst"], [{"SKU": state.product.sku, "Materials": "acrylic"}]
    )
    batch = ImportBatch.objects.order_by("-pk").first()
    yield
    _review("review_info_received_from_import")(
        actor=cast.users["analyst"], tenant_id=cast.tenant.pk, batch_id=batch.pk
    )


def _review_facts_changed(cast):
    from catalog import services as catalog_services

    state = _review_state(cast)
    product = state.product
    product.refresh_from_db()
    facts = dict(product.current_version.facts, materials=["acrylic"])
    catalog_services.product_update_facts(actor=cast.users["analyst"], product=product, raw=facts)
    yield
    queued = _review("review_facts_changed")(
        actor=cast.users["analyst"], tenant_id=cast.tenant.pk, product_ids=[product.pk]
    )
    assert queued == [product.pk]


def _review_assign(cast):
    state = _review_state(cast)
    yield
    _review("review_assign")(actor=cast.users["broker"], state=state, version=state.version)


def _review_grant_decider(cast):
    state = _review_state(cast)
    _review("review_escalate")(
        actor=cast.users["broker"],
        state=state,
        version=state.version,
        route="legal",
        note="Needs counsel",
    )
    state.refresh_from_db()
    yield
    _review("review_grant_decider")(
        actor=cast.users["compliance_lead"],
        state=state,
        version=state.version,
        username=cast.users["auditor"].username,
    )


def _review_bulk_accept(cast):
    state = _review_state(cast, reasons=(), outcome="classified")  # the Confirm queue
    yield
    _review("review_bulk_accept")(
        actor=cast.users["broker"],
        tenant=cast.tenant,
        items=[(state.pk, state.version)],
        note="Confirmed batch",
    )


def _review_promote_golden(cast):
    state = _review_state(cast)
    _review("review_accept")(actor=cast.users["broker"], state=state, version=state.version)
    state.refresh_from_db()
    _pack(cast)
    yield
    _review("review_promote_golden")(
        actor=cast.users["compliance_lead"], state=state, version=state.version
    )


def _review_reads(cast):
    from classification.review import selectors as review_selectors

    state = _review_state(cast)
    yield
    for name in ("last_action", "bulk_refusal", "stale_facts", "pending_sign_off"):
        getattr(review_selectors, name)(state)
    review_selectors.conflict_message(state, None)
    review_selectors.may_decide(cast.users["broker"], state)
    review_selectors.blocked_goods(state.decision)
    review_selectors.four_eyes(state.decision)
    review_selectors.spot_check_sampled(state.pk, "0" * 64, 0.05)


def _review_reopen(cast):
    state = _review_state(cast)
    _review("review_accept")(actor=cast.users["broker"], state=state, version=state.version)
    state.refresh_from_db()
    yield
    _review("review_reopen")(
        actor=cast.users["broker"], state=state, version=state.version, note="new spec sheet"
    )


def _review_undo(cast):
    state = _review_state(cast)
    _review("review_accept")(actor=cast.users["broker"], state=state, version=state.version)
    state.refresh_from_db()
    yield
    _review("review_undo")(actor=cast.users["broker"], state=state, version=state.version)


def _review_system_finalize(cast):
    from types import SimpleNamespace

    state = _review_state(cast, reasons=(), outcome="classified")
    yield
    pack = SimpleNamespace(name="Test pack", spot_check=0.0)
    _review("review_system_finalize")(decisions=[state.decision], pack=pack)


def _evaluation_tenant_create(cast):
    from classification.learning import services as learning_services
    from tariffs import reference

    _schedule_load_usitc(cast)
    reference.clear_cache()
    facts = {"sku": "x", "name": "Laptop", "description": "Portable computer", "materials": []}
    yield
    learning_services.evaluation_tenant_create(
        jurisdiction="US",
        cases=[learning_services.LabelledCase("c1", facts, "8471300100")],
        reference=reference.get_reference("US"),
    )
    reference.clear_cache()


def _calibration_refit(cast):
    from classification import services as classification_services
    from tests.classification.conftest import finalized_decisions

    finalized_decisions(cast.tenant, cast.users["broker"], right=110, wrong=100)
    yield
    result = classification_services.calibration_refit(
        actor=cast.users["compliance_lead"], tenant=cast.tenant, jurisdiction="US"
    )
    assert result.fit is not None, result.message


def _calibration_refit_too_few(cast):
    from classification import services as classification_services
    from tests.classification.conftest import finalized_decisions

    finalized_decisions(cast.tenant, cast.users["broker"], right=10, wrong=10)
    yield
    result = classification_services.calibration_refit(
        actor=cast.users["compliance_lead"], tenant=cast.tenant, jurisdiction="US"
    )
    assert result.fit is None, result.message


COVERAGE.update(
    {
        "classification.learning.services.evaluation_tenant_create": [_evaluation_tenant_create],
        "classification.services.products_classify": [_products_classify],
        "rulepacks.services.rulepack_reclassify": [_rulepack_reclassify],
        "classification.services.calibration_refit": [
            _calibration_refit,
            _calibration_refit_too_few,
        ],
        "catalog.services.products.product_upsert": [_product_upsert],
        "integrations.services.token_create": [_token_create],
        "integrations.services.token_revoke": [_token_revoke],
        "integrations.services.token_digest": [_token_digest],
        "integrations.services.token_authenticate": [_token_authenticate],
        "integrations.services.token_rate_check": [_token_rate_check],
        "integrations.services.purge_rate_windows": [_purge_rate_windows],
        "integrations.services.token_record_use": [_token_record_use],
        "integrations.services.endpoint_create": [_endpoint_create],
        "integrations.services.endpoint_update": [_endpoint_update],
        "integrations.services.endpoint_rotate_secret": [_endpoint_rotate_secret],
        "classification.review.services.actions.review_accept": [_review_accept],
        "classification.review.services.actions.review_override": [_review_override],
        "classification.review.services.actions.review_escalate": [_review_escalate],
        "classification.review.services.info_requests.review_request_info": [_review_request_info],
        "classification.review.services.info_requests.review_info_received": [
            _review_info_received
        ],
        "classification.review.services.info_requests.review_facts_changed": [
            _review_facts_changed
        ],
        "classification.review.services.info_requests.review_info_received_from_import": [
            _review_info_received_from_import
        ],
        "classification.review.services.assignment.review_assign": [_review_assign],
        "classification.review.services.assignment.review_grant_decider": [_review_grant_decider],
        "classification.review.services.bulk.review_bulk_accept": [_review_bulk_accept],
        "classification.review.services.promotion.review_promote_golden": [_review_promote_golden],
        "classification.review.services.actions.review_reopen": [_review_reopen],
        "classification.review.services.actions.review_undo": [_review_undo],
        "classification.review.services.finalize.review_system_finalize": [_review_system_finalize],
    }
)


def _drift_pack(cast):
    from tests.classification.test_calibration_fits import active_pack
    from tests.insights.conftest import add_decisions

    pack = active_pack(cast.tenant, cast.users["compliance_lead"])
    rows = [
        {"outcome": "classified", "final": "6109100012", "rule": "r1", "pack": pack.version}
    ] * 30
    add_decisions(cast.tenant, cast.users["broker"], rows)


def _drift_evaluate(cast):
    from insights import services as insights_services

    _drift_pack(cast)
    yield
    assert insights_services.drift_evaluate(tenant_id=cast.tenant.pk)


def _alert_acknowledge(cast):
    from insights import services as insights_services

    _drift_pack(cast)
    [alert, *_] = insights_services.drift_evaluate(tenant_id=cast.tenant.pk)
    yield
    insights_services.alert_acknowledge(
        actor=cast.users["compliance_lead"], tenant=cast.tenant, alert_id=alert.pk
    )


COVERAGE.update(
    {
        "insights.services.drift_evaluate": [_drift_evaluate],
        "insights.services.alert_acknowledge": [_alert_acknowledge],
    }
)

# --- follow-up and notifications -------------------------------------------------------------


def _notify(cast):
    from notifications import services as notification_services

    notification_services.notify(
        recipients=[cast.users["analyst"]], tenant=cast.tenant, kind="digest", text="Overdue"
    )


def _notifications_bookkeeping(cast):
    from notifications import services as notification_services
    from notifications.models import Notification

    cast.users["analyst"].email = "analyst@acme.test"
    cast.users["analyst"].save()
    _notify(cast)
    ids = list(Notification.objects.values_list("pk", flat=True))
    yield
    notification_services.notifications_email(notification_ids=ids)
    notification_services.notifications_mark_read(user=cast.users["analyst"])


def _email_preferences_set(cast):
    from notifications import services as notification_services

    notification_services.email_preferences_set(user=cast.users["broker"], emailed_kinds=[])


def _supplier_link(cast):
    from followup import services as followup_services

    state = _asked_for_materials(cast)
    return followup_services.supplier_link_create(
        actor=cast.users["broker"], state=state, contact_name="Jane Roe"
    )


def _supplier_link_create(cast):
    from followup import services as followup_services

    state = _asked_for_materials(cast)
    yield
    followup_services.supplier_link_create(
        actor=cast.users["analyst"],
        state=state,
        contact_name="Jane Roe",
        contact_email="jane@supplier.test",
    )


def _supplier_link_revoke(cast):
    from followup import services as followup_services

    link, _ = _supplier_link(cast)
    yield
    followup_services.supplier_link_revoke(actor=cast.users["broker"], link=link)


def _supplier_link_answer(cast):
    from followup import services as followup_services

    _, signed = _supplier_link(cast)
    yield
    followup_services.supplier_link_answer(
        token=followup_services.supplier_link_token(signed), raw={"materials": "acrylic"}
    )


def _supplier_link_reads(cast):
    from followup import services as followup_services

    link, signed = _supplier_link(cast)
    yield
    followup_services.supplier_link_refusal(link)
    followup_services.supplier_link_digest(followup_services.supplier_link_token(signed))
    _review("evidence_files_check")([])


def _rate_bookkeeping(cast):
    from followup import services as followup_services

    followup_services.rate_check(key="supplier:203.0.113.9", limit=5)
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    followup_services.rate_check(key="supplier:203.0.113.9", limit=5, now=long_ago)
    followup_services.rate_windows_purge()


def _digest_send(cast):
    from classification.models import ReviewState
    from followup import services as followup_services

    state = _review_state(cast)
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ReviewState.objects.filter(pk=state.pk).update(decision_created_at=long_ago)
    yield
    assert followup_services.digest_send(tenant_id=cast.tenant.pk) == 2


def _invitation_accept_new_account(cast):
    _, token = _invitation(cast, invitee="newcomer@example.test")
    yield
    workbench_services.invitation_accept_new_account(token=token, password="amber-lantern-42-q")


def _invitation_new_account(cast):
    invitation, _ = _invitation(cast, invitee="newcomer@example.test")
    yield
    workbench_services.invitation_new_account(invitation)


COVERAGE.update(
    {
        "workbench.services.invitation_accept_new_account": [_invitation_accept_new_account],
        "workbench.services.invitation_new_account": [_invitation_new_account],
        "notifications.services.notify": [_notify],
        "notifications.services.notifications_email": [_notifications_bookkeeping],
        "notifications.services.notifications_mark_read": [_notifications_bookkeeping],
        "notifications.services.email_preferences_set": [_email_preferences_set],
        "followup.services.supplier_link_create": [_supplier_link_create],
        "followup.services.supplier_link_revoke": [_supplier_link_revoke],
        "followup.services.supplier_link_answer": [_supplier_link_answer],
        "followup.services.supplier_link_refusal": [_supplier_link_reads],
        "followup.services.supplier_link_digest": [_supplier_link_reads],
        "followup.services.supplier_link_token": [_supplier_link_reads],
        "classification.review.services.evidence.evidence_files_check": [_supplier_link_reads],
        "classification.review.services.evidence.evidence_files_store": [_evidence_files_store],
        "followup.services.rate_check": [_rate_bookkeeping],
        "followup.services.rate_windows_purge": [_rate_bookkeeping],
        "followup.services.digest_send": [_digest_send],
    }
)

# Calls that must change nothing at all (and so record nothing).
NO_OP_CASES = {_membership_set_same, _hs_nomenclature_reload, _calibration_refit_too_few}
CASES = [(name, case) for name, cases in COVERAGE.items() for case in cases]


def test_every_service_is_in_the_coverage_table():
    missing = sorted(discovered_services() - set(COVERAGE))
    assert not missing, (
        "services without an entry in COVERAGE (add a call that proves they audit): "
        + ", ".join(missing)
    )
    stale = sorted(set(COVERAGE) - discovered_services())
    assert not stale, f"COVERAGE names services that no longer exist: {', '.join(stale)}"


@pytest.mark.parametrize(("service", "case"), CASES, ids=[c.__name__.lstrip("_") for _, c in CASES])
def test_a_service_that_writes_records_an_audit_event(cast, service, case):
    counter = WriteCounter()
    steps = case(cast) if inspect.isgeneratorfunction(case) else None
    if steps is not None:
        next(steps)  # the setup, not counted
    events_before = AuditEvent.objects.count()
    with connection.execute_wrapper(counter):
        if steps is None:
            case(cast)
        else:
            next(steps, None)
    events = AuditEvent.objects.count() - events_before
    if service in PURE:
        assert not counter.tables and not events, f"{service} is pure but wrote rows"
    elif service in HOUSEKEEPING:
        assert counter.tables, f"{case.__name__} exercised nothing: fix the case"
        assert set(counter.tables) <= HOUSEKEEPING[service], (
            f"{service} wrote {sorted(set(counter.tables))}, beyond its bookkeeping tables"
        )
    elif service in CALLER_AUDITS:
        assert counter.tables, f"{service} is listed as caller-audited but wrote nothing"
    elif case in NO_OP_CASES:
        assert not counter.tables and not events, f"{case.__name__} should change nothing"
    else:
        assert counter.tables or events, f"{case.__name__} exercised nothing: fix the case"
        if counter.tables:
            assert events, f"{service} wrote to {sorted(set(counter.tables))} without an event"


def test_the_reads_a_review_action_makes_before_it_writes_write_nothing(cast):
    """Who may decide, blocked goods, stale facts…: selectors, pure though ``stale_facts`` locks."""
    counter = WriteCounter()
    steps = _review_reads(cast)
    next(steps)
    events_before = AuditEvent.objects.count()
    with connection.execute_wrapper(counter):
        next(steps, None)
    assert not counter.tables and AuditEvent.objects.count() == events_before
