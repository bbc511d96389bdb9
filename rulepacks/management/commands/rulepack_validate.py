"""Store a rule-pack file as a draft for a tenant, run the gates and print the report."""

import tomllib
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rulepacks import services
from rulepacks.management.commands import _common
from rulepacks.models import RulePackStatus


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Create a draft rule pack from FILE for --tenant, attach backtest cases (--cases), run "
        "the five gates and print the report. Exits 1 when a gate fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the pack's TOML file")
        _common.add_common_arguments(parser)
        parser.add_argument("--jurisdiction", help="default: the pack's [pack] jurisdiction")
        parser.add_argument("--cases", help="backtest cases (.xlsx or .toml) to attach")
        parser.add_argument(
            "--dry-run", action="store_true", help="run the gates without storing anything"
        )

    def handle(self, *args, **options):
        tenant, actor = _common.tenant_and_actor(options)
        try:
            source = Path(options["file"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise CommandError(f"Cannot read {options['file']}: {err}") from err
        jurisdiction = options["jurisdiction"] or _declared_jurisdiction(source)
        try:
            with transaction.atomic():
                pack = services.rulepack_create(
                    actor=actor, tenant=tenant, jurisdiction=jurisdiction, source=source
                )
                if options["cases"]:
                    path = Path(options["cases"])
                    pack = services.rulepack_cases_upload(
                        actor=actor, pack=pack, filename=path.name, content=path.read_bytes()
                    )
                pack = services.rulepack_validate(actor=actor, pack=pack)
                _common.write_gates(self.stdout, pack)
                if options["dry_run"]:
                    raise _DryRun
        except _DryRun:
            self.stdout.write("Dry run: nothing was stored.")
        except (ValidationError, OSError) as err:
            raise CommandError("; ".join(getattr(err, "messages", [str(err)]))) from err
        label = "The pack" if options["dry_run"] else f"Rule pack #{pack.pk}"
        if pack.status != RulePackStatus.VALIDATED:
            raise CommandError(f"{label} failed its gates.")
        self.stdout.write(self.style.SUCCESS(f"{label} passed every gate."))


def _declared_jurisdiction(source: str) -> str:
    try:
        head = tomllib.loads(source).get("pack", {})
    except tomllib.TOMLDecodeError:
        head = {}
    value = head.get("jurisdiction") if isinstance(head, dict) else None
    if not isinstance(value, str):
        raise CommandError("Give --jurisdiction: the file does not declare one that parses.")
    return value
