"""Request classification from the command line and optionally wait for the outcome."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product
from classification import runner, selectors, services
from classification.models import ClassificationRequest, RequestSource
from workbench.access import user_has_tenant_perm
from workbench.models import Tenant


class Command(BaseCommand):
    help = "Classify products of a tenant: given SKUs (≤ 100) or every unclassified product."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--user", required=True, help="username of the member requesting")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--sku", nargs="+", help="SKUs to classify (at most 100)")
        which.add_argument(
            "--all-unclassified",
            action="store_true",
            help="every unclassified product, in requests of 100",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="wait for the outcome, working the queue here if no worker does",
        )
        parser.add_argument("--timeout", type=float, default=600, help="seconds to wait at most")

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        user = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
        if (
            tenant is None
            or user is None
            or not user_has_tenant_perm(user, tenant, "request_classification")
        ):
            raise CommandError(
                f"{opts['user']!r} may not request classification in "
                f"{opts['tenant']!r} (unknown user or tenant, or missing role)."
            )
        try:
            requests = self._create(tenant, user, opts)
        except ValidationError as err:
            raise CommandError(" ".join(err.messages)) from None
        if not requests:
            self.stdout.write("Nothing to classify.")
            return
        total = sum(r.product_count for r in requests)
        self.stdout.write(
            f"Queued {total} products in {len(requests)} request(s): "
            + ", ".join(f"#{r.pk}" for r in requests)
        )
        if opts["wait"]:
            self._wait(requests, opts["timeout"])

    def _create(self, tenant, user, opts) -> list[ClassificationRequest]:
        if opts["all_unclassified"]:
            return services.catalog_classify(actor=user, tenant=tenant, only_unclassified=True)
        skus = list(dict.fromkeys(opts["sku"]))
        found = dict(Product.objects.filter(tenant=tenant, sku__in=skus).values_list("sku", "pk"))
        missing = [s for s in skus if s not in found]
        if missing:
            raise CommandError(f"Unknown SKU(s) in {tenant.slug}: {', '.join(missing[:20])}")
        return [
            services.request_create(
                actor=user, tenant=tenant, product_ids=found.values(), source=RequestSource.CLI
            )
        ]

    def _wait(self, requests, timeout):
        ids = [r.pk for r in requests]
        # Work the queue in this process too, so --wait finishes even when no worker runs.
        runner.drain()
        if not runner.wait_for(ids, timeout=timeout):
            raise CommandError(f"Timed out after {timeout:.0f} s; the jobs keep running.")
        p = selectors.progress(ClassificationRequest.objects.filter(pk__in=ids))
        self.stdout.write(
            f"Done: {p.done} of {p.total}; dead {p.dead}. Outcomes: "
            + ", ".join(f"{k} {v}" for k, v in sorted(p.outcomes.items()))
        )
        if p.dead:
            raise CommandError(f"{p.dead} job(s) died; see the dead jobs page.")
