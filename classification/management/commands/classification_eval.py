"""Measure the engine's accuracy on labelled cases (see ``classification.engine.evaluation``)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classification import engine
from classification.engine import evaluation
from tariffs import reference as tariff_reference


class Command(BaseCommand):
    help = (
        "Run the classification engine over a labelled CSV and print accuracy at 2, 4, 6 digits "
        "and full length, HS6 recall in the top N, the outcome mix, the precision of "
        "'classified' and calibration. With --tenant the tenant's active pack for the "
        "jurisdiction is used; without it, search and precedents only (every outcome is then "
        "'blocked' / no_active_rule_pack, and the ranking is still scored)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", required=True, help="CSV file of labelled cases.")
        parser.add_argument("--jurisdiction", required=True, help="US, EU or GB.")
        parser.add_argument("--tenant", help="Tenant slug whose active rule pack is used.")
        parser.add_argument("--top", type=int, default=5, help="N for HS6 recall in the top N.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--limit", type=int, default=0, help="Evaluate the first N cases.")

    def handle(self, *args, **options):
        jurisdiction = options["jurisdiction"].upper()
        allowed = tuple(getattr(settings, "JURISDICTIONS", ("US", "EU", "GB")))
        if jurisdiction not in allowed:
            raise CommandError(
                f"--jurisdiction {jurisdiction!r} is not one of {', '.join(allowed)}"
            )
        if options["top"] < 1:
            raise CommandError("--top must be at least 1")
        path = Path(options["cases"])
        try:
            cases = evaluation.read_cases(
                path.read_text(encoding="utf-8"), jurisdiction=jurisdiction
            )
        except OSError as err:
            raise CommandError(f"cannot read {path}: {err.strerror or err}") from err
        except (evaluation.CasesError, UnicodeDecodeError) as err:
            raise CommandError(f"{path}: {err}") from err
        if options["limit"]:
            cases = cases[: options["limit"]]
        reference = tariff_reference.get_reference(jurisdiction)
        if reference is None:
            raise CommandError(
                f"no tariff schedule or HS nomenclature is loaded for {jurisdiction}"
            )
        pack, precedents = self._tenant_context(options.get("tenant"), jurisdiction)
        known = lambda code: reference.line(code) is not None  # noqa: E731
        scored = []
        for case in cases:
            decision = engine.classify(
                case.facts,
                pack=pack,
                reference=reference,
                precedents=precedents,
                rank_without_pack=pack is None,
            )
            scored.append(evaluation.score_case(case, decision, top=options["top"], known=known))
        retired = sum(1 for c in cases for e in c.expected if not known(e))
        rep = evaluation.report(scored, top=options["top"], retired=retired)
        mode = (
            f"pack {pack.name} v{pack.version}"
            if pack is not None
            else "search and precedents only"
        )
        mode += f", schedule {reference.jurisdiction} {reference.revision}"
        mode += f", engine {engine.ENGINE_VERSION}"
        if options["json"]:
            self.stdout.write(json.dumps({"mode": mode, **rep.as_dict()}, indent=2))
        else:
            self.stdout.write(evaluation.render(rep, mode=mode))

    def _tenant_context(self, slug, jurisdiction):
        """Return the tenant's active compiled pack and precedent index (None, None without one)."""
        if not slug:
            return None, None
        from rulepacks import selectors as pack_selectors
        from workbench.models import Tenant

        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}")
        active = pack_selectors.active_compiled(tenant, jurisdiction)
        if active is None:
            raise CommandError(f"tenant {slug!r} has no active rule pack for {jurisdiction}")
        _, pack = active
        precedents = None
        try:  # the tenant's finalized decisions (classification.selectors, the lead's module)
            from classification import selectors as decision_selectors
        except ImportError:
            decision_selectors = None
        load = getattr(decision_selectors, "precedents_for", None)
        if load is not None:
            precedents = load(tenant.pk, jurisdiction)
        return pack, precedents
