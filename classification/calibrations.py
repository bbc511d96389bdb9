"""Reads for a tenant's calibration: its labelled cases, its newest fit, the fit in use.

``calibration_cases`` is what ``services.calibration_fit`` fits on; ``current_calibration`` is
what a worker's engine context applies; ``calibrations_in_use`` is the requests page's line.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from classification import engine
from classification.engine import calibration as engine_calibration
from classification.models import CalibrationFit, ReviewState, ReviewStatus
from rulepacks import backtest as rulepack_backtest
from rulepacks import selectors as rulepack_selectors
from tariffs import lexicon as tariff_lexicon
from tariffs import reference as tariff_reference
from workbench.models import Tenant


@dataclass(frozen=True)
class CalibrationCases:
    """A tenant's labelled cases: ``rows`` of ``(features of the best candidate, right at 6)``."""

    jurisdiction: str
    rows: list
    decisions: int  # finalized decisions used
    backtest: int  # backtest cases of the active pack used
    without_features: int  # finalized decisions skipped: their engine recorded no features
    without_label: int  # backtest cases skipped: no expected code, or no candidate

    @property
    def right(self) -> int:
        return sum(1 for _, right in self.rows if right)

    @property
    def summary(self) -> str:
        text = (
            f"{_plural(self.decisions, 'finalized decision')}, "
            f"{_plural(self.backtest, 'backtest case')}"
        )
        if self.without_features:
            text += f" ({self.without_features} older decisions without features skipped)"
        return text


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _hs6(code: str | None) -> str:
    digits = "".join(ch for ch in str(code or "") if ch.isdigit())
    return digits[:6] if len(digits) >= 6 else ""


def calibration_cases(tenant_id: int, jurisdiction: str) -> CalibrationCases:
    """Return the tenant's labelled cases for ``jurisdiction`` to fit its calibration on.

    Finalized decisions (by a person) give the features the engine recorded at decision time
    (``evidence.calibration.features``, those of its best candidate), right when that candidate
    shares its first 6 digits with the broker's final code; decisions of an engine that recorded
    no features are skipped and counted. The active pack's golden and uploaded backtest cases
    are classified now, as a worker would but without the tenant's precedents (a finalized twin
    of a case would answer for it), right when the best candidate shares 6 digits with the
    expected code. Reads only this tenant's rows; one query for the decisions.
    """
    rows, without_features = [], 0
    finals = (
        ReviewState.objects.filter(
            tenant_id=tenant_id, jurisdiction=jurisdiction, status=ReviewStatus.FINAL
        )
        # A decision made final without a person (on a pack's authority) would label the
        # machine right by construction: only a broker's final code is a label.
        .exclude(decided_by=None)
        .order_by("decision_id")
        .values_list(
            "final_code",
            "decision__evidence__calibration__features",
            "decision__evidence__candidates__0__code",
        )
    )
    for final_code, features, best in finals:
        if not features or not best or not _hs6(final_code):
            without_features += 1
            continue
        rows.append((features, _hs6(best) == _hs6(final_code)))
    decisions = len(rows)
    backtest_rows, without_label = _backtest_rows(tenant_id, jurisdiction)
    return CalibrationCases(
        jurisdiction=jurisdiction,
        rows=rows + backtest_rows,
        decisions=decisions,
        backtest=len(backtest_rows),
        without_features=without_features,
        without_label=without_label,
    )


def _backtest_rows(tenant_id: int, jurisdiction: str) -> tuple[list, int]:
    """Classify the active pack's golden and uploaded cases; return their rows and the skipped.

    The pack's decision cases are left out: they are the finalized decisions counted already.
    """
    active = rulepack_selectors.active_compiled(Tenant(pk=tenant_id), jurisdiction)
    if active is None:
        return [], 0
    pack_row, compiled = active
    cases = rulepack_backtest.golden_cases(compiled) + [
        rulepack_backtest.Case.from_dict(c) for c in pack_row.backtest_cases or []
    ]
    reference = tariff_reference.get_reference(jurisdiction)
    lexicon = tariff_lexicon.get_lexicon()
    rows, skipped = [], 0
    for case in cases:
        expected = _hs6(case.expect_code)
        if not expected:  # a case expected blocked says nothing about a code being right
            skipped += 1
            continue
        decision = engine.classify(
            case.facts,
            pack=compiled,
            reference=reference,
            rank_without_pack=False,
            lexicon=lexicon,
        )
        features = decision.calibration["features"]
        if not decision.candidates or not features:
            skipped += 1
            continue
        rows.append((features, _hs6(decision.candidates[0].code) == expected))
    return rows, skipped


def current_calibration(tenant_id: int, jurisdiction: str):
    """Return the tenant's newest ``Calibration`` for ``jurisdiction``, or None (the engine's
    default applies). One query, on the (tenant, jurisdiction, n) unique index."""
    data = (
        CalibrationFit.objects.filter(tenant_id=tenant_id, jurisdiction=jurisdiction)
        .order_by("-n")
        .values_list("fit", flat=True)
        .first()
    )
    return engine_calibration.Calibration.from_json(data) if data is not None else None


@dataclass(frozen=True)
class CalibrationInUse:
    """Which calibration a jurisdiction's decisions use: the tenant's fit or the default."""

    jurisdiction: str
    version: str
    cases: int = 0
    fitted_at: object | None = None  # None: the engine's default fit

    @property
    def label(self) -> str:
        if self.fitted_at is None:
            return f"engine default {self.version}"
        day = timezone.localdate(self.fitted_at).isoformat()
        return f"tenant fit {self.version}, {self.cases} cases, fitted {day}"


def calibrations_in_use(tenant) -> list[CalibrationInUse]:
    """Return the calibration in use per configured jurisdiction of ``tenant`` (one query)."""
    newest = {
        j: CalibrationInUse(j, version, cases, fitted_at)
        for j, version, cases, fitted_at in CalibrationFit.objects.filter(tenant=tenant)
        .order_by("jurisdiction", "-n")
        .distinct("jurisdiction")
        .values_list("jurisdiction", "version", "cases", "fitted_at")
    }
    default = engine_calibration.default().version
    jurisdictions = list(dict.fromkeys([*settings.JURISDICTIONS, *newest]))
    return [newest.get(j) or CalibrationInUse(j, default) for j in jurisdictions]
