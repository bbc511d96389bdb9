"""Measure the engine's accuracy on labelled cases (see ``classification.engine.evaluation``).

With ``--learn-fraction`` it also measures learning: part of the cases is finalized by a broker
in a scratch tenant (``classification.learning``), and the rest is evaluated with those
precedents and, as the baseline, without any.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classification import engine
from classification.engine import calibration, evaluation
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference


class Command(BaseCommand):
    help = (
        "Run the classification engine over a labelled CSV and print accuracy at 2, 4, 6 digits "
        "and full length, HS6 recall in the top 5, 10 and N, the outcome mix, the share and "
        "precision of 'classified' and calibration (against hits at 6 digits). With --tenant "
        "the tenant's active pack for the jurisdiction is used; without it, search and "
        "precedents only (every outcome is then 'blocked' / no_active_rule_pack, and the ranking "
        "is still scored). With --learn-fraction F, a seeded share F of the cases is finalized "
        "by a broker in a scratch tenant that is rolled back, and the rest is evaluated with "
        "those precedents and without them (the baseline)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", required=True, help="CSV file of labelled cases.")
        parser.add_argument("--jurisdiction", required=True, help="US, EU or GB.")
        parser.add_argument("--tenant", help="Tenant slug whose active rule pack is used.")
        parser.add_argument("--top", type=int, default=5, help="N for HS6 recall in the top N.")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument(
            "--calibration",
            help="JSON file of a calibration fit (classification_calibrate) to use instead of "
            "the engine's default",
        )
        parser.add_argument("--limit", type=int, default=0, help="Evaluate the first N cases.")
        parser.add_argument(
            "--learn-fraction",
            type=float,
            help="Finalize this share of the cases (0 < F < 1) as broker decisions first, then "
            "evaluate the rest with and without them.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            help="Seed of the learning split (default 1).",
        )

    def handle(self, *args, **options):
        jurisdiction = options["jurisdiction"].upper()
        allowed = tuple(getattr(settings, "JURISDICTIONS", ("US", "EU", "GB")))
        if jurisdiction not in allowed:
            raise CommandError(
                f"--jurisdiction {jurisdiction!r} is not one of {', '.join(allowed)}"
            )
        if options["top"] < 1:
            raise CommandError("--top must be at least 1")
        fraction = options["learn_fraction"]
        if fraction is not None and not 0 < fraction < 1:
            raise CommandError(
                f"--learn-fraction must be greater than 0 and less than 1 (such as 0.25), "
                f"not {fraction:g}"
            )
        if options["seed"] is not None and fraction is None:
            raise CommandError("--seed needs --learn-fraction: it seeds the learning split")
        cases = read_cases_file(Path(options["cases"]), jurisdiction)
        if options["limit"]:
            cases = cases[: options["limit"]]
        reference = tariff_reference.get_reference(jurisdiction)
        if reference is None:
            raise CommandError(
                f"no tariff schedule or HS nomenclature is loaded for {jurisdiction}"
            )
        pack, precedents = tenant_context(
            options.get("tenant"), jurisdiction, with_precedents=fraction is None
        )
        mode = (
            f"pack {pack.name} v{pack.version}"
            if pack is not None
            else "search and precedents only"
        )
        mode += f", schedule {reference.jurisdiction} {reference.revision}"
        mode += f", engine {engine.ENGINE_VERSION}"
        fit = self._calibration(options.get("calibration"))
        mode += f", calibration {(fit or calibration.default()).version}"
        run = _Runner(pack=pack, reference=reference, top=options["top"], calibration=fit)
        mode += f", semantic search {run.semantic or 'on'}"
        mode += f", lexicon {'on' if run.lexicon is not None else 'not loaded'}"
        if fraction is None:
            rep = run.report(cases, precedents)
            data, text = {"mode": mode, **rep.as_dict()}, evaluation.render(rep, mode=mode)
        else:
            seed = 1 if options["seed"] is None else options["seed"]
            data, text = self._learn(run, cases, jurisdiction, fraction, seed, mode)
        self.stdout.write(json.dumps(data, indent=2) if options["json"] else text)

    def _calibration(self, location: str | None):
        """Return the calibration fit in a JSON file, or None for the engine's default."""
        if not location:
            return None
        try:
            return calibration.Calibration.from_json(json.loads(Path(location).read_text()))
        except OSError as err:
            raise CommandError(f"cannot read {location}: {err.strerror or err}") from err
        except (ValueError, KeyError, TypeError) as err:
            raise CommandError(f"{location} is not a calibration fit: {err}") from err

    def _learn(self, run, cases, jurisdiction, fraction, seed, mode) -> tuple[dict, str]:
        """Finalize a seeded share of the cases, evaluate the rest with and without them."""
        from classification import learning
        from classification.learning import services as learning_services

        try:
            learn, rest = evaluation.split(cases, fraction=fraction, seed=seed)
        except evaluation.CasesError as err:
            raise CommandError(str(err)) from err
        labelled = []
        for case in learn:
            code = evaluation.learning_code(case, run.reference)
            if code is not None:
                labelled.append(learning_services.LabelledCase(case.id, case.facts, code))
        index, finalized = learning.learned_precedents(
            jurisdiction=jurisdiction, cases=labelled, reference=run.reference
        )
        learned = run.report(rest, index)
        # The baseline is the same rows with an empty index, not the tenant's precedents: the
        # difference is then exactly what the finalized cases taught.
        baseline = run.report(rest, engine.PrecedentIndex([]))
        info = {
            "fraction": fraction,
            "seed": seed,
            "finalized": finalized,
            "evaluated": len(rest),
            "not_learned_no_declarable_line": len(learn) - len(labelled),
        }
        mode += f", learning from {finalized} finalized cases (fraction {fraction:g}, seed {seed})"
        data = {"mode": mode, **learned.as_dict(), "baseline": baseline.as_dict(), "learned": info}
        gain = 100 * (learned.accuracy["6"] - baseline.accuracy["6"])
        text = "\n".join(
            [
                evaluation.render(learned, mode=mode),
                "",
                f"Learned: {finalized} of {len(learn)} drawn cases finalized as broker "
                f"decisions ({info['not_learned_no_declarable_line']} without a declarable "
                f"line); {len(rest)} evaluated.",
                f"HS6 top-1 with precedents {100 * learned.accuracy['6']:.1f} %, baseline "
                f"without {100 * baseline.accuracy['6']:.1f} %, gain {gain:+.1f} points.",
                "",
                "Baseline (the same cases, no precedents):",
                evaluation.render(baseline, mode=mode.split(", learning from")[0]),
            ]
        )
        return data, text


def read_cases_file(path: Path, jurisdiction: str) -> list:
    """Read a labelled cases CSV; a CommandError says what is wrong and where."""
    try:
        return evaluation.read_cases(path.read_text(encoding="utf-8"), jurisdiction=jurisdiction)
    except OSError as err:
        raise CommandError(f"cannot read {path}: {err.strerror or err}") from err
    except (evaluation.CasesError, UnicodeDecodeError) as err:
        raise CommandError(f"{path}: {err}") from err


def tenant_context(slug, jurisdiction, *, with_precedents: bool = True):
    """Return the tenant's active compiled pack and precedent index (None, None without one).

    Reads only: the learning evaluation takes the pack and leaves the precedents out.
    """
    if not slug:
        return None, None
    from classification import selectors as decision_selectors
    from rulepacks import selectors as pack_selectors
    from workbench.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"no tenant {slug!r}")
    active = pack_selectors.active_compiled(tenant, jurisdiction)
    if active is None:
        raise CommandError(f"tenant {slug!r} has no active rule pack for {jurisdiction}")
    _, pack = active
    if not with_precedents:
        return pack, None
    return pack, decision_selectors.precedents_for(tenant.pk, jurisdiction)


class _Runner:
    """Classify and score cases with one pack and reference; only the precedents vary."""

    def __init__(self, *, pack, reference, top: int, calibration=None):
        self.pack, self.reference, self.top = pack, reference, top
        self.calibration = calibration
        # An evaluation measures the engine at its best: wait for the semantic index (built once
        # per revision) rather than score rows with word search only while it builds.
        semantic = getattr(reference, "semantic", None)
        self.semantic = semantic(wait=True)[1] if semantic is not None else "not offered"
        transformer = getattr(reference, "transformer", None)
        if transformer is not None:  # the transformer's line vectors too (minutes, once)
            transformer(wait=True)
        self.lexicon = tariff_lexicon.get_lexicon()

    def known(self, code: str) -> bool:
        return self.reference.line(code) is not None

    def report(self, cases, precedents) -> evaluation.Report:
        scored = []
        for case in cases:
            decision = engine.classify(
                case.facts,
                pack=self.pack,
                reference=self.reference,
                precedents=precedents,
                rank_without_pack=self.pack is None,
                lexicon=self.lexicon,
                calibration=self.calibration,
            )
            scored.append(evaluation.score_case(case, decision, top=self.top, known=self.known))
        retired = sum(1 for c in cases for e in c.expected if not self.known(e))
        return evaluation.report(scored, top=self.top, retired=retired)
