"""Backtest a validated rule pack and print the report."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rulepacks import services
from rulepacks.management.commands import _common


class Command(BaseCommand):
    help = (
        "Backtest rule pack --pack of --tenant over its golden cases, attached cases and the "
        "tenant's finalized decisions. Exits 1 when it misses an activation threshold."
    )

    def add_arguments(self, parser):
        _common.add_common_arguments(parser)
        parser.add_argument("--pack", type=int, required=True, help="rule pack id")
        parser.add_argument(
            "--cases",
            help="attach these backtest cases (.xlsx or .toml) first; the pack must "
            "then be validated again",
        )

    def handle(self, *args, **options):
        tenant, actor = _common.tenant_and_actor(options)
        pack = _common.pack_of(tenant, options["pack"])
        try:
            if options["cases"]:
                path = Path(options["cases"])
                pack = services.rulepack_cases_upload(
                    actor=actor, pack=pack, filename=path.name, content=path.read_bytes()
                )
                pack = services.rulepack_validate(actor=actor, pack=pack)
            pack = services.rulepack_backtest(actor=actor, pack=pack)
        except (ValidationError, OSError) as err:
            raise CommandError("; ".join(getattr(err, "messages", [str(err)]))) from err
        _common.write_backtest(self.stdout, pack)
        if not pack.backtest_passed:
            raise CommandError(f"Rule pack #{pack.pk} misses the activation thresholds.")
        self.stdout.write(self.style.SUCCESS(f"Rule pack #{pack.pk} meets every threshold."))
