"""Derive the dashboard's columns of final review states and count the daily tallies again.

For review states or actions written outside the review services (bulk loads, repairs by hand):
the same SQL as migration ``classification 0015``, per tenant, each in its own transaction.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from classification.review import tallies
from workbench.models import Tenant


class Command(BaseCommand):
    help = "Rebuild the compliance dashboard's daily tallies from the review states and actions."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant (default: every tenant)")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.order_by("pk")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant {tenant!r}.")
        for row in tenants:
            with transaction.atomic():
                tallies.tally_rebuild(row.pk)
            self.stdout.write(f"{row.slug}: tallies rebuilt")
