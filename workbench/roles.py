"""Roles and the tenant-level permissions each one grants.

Permissions are django-guardian object permissions on the ``Tenant`` row, codenamed here once.
``workbench.services.membership_set`` grants exactly ``ROLE_PERMISSIONS[role]`` and revokes the
rest, so a role change can never leave stale rights behind.
"""

from django.db import models


class Role(models.TextChoices):
    ANALYST = "analyst", "Analyst"
    BROKER = "broker", "Broker"
    COMPLIANCE_LEAD = "compliance_lead", "Compliance lead"
    AUDITOR = "auditor", "Auditor"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"


# codename -> description; the codenames are declared on Tenant.Meta.permissions.
PERMISSIONS = {
    "read_tenant": "Read the tenant's catalog, decisions, rule packs and reference data",
    "edit_catalog": "Upload catalogs and edit product facts",
    "request_classification": "Request classification of products",
    "review_decisions": "Accept, override, escalate and request information on decisions",
    "resolve_escalations": "Resolve escalated decisions",
    "retry_jobs": "Retry dead classification jobs",
    "manage_rulepacks": "Author, validate, backtest and activate rule packs",
    "view_audit_log": "Read the audit log",
    "view_insights": "See the compliance dashboard (outcomes, overrides, calibration, drift)",
    "export_audit": "Create audit export snapshots",
    "download_audit_exports": "Download audit exports",
    "manage_integrations": "Manage webhooks and integration settings",
    "manage_members": "Manage memberships and roles",
    "manage_api_tokens": "Create and revoke API tokens",
}

_ANALYST = {"read_tenant", "edit_catalog", "request_classification"}
_BROKER = _ANALYST | {"review_decisions"}
_COMPLIANCE = _BROKER | {
    "resolve_escalations",
    "retry_jobs",
    "manage_rulepacks",
    "view_audit_log",
    "view_insights",
    "export_audit",
    "download_audit_exports",
    "manage_integrations",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ANALYST: frozenset(_ANALYST),
    Role.BROKER: frozenset(_BROKER),
    Role.COMPLIANCE_LEAD: frozenset(_COMPLIANCE),
    Role.AUDITOR: frozenset(
        {"read_tenant", "view_audit_log", "view_insights", "download_audit_exports"}
    ),
    Role.TENANT_ADMIN: frozenset(
        {
            "read_tenant",
            "view_audit_log",
            "manage_members",
            "manage_api_tokens",
            "manage_integrations",
        }
    ),
}


def perm(codename: str) -> str:
    """Return the full permission name (``workbench.<codename>``) after checking it exists."""
    if codename not in PERMISSIONS:
        raise KeyError(f"unknown tenant permission {codename!r}")
    return f"workbench.{codename}"
