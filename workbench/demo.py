"""Demo tenants and users for `make run`. Every step is idempotent, and none changes what a
person made or changed: a step that finds the tenant already has its kind of data leaves it.

Apps add their own demo steps through the ``demo_steps`` extension point: a list of
callables ``step(tenants: dict[str, Tenant], out)`` run after the users exist, in app order.
``seed_demo`` audits everything they write under the system actor ``DEMO_ACTOR``
(``audit.as_system``), never under a demo user.
"""

from django.contrib.auth import get_user_model

from workbench import extension_points, services
from workbench.models import Tenant
from workbench.roles import Role

DEMO_ACTOR = "demo data"
DEMO_PASSWORD = "workbench-demo"  # noqa: S105 (printed for local demos only)
DEMO_TENANTS = [("acme", "Acme Imports"), ("globex", "Globex Brokerage")]
DEMO_USERS = [
    ("analyst", "acme", Role.ANALYST),
    ("broker", "acme", Role.BROKER),
    ("compliance", "acme", Role.COMPLIANCE_LEAD),
    ("auditor", "acme", Role.AUDITOR),
    ("admin", "acme", Role.TENANT_ADMIN),
    ("globex", "globex", Role.BROKER),
]


def seed_tenants_and_users() -> dict[str, Tenant]:
    """Create the demo tenants and users that are missing; return tenants by slug.

    A demo user gets its membership when it is created, never later: a role an admin changed or
    a membership an admin removed stays as they left it.
    """
    tenants = {}
    for slug, name in DEMO_TENANTS:
        tenant = Tenant.objects.filter(slug=slug).first()
        tenants[slug] = tenant or services.tenant_create(actor=None, slug=slug, name=name)
    User = get_user_model()
    for username, slug, role in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = User.objects.create_user(
            username=username, password=DEMO_PASSWORD, email=f"{username}@example.test"
        )
        services.membership_set(actor=None, tenant=tenants[slug], user=user, role=role)
    return tenants


def extra_steps() -> list:
    """Return the demo steps contributed by apps, in INSTALLED_APPS order."""
    return [step for steps in extension_points.collect("demo_steps") for step in steps]
