"""Held-out checks of the calibration method: cross-fit on two halves, and how far to trust it.

``cross_fit`` fits ``calibration.fit`` on each half of a labelled set and checks it on the
other: the expected calibration error (ECE) both ways, in-sample and pooled, the gap between
the mean probability and the share right (a floor under the ECE: no binning hides it), and the
precision of the rows at p ≥ 0.90. Two figures say how much of a held-out ECE is noise:

- an interval over resamplings of the cases of both halves (rows of one case go together: the
  modes of ``classification_calibrate`` give each case five rows, not five cases);
- the ECE a fit that is exactly right scores: labels drawn from the fit on both halves, one
  draw per case and distinct features (rows of a case with the same features are the same best
  candidate, right or wrong together), fitted and checked the same way. A method can only be
  told apart from another by a difference well outside this.

Rows are ``(features dict, right at 6 digits, case id)``. Offline only: each fit is scikit-learn.
"""

import dataclasses
import json
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from classification.engine import calibration

BINS = 10  # as classification_eval and the tenant refit report it
HIGH = 0.90  # the precision the confidence promises where it is this high


def ece(scored: Sequence[tuple[float, bool]], bins: int = BINS) -> float:
    """Return the expected calibration error of ``(probability, right)`` pairs over ``bins``."""
    groups: dict[int, list] = {}
    for p, y in scored:
        groups.setdefault(min(int(p * bins), bins - 1), []).append((p, y))
    return sum(
        abs(sum(p for p, _ in g) - sum(1 for _, y in g if y)) / len(scored) for g in groups.values()
    )


@dataclass(frozen=True)
class Direction:
    """A fit on one half, checked on the other."""

    fit_on: str
    check_on: str
    rows: int
    ece: float
    in_sample: float
    mean_p: float
    rate: float
    high: int  # held-out rows at p ≥ HIGH
    high_right: float | None  # … the share of them right
    interval: tuple[float, float] | None = None  # 10th–90th percentile over case resamplings
    exact: tuple[float, float, float] | None = None  # a right fit's 10th, 50th, 90th percentile


@dataclass(frozen=True)
class CrossFit:
    directions: tuple[Direction, Direction]
    pooled: float  # the ECE of both held-out halves scored together
    resamples: int


def _pairs(rows) -> list:
    return [(x, y) for x, y, _ in rows]


def _check(fit_rows, check_rows) -> tuple[float, list]:
    """Fit on ``fit_rows``; return its in-sample ECE and the held-out ``(p, right)`` pairs."""
    fitted = calibration.fit(_pairs(fit_rows), version="cross-fit", fitted_on="")
    in_sample = ece([(fitted.probability(x), y) for x, y, _ in fit_rows])
    return in_sample, [(fitted.probability(x), y) for x, y, _ in check_rows]


def _direction(fit_on, check_on, halves) -> tuple[Direction, list]:
    in_sample, scored = _check(halves[fit_on], halves[check_on])
    high = [y for p, y in scored if p >= HIGH]
    return Direction(
        fit_on=fit_on,
        check_on=check_on,
        rows=len(scored),
        ece=ece(scored),
        in_sample=in_sample,
        mean_p=sum(p for p, _ in scored) / len(scored),
        rate=sum(1 for _, y in scored if y) / len(scored),
        high=len(high),
        high_right=sum(high) / len(high) if high else None,
    ), scored


def cross_fit(halves: dict[str, list], *, resamples: int = 200, seed: int = 1) -> CrossFit:
    """Fit on each of the two ``halves`` (name → rows) and check on the other.

    With ``resamples``, also the 10th–90th percentile of each held-out ECE over resamplings of
    the cases, and the ECE of a fit that is exactly right (see the module's docstring).
    """
    halves = {name: [r for r in rows if r[0]] for name, rows in halves.items()}
    if len(halves) != 2:
        raise ValueError("a cross-fit needs exactly two halves")
    a, b = sorted(halves)
    (one, scored_one), (two, scored_two) = _direction(a, b, halves), _direction(b, a, halves)
    if resamples:
        rng = random.Random(seed)
        spread = _spread(halves, (a, b), resamples, rng)
        exact = _exact(halves, (a, b), resamples, rng)
        one = _with(one, spread[0], exact[0])
        two = _with(two, spread[1], exact[1])
    return CrossFit((one, two), ece(scored_one + scored_two), resamples)


def _with(d: Direction, values: list, exact: list) -> Direction:
    low, _, high = _deciles(values)
    return dataclasses.replace(d, interval=(low, high), exact=_deciles(exact))


def _deciles(values: list) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=10)
    return cuts[0], statistics.median(values), cuts[-1]


def _by_case(rows) -> list[list]:
    cases: dict = {}
    for row in rows:
        cases.setdefault(row[2], []).append(row)
    return list(cases.values())


def _spread(halves, names, resamples, rng) -> tuple[list, list]:
    """Held-out ECE both ways over resamplings (with replacement) of each half's cases."""
    cases = {name: _by_case(halves[name]) for name in names}
    out: tuple[list, list] = ([], [])
    for _ in range(resamples):
        drawn = {
            name: [row for case in rng.choices(c, k=len(c)) for row in case]
            for name, c in cases.items()
        }
        for i, (fit_on, check_on) in enumerate((names, names[::-1])):
            out[i].append(ece(_check(drawn[fit_on], drawn[check_on])[1]))
    return out


def _exact(halves, names, resamples, rng) -> tuple[list, list]:
    """Held-out ECE both ways when the labels are drawn from the fit on both halves."""
    truth = calibration.fit(
        _pairs(halves[names[0]] + halves[names[1]]), version="truth", fitted_on=""
    )
    keyed = {
        name: [
            (x, truth.probability(x), case, (name, case, json.dumps(x, sort_keys=True)))
            for x, _, case in rows
        ]
        for name, rows in halves.items()
    }
    out: tuple[list, list] = ([], [])
    for _ in range(resamples):
        draws: dict = {}
        drawn = {
            name: [(x, draws.setdefault(key, rng.random()) < p, case) for x, p, case, key in rows]
            for name, rows in keyed.items()
        }
        for i, (fit_on, check_on) in enumerate((names, names[::-1])):
            out[i].append(ece(_check(drawn[fit_on], drawn[check_on])[1]))
    return out


def render(result: CrossFit) -> str:
    """Return the cross-fit as the lines ``classification_calibrate --cross-fit`` prints."""
    lines = ["Cross-fit: fit on one half, check on the other (ECE at 6 digits, 10 bins)"]
    for d in result.directions:
        high = f"{d.high_right:.3f}" if d.high_right is not None else "-"
        lines.append(
            f"  {d.fit_on} → {d.check_on}: held-out ECE {d.ece:.4f} (in-sample {d.in_sample:.4f})"
            f", {d.rows} rows; mean p {d.mean_p:.3f} against {d.rate:.3f} right (the ECE is "
            f"at least the gap, {abs(d.mean_p - d.rate):.3f}); p ≥ {HIGH:.2f}: {d.high} rows, "
            f"{high} right"
        )
        if d.interval is not None and d.exact is not None:
            lines.append(
                f"    over {result.resamples} resamplings of the cases: {d.interval[0]:.4f}–"
                f"{d.interval[1]:.4f}; a fit that is exactly right scores {d.exact[1]:.4f} "
                f"({d.exact[0]:.4f}–{d.exact[2]:.4f})"
            )
    lines.append(f"  Both held-out halves pooled: ECE {result.pooled:.4f}")
    return "\n".join(lines)
