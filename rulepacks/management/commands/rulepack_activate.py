"""Activate a validated, backtested rule pack (retiring the active one)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rulepacks import selectors, services
from rulepacks.management.commands import _common


class Command(BaseCommand):
    help = (
        "Activate rule pack --pack of --tenant; the active pack of its jurisdiction is retired "
        "in the same transaction. Exits 1 when the pack may not be activated."
    )

    def add_arguments(self, parser):
        _common.add_common_arguments(parser)
        parser.add_argument("--pack", type=int, required=True, help="rule pack id")

    def handle(self, *args, **options):
        tenant, actor = _common.tenant_and_actor(options)
        pack = _common.pack_of(tenant, options["pack"])
        previous = selectors.active_pack(tenant, pack.jurisdiction)
        try:
            pack = services.rulepack_activate(actor=actor, pack=pack)
        except ValidationError as err:
            for message in err.messages:
                self.stderr.write(f"  - {message}")
            raise CommandError(f"Rule pack #{pack.pk} was not activated.") from err
        if previous is not None and previous.pk != pack.pk:
            self.stdout.write(f"Retired rule pack #{previous.pk} sha256 {previous.sha256}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Rule pack #{pack.pk} is active for {tenant.slug} {pack.jurisdiction}: "
                f"sha256 {pack.sha256}"
            )
        )
