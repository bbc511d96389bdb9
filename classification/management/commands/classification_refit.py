"""Refit a tenant's calibrated confidence for one jurisdiction now, as the daily schedule does."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from classification import services
from workbench.models import Tenant
from workbench.roles import perm


class Command(BaseCommand):
    help = (
        "Fit the tenant's calibration (confidence → probability right at 6 digits) on its "
        "finalized decisions and its active pack's backtest cases, and make it current; with "
        "too few labelled cases, say so and change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--jurisdiction", required=True, help="US, EU or GB")
        parser.add_argument(
            "--actor",
            help="username recorded on the fit and its audit event (must hold manage_rulepacks "
            "in the tenant); without it the system",
        )

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}.")
        actor = None
        if options.get("actor"):
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            # Fitting the calibration is rule-pack work: it moves what the pack's minimum means.
            if actor is None or not actor.has_perm(perm("manage_rulepacks"), tenant):
                raise CommandError(
                    f"{options['actor']!r} may not manage rule packs in {tenant.slug}."
                )
        try:
            result = services.calibration_refit(
                actor=actor, tenant=tenant, jurisdiction=options["jurisdiction"]
            )
        except ValidationError as err:
            raise CommandError("; ".join(err.messages)) from err
        if result.fit is None:
            self.stdout.write(result.message + ".")
        else:
            self.stdout.write(self.style.SUCCESS(result.message + "."))
