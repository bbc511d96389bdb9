"""Walk a tenant's audit hash chain and name the first event that does not match."""

from django.core.management.base import BaseCommand, CommandError

from audit import verify
from workbench.models import Tenant


class Command(BaseCommand):
    help = "Verify the audit hash chain of one tenant (or the system chain of log-ins)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--tenant", help="tenant slug")
        group.add_argument("--system", action="store_true", help="the chain of log-in events")

    def handle(self, *args, tenant=None, system=False, **options):
        tenant_id, label = None, "system chain"
        if tenant:
            obj = Tenant.objects.filter(slug=tenant).first()
            if obj is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            tenant_id, label = obj.pk, f"tenant {obj.slug}"
        report = verify.verify_chain(tenant_id)
        if not report.ok:
            raise CommandError(
                f"{label}: chain broken at event id {report.bad_event_id} (seq {report.bad_seq}): "
                f"{report.problem}. {report.checked} events before it verified."
            )
        self.stdout.write(f"{label}: {report.checked} events verified; head {report.head_hash}")
