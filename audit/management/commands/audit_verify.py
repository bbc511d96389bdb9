"""Walk audit hash chains (one tenant's, or all) and name the first event that does not match.

With ``--expect-head HASH`` (a head printed earlier by ``audit_head`` and kept outside the
database) it also fails when that event is no longer in the chain: deleting the newest events
leaves a chain that still verifies, but not one that still holds the stored head.
"""

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
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help="a head printed by audit_head: fail unless the chain still holds it",
        )

    def handle(self, *args, tenant=None, system=False, expect_head=None, **options):
        if expect_head is not None:
            expect_head = expect_head.strip().lower()
            if options.get("all"):
                raise CommandError("--expect-head names one chain: use --tenant or --system.")
            if not verify.HASH_RE.match(expect_head):
                raise CommandError(
                    f"--expect-head {expect_head!r} is not a SHA-256 (64 hexadecimal digits)."
                )
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
            problem = ""
            if report.ok and expect_head:
                problem = verify.expected_head_problem(tenant_id, expect_head, report)
            if problem:
                broken.append(f"{label}: {problem}.")
            elif report.ok:
                self.stdout.write(
                    f"{label}: {report.checked} events verified; head {report.head_hash}"
                )
                if expect_head:
                    self.stdout.write(f"{label}: the expected head {expect_head} is in the chain.")
            else:
                broken.append(
                    f"{label}: chain broken at event id {report.bad_event_id} "
                    f"(seq {report.bad_seq}): {report.problem}. "
                    f"{report.checked} events before it verified."
                )
        if broken:
            raise CommandError("\n".join(broken))
