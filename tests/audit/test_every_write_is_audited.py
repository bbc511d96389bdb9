"""Every public service of every app that writes rows also writes an audit event.

The walk finds each public function of each project app's ``services`` module (or package) by
introspection; each must have an entry in ``COVERAGE``, which calls it with real fixtures. While
a call runs, ``connection.execute_wrapper`` counts INSERT/UPDATE/DELETE statements that changed
at least one row of a table other than ``audit_auditevent``; a call that wrote rows must also
have written an AuditEvent.

A new service fails ``test_every_service_is_in_the_coverage_table`` until it gets an entry here.
"""

import importlib
import inspect
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

PURE = {"audit.services.event_hash", "audit.services.changes", "audit.services.normalise_scope"}


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


COVERAGE = {
    "workbench.services.tenant_create": [_tenant_create],
    "workbench.services.membership_set": [
        _membership_set_new,
        _membership_set_change,
        _membership_set_same,
    ],
    "workbench.services.membership_remove": [_membership_remove],
    "audit.services.record": [_record],
    "audit.services.event_hash": [_event_hash],
    "audit.services.changes": [_changes],
    "audit.services.normalise_scope": [_normalise_scope],
    "audit.services.export_request": [_export_request],
    "audit.services.export_build": [_export_build],
    "audit.services.export_fail": [_export_fail],
    "audit.services.export_record_download": [_export_record_download],
}
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
    events_before = AuditEvent.objects.count()
    with connection.execute_wrapper(counter):
        case(cast)
    events = AuditEvent.objects.count() - events_before
    if service in PURE:
        assert not counter.tables and not events, f"{service} is pure but wrote rows"
    elif counter.tables:
        assert events, f"{service} wrote to {sorted(set(counter.tables))} without an audit event"
