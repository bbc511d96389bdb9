"""Walk audit hash chains (one tenant's, or all) and name the first event that does not match."""

from django.core.management.base import BaseCommand, CommandError

from audit import verify
from workbench.models import Tenant


class Command(BaseCommand):
    help = "Verify the audit hash chain of one tenant, of the log-in events, or of every chain."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--tenant", help="tenant slug")
        group.add_argument("--system", action="store_true", help="the chain of log-in events")
        group.add_argument("--all", action="store_true", help="every tenant and the system chain")

    def handle(self, *args, tenant=None, system=False, **options):
        if options.get("all"):
            chains = [(t.pk, f"tenant {t.slug}") for t in Tenant.objects.order_by("slug")]
            chains.append((None, "system chain"))
        elif tenant:
            obj = Tenant.objects.filter(slug=tenant).first()
            if obj is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            chains = [(obj.pk, f"tenant {obj.slug}")]
        else:
            chains = [(None, "system chain")]
        broken = []
        for tenant_id, label in chains:
            report = verify.verify_chain(tenant_id)
            if report.ok:
                self.stdout.write(
                    f"{label}: {report.checked} events verified; head {report.head_hash}"
                )
            else:
                broken.append(
                    f"{label}: chain broken at event id {report.bad_event_id} "
                    f"(seq {report.bad_seq}): {report.problem}. "
                    f"{report.checked} events before it verified."
                )
        if broken:
            raise CommandError("\n".join(broken))
