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
    for config in apps.get_app_configs():
        if not Path(config.path).is_relative_to(settings.BASE_DIR):
            continue
        try:
            module = importlib.import_module(f"{config.name}.services")
        except ModuleNotFoundError:
            continue
        yield module
        if hasattr(module, "__path__"):  # a services package
            for info in pkgutil.walk_packages(module.__path__, f"{module.__name__}."):
                yield importlib.import_module(info.name)


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
}
# Services documented to leave the audit event to their caller, which records the decision that
# made the change; each entry says who audits. Their cases must still write (or the entry lies).
CALLER_AUDITS = {
    "catalog.services.product_set_classification": "classification's decision services",
    "catalog.services.products_set_classification": "classification's request and job services",
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
    "catalog.services.import_batch_from_path": [_import_from_path],
    "catalog.services.products_set_classification": [_products_set_classification],
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
    "catalog.services.import_batch_start": [_import_inline, _import_refused],
    "catalog.services.import_batch_process": [_import_background],
    "catalog.services.product_update_facts": [_product_update_facts],
    "catalog.services.product_set_classification": [_product_set_classification],
    "tariffs.services.schedule_load_usitc": [_schedule_load_usitc],
    "tariffs.services.schedule_load_eu_cn": [_schedule_load_eu_cn],
    "tariffs.services.reference_list_load": [_reference_list_load],
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
    "audit.services.record": [_record],
    "audit.services.record_many": [_record_many],
    "audit.services.event_hash": [_event_hash],
    "audit.services.changes": [_changes],
    "audit.services.normalise_scope": [_normalise_scope],
    "audit.services.export_request": [_export_request],
    "audit.services.export_build": [_export_build],
    "audit.services.export_fail": [_export_fail],
    "audit.services.export_record_download": [_export_record_download],
}
# Calls that must change nothing at all (and so record nothing).
NO_OP_CASES = {_membership_set_same, _hs_nomenclature_reload}
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
    elif service in CALLER_AUDITS:
        assert counter.tables, f"{service} is listed as caller-audited but wrote nothing"
    elif case in NO_OP_CASES:
        assert not counter.tables and not events, f"{case.__name__} should change nothing"
    else:
        assert counter.tables or events, f"{case.__name__} exercised nothing: fix the case"
        if counter.tables:
            assert events, f"{service} wrote to {sorted(set(counter.tables))} without an event"
