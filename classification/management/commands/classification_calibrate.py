"""Fit the engine's calibration (confidence → probability right at 6 digits) on labelled cases.

The features of each case's best candidate are gathered in the modes the engine meets in use:
search alone, with a seeded share of the other cases finalized as broker precedents (through the
real precedent path, rolled back) for the rest and for the finalized cases themselves (a broker's
decision on the same product), and with a tenant's active pack when ``--tenant`` names one.
The fit is checked on held-out cases (``--check-split``) and written as JSON: by default the
engine's shipped fit, ``classification/engine/calibration_default.json``. ``--cross-fit`` writes
nothing: it fits on each half of the file's ``split`` column and checks on the other
(``engine/calibration_check.py``), each half gathered once.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classification import engine
from classification.engine import calibration, calibration_check, evaluation
from classification.management.commands import classification_eval as eval_command
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference


class Command(BaseCommand):
    help = (
        "Fit the calibrated confidence on a labelled CSV (classification_eval's format) and "
        "write it as JSON; report its calibration on held-out cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", required=True, help="CSV file of labelled cases.")
        parser.add_argument("--jurisdiction", required=True, help="US, EU or GB.")
        parser.add_argument("--fit-split", default="", help="fit on rows of this split only")
        parser.add_argument("--check-split", default="", help="report on rows of this split")
        parser.add_argument("--tenant", help="also fit with this tenant's active pack")
        parser.add_argument("--learn-fraction", type=float, default=0.5)
        parser.add_argument("--seeds", default="1,2,3", help="learning splits, comma-separated")
        parser.add_argument("--fit-version", help="version recorded on decisions (to write a fit)")
        parser.add_argument(
            "--cross-fit",
            action="store_true",
            help="fit on each half of the split column and check on the other: held-out ECE both "
            "ways, pooled, over resamplings of the cases and for a fit that is exactly right; "
            "writes nothing",
        )
        parser.add_argument(
            "--resamples", type=int, default=100, help="--cross-fit: resamplings (0: none)"
        )
        parser.add_argument(
            "--out", default=str(calibration.DEFAULT_PATH), help="JSON file to write"
        )

    def handle(self, *args, **options):
        jurisdiction = options["jurisdiction"].upper()
        seeds = _checked(options)
        cases = eval_command.read_cases_file(Path(options["cases"]), jurisdiction)
        halves = _halves(cases) if options["cross_fit"] else {}
        fit_cases = _of_split(cases, options["fit_split"])
        check_cases = _of_split(cases, options["check_split"])
        reference = tariff_reference.get_reference(jurisdiction)
        if reference is None:
            raise CommandError(f"no tariff schedule is loaded for {jurisdiction}")
        reference.semantic(wait=True)
        reference.transformer(wait=True)
        pack = None
        if options.get("tenant"):
            pack, _ = eval_command.tenant_context(
                options["tenant"], jurisdiction, with_precedents=False
            )
        gather = _Gatherer(
            reference, tariff_lexicon.get_lexicon(), jurisdiction, options["learn_fraction"]
        )
        if options["cross_fit"]:
            rows = {name: gather.all_modes(half, seeds, pack) for name, half in halves.items()}
            result = calibration_check.cross_fit(rows, resamples=options["resamples"])
            self.stdout.write(calibration_check.render(result))
            return
        fitted = calibration.fit(
            _pairs(gather.all_modes(fit_cases, seeds, pack)),
            version=options["fit_version"],
            fitted_on=(
                f"{Path(options['cases']).name} ({options['fit_split'] or 'all'} rows, "
                f"{len(fit_cases)} cases; search alone, learned precedents at "
                f"{options['learn_fraction']:g} seeds {seeds}"
                + (f", pack of {options['tenant']}" if pack is not None else "")
                + f"), engine {engine.ENGINE_VERSION}"
            ),
        )
        Path(options["out"]).write_text(json.dumps(fitted.to_json(), indent=2) + "\n")
        self.stdout.write(f"Fitted on {fitted.cases} rows; written to {options['out']}.")
        for name, value in zip(fitted.features, fitted.coef, strict=True):
            self.stdout.write(f"  {name:20} {value:+.3f}")
        self.stdout.write(f"  {'intercept':20} {fitted.intercept:+.3f}")
        held = gather.all_modes(check_cases, seeds, pack)
        scored = [(fitted.probability(x), y) for x, y, _ in held]
        self.stdout.write(_report(scored, options["check_split"] or "all"))


def _checked(options) -> list[int]:
    """Refuse options that do not go together (before the slow loading); return the seeds."""
    if options["cross_fit"] and (options["fit_split"] or options["check_split"]):
        raise CommandError("--cross-fit fits and checks on each half itself: no --fit-split")
    if not options["cross_fit"] and not options["fit_version"]:
        raise CommandError("--fit-version is required to write a fit")
    if options["resamples"] < 0:
        raise CommandError("--resamples must be 0 or more")
    try:
        return [int(s) for s in options["seeds"].split(",") if s.strip()]
    except ValueError as err:
        raise CommandError(f"--seeds: {options['seeds']!r} is not a list of numbers") from err


def _halves(cases) -> dict:
    splits = sorted({c.split for c in cases})
    if len(splits) != 2 or "" in splits:
        found = ", ".join(repr(s) for s in splits)
        raise CommandError(
            f"--cross-fit needs cases of exactly two splits (such as validation and test): {found}"
        )
    return {split: [c for c in cases if c.split == split] for split in splits}


def _pairs(rows) -> list:
    return [(x, y) for x, y, _ in rows]


def _of_split(cases, split: str):
    if not split:
        return cases
    chosen = [c for c in cases if c.split == split.lower()]
    if not chosen:
        raise CommandError(f"no case has split {split!r}")
    return chosen


class _Gatherer:
    """Collect ``(features, right at 6 digits, case id)`` of the engine's best candidate."""

    def __init__(self, reference, lexicon, jurisdiction, fraction):
        self.reference, self.lexicon = reference, lexicon
        self.jurisdiction, self.fraction = jurisdiction, fraction

    def rows(self, cases, precedents, pack) -> list:
        out = []
        for case in cases:
            decision = engine.classify(
                case.facts,
                pack=pack,
                reference=self.reference,
                precedents=precedents,
                rank_without_pack=pack is None,
                lexicon=self.lexicon,
            )
            if not decision.candidates:
                continue
            best = decision.candidates[0].code
            right = any(best[:6] == e[:6] for e in case.expected)
            out.append((decision.calibration["features"], right, case.id))
        return out

    def all_modes(self, cases, seeds, pack) -> list:
        from classification import learning
        from classification.learning import services as learning_services

        rows = self.rows(cases, None, None)
        if pack is not None:
            rows += self.rows(cases, None, pack)
        for seed in seeds:
            learn, rest = evaluation.split(cases, fraction=self.fraction, seed=seed)
            labelled = [
                learning_services.LabelledCase(c.id, c.facts, code)
                for c in learn
                if (code := evaluation.learning_code(c, self.reference)) is not None
            ]
            index, _ = learning.learned_precedents(
                jurisdiction=self.jurisdiction, cases=labelled, reference=self.reference
            )
            rows += self.rows(rest, index, None)
            # The finalized cases themselves, classified again: what a broker's decision on the
            # same product is worth (the "same product" precedents of daily use).
            rows += self.rows(
                [c for c in learn if c.id in {x.case_id for x in labelled}], index, None
            )
        return rows


def _report(scored, label: str) -> str:
    bins: dict[int, list] = {}
    for p, y in scored:
        bins.setdefault(min(int(p * 10), 9), []).append((p, y))
    lines = [f"Held-out check ({label}, {len(scored)} rows): bin, rows, mean p, right at 6"]
    ece = 0.0
    for b in sorted(bins):
        rows = bins[b]
        mean = sum(p for p, _ in rows) / len(rows)
        right = sum(1 for _, y in rows if y) / len(rows)
        ece += len(rows) / len(scored) * abs(mean - right)
        lines.append(f"  {b / 10:.1f}-{(b + 1) / 10:.1f}: {len(rows):5d}  {mean:.3f}  {right:.3f}")
    lines.append(f"Expected calibration error: {ece:.3f}")
    for cut in (0.5, 0.7, 0.82, 0.9, 0.95):
        above = [y for p, y in scored if p >= cut]
        if above:
            share = sum(above) / len(above)
            lines.append(f"  p ≥ {cut:.2f}: {len(above)} rows, right at 6 digits {share:.3f}")
    return "\n".join(lines)
