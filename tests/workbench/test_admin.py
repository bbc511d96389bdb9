"""Rows written by audited services are read-only in the admin."""

from django.contrib import admin
from django.test import RequestFactory

from workbench.admin import ReadOnlyModelAdmin


def test_service_written_rows_are_read_only_in_the_admin():
    read_only = {
        model._meta.label: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ReadOnlyModelAdmin)
    }
    assert set(read_only) == {
        "audit.AuditEvent",
        "audit.OutboxEvent",
        "audit.AuditExport",
        "rulepacks.RulePack",
        "tariffs.TariffSchedule",
        "tariffs.ReferenceList",
        "tariffs.Lexicon",
        "workbench.Membership",
    }
    request = RequestFactory().get("/admin/")
    for model_admin in read_only.values():
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
