"""Calibrated confidence: fitted probabilities match known ones, rise with the evidence, and the
decision records which fit made its confidence."""

import json
import math
import random

import pytest

from classification.engine import calibration, classify
from tests.classification.engine import fakes
from tests.classification.engine.fakes import facts
from tests.tariff_fakes import FakeReference


def test_a_fit_on_synthetic_cases_recovers_their_known_probabilities():
    rng = random.Random(7)

    def truth(x):  # the probability that generated the labels
        return 1 / (1 + math.exp(-(-2.0 + 3.0 * x["retrieval_share"] + 2.5 * x["same_product"])))

    rows = []
    for _ in range(6000):
        x = {"retrieval_share": rng.random(), "same_product": float(rng.random() < 0.2)}
        rows.append((x, rng.random() < truth(x)))
    fitted = calibration.fit(rows, version="synthetic", fitted_on="synthetic")
    for share in (0.1, 0.5, 0.9):
        for same in (0.0, 1.0):
            x = {"retrieval_share": share, "same_product": same}
            assert abs(fitted.probability(x) - truth(x)) < 0.04
    assert fitted.cases == 6000


def test_the_default_fit_is_monotone_in_the_evidence():
    fit = calibration.default()
    base = dict.fromkeys(calibration.FEATURES, 0.0)
    shares = [fit.probability({**base, "retrieval_share": s / 10}) for s in range(11)]
    assert shares == sorted(shares)
    similar = [
        fit.probability({**base, "meaning": 1.0, "meaning_similarity": s / 10})
        for s in range(5, 11)
    ]
    assert similar == sorted(similar)
    assert fit.probability({**base, "same_product": 1.0}) > 0.95
    assert fit.probability({**base, "agree": 1.0}) > fit.probability(base)


def test_the_decision_records_the_fit_and_its_confidence_is_the_fits_probability():
    fit = calibration.Calibration(
        version="test-fit", coef=(0.0,) * len(calibration.FEATURES), intercept=1.0
    )
    decision = classify(
        facts("Crew neck knitted t-shirt for men"),
        pack=fakes.pack(),
        reference=FakeReference(search=[]),
        calibration=fit,
    )
    assert decision.calibration["version"] == "test-fit"
    assert decision.confidence == pytest.approx(1 / (1 + math.exp(-1.0)), abs=1e-4)
    assert decision.outcome == "needs_review"  # 0.73 is below the pack's 0.82
    assert "low_confidence" in decision.reason_codes
    assert decision.to_json()["calibration"]["features"]["rule"] == 1.0


def test_a_fit_needs_cases_both_right_and_wrong():
    with pytest.raises(ValueError, match="both right and wrong"):
        calibration.fit([({"retrieval_share": 0.5}, True)] * 10, version="v", fitted_on="")


def test_a_stored_fit_must_name_one_coefficient_per_feature():
    data = json.loads(calibration.DEFAULT_PATH.read_text())
    data["coef"] = data["coef"][:-1]
    with pytest.raises(ValueError, match="one coefficient a feature"):
        calibration.Calibration.from_json(data)
