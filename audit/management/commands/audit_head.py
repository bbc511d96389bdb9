"""Print the head of audit hash chains, to be stored outside the database."""

from django.core.management.base import BaseCommand, CommandError

from audit import verify
from workbench.models import Tenant


class Command(BaseCommand):
    help = (
        "Print each chain's newest event (seq, id, time) and its hash, one line per chain. "
        "Store the output outside this database; `audit_verify --tenant SLUG --expect-head HASH` "
        "later proves that no event up to that head was deleted."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--tenant", help="tenant slug (default: every tenant and the system)")
        group.add_argument("--system", action="store_true", help="the chain of log-in events")

    def handle(self, *args, tenant=None, system=False, **options):
        if tenant:
            obj = Tenant.objects.filter(slug=tenant).first()
            if obj is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            chains = [(obj.pk, f"--tenant {obj.slug}")]
        elif system:
            chains = [(None, "--system")]
        else:
            chains = [(t.pk, f"--tenant {t.slug}") for t in Tenant.objects.order_by("slug")]
            chains.append((None, "--system"))
        for tenant_id, option in chains:
            head = verify.chain_head_event(tenant_id)
            at = head.created_at.isoformat() if head.created_at else "-"
            self.stdout.write(
                f"{option} --expect-head {head.hash}  # seq {head.seq}, "
                f"event id {head.event_id or '-'}, {at}"
            )
