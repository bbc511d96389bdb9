"""The ``view_insights`` tenant permission, granted to existing compliance leads and auditors.

New memberships get it from ``ROLE_PERMISSIONS``; existing ones hold their grants from before,
so this grants it once here (the permission row itself is created here too: Django creates
permissions only after all migrations have run).
"""

from django.db import migrations

GRANTED_TO = ("compliance_lead", "auditor")


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Membership = apps.get_model("workbench", "Membership")
    UserObjectPermission = apps.get_model("guardian", "UserObjectPermission")
    content_type, _ = ContentType.objects.get_or_create(app_label="workbench", model="tenant")
    permission, _ = Permission.objects.get_or_create(
        codename="view_insights",
        content_type=content_type,
        defaults={"name": "See the compliance dashboard (outcomes, overrides, calibration, drift)"},
    )
    for membership in Membership.objects.filter(role__in=GRANTED_TO):
        UserObjectPermission.objects.get_or_create(
            user_id=membership.user_id,
            permission=permission,
            content_type=content_type,
            object_pk=str(membership.tenant_id),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0003_invitation"),
        ("guardian", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="tenant",
            options={
                "default_permissions": (),
                "ordering": ["name"],
                "permissions": [
                    (
                        "read_tenant",
                        "Read the tenant's catalog, decisions, rule packs and reference data",
                    ),
                    ("edit_catalog", "Upload catalogs and edit product facts"),
                    ("request_classification", "Request classification of products"),
                    (
                        "review_decisions",
                        "Accept, override, escalate and request information on decisions",
                    ),
                    ("resolve_escalations", "Resolve escalated decisions"),
                    ("retry_jobs", "Retry dead classification jobs"),
                    ("manage_rulepacks", "Author, validate, backtest and activate rule packs"),
                    ("view_audit_log", "Read the audit log"),
                    (
                        "view_insights",
                        "See the compliance dashboard (outcomes, overrides, calibration, drift)",
                    ),
                    ("export_audit", "Create audit export snapshots"),
                    ("download_audit_exports", "Download audit exports"),
                    ("manage_integrations", "Manage webhooks and integration settings"),
                    ("manage_members", "Manage memberships and roles"),
                    ("manage_api_tokens", "Create and revoke API tokens"),
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
