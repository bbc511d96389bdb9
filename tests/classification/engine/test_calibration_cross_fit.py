"""Cross-fit of the calibration: fitted on one half, checked on the other, with the figures that
say how much of a held-out error is noise."""

import math
import random

import pytest

from classification.engine import calibration_check


def truth(x):  # the probability that generated the labels
    return 1 / (1 + math.exp(-(-2.0 + 3.0 * x["retrieval_share"] + 4.0 * x["same_product"])))


def half(n_cases: int, seed: int, *, harder: float = 0.0) -> list:
    """Rows of ``n_cases`` cases, two rows a case (as search alone and with a pack): the same
    features and outcome. ``harder``: that share of the cases is wrong whatever the features."""
    rng = random.Random(seed)
    rows = []
    for case in range(n_cases):
        x = {"retrieval_share": rng.random(), "same_product": float(rng.random() < 0.3)}
        right = rng.random() < truth(x) and rng.random() >= harder
        rows += [(x, right, f"{seed}-{case}")] * 2
    return rows


def test_the_expected_calibration_error_weighs_each_bin_by_its_rows():
    scored = [(0.2, False)] * 4 + [(0.2, True)] + [(0.95, True)] * 5
    assert calibration_check.ece(scored) == pytest.approx(0.5 * 0.05)
    assert calibration_check.ece([(1.0, True), (0.0, False)]) == 0.0


def test_halves_drawn_alike_hold_out_as_well_as_they_fit():
    # Many cases: with few, the halves' shares right differ by chance (what the resamplings show).
    result = calibration_check.cross_fit(
        {"validation": half(5000, 1), "test": half(5000, 2)}, resamples=0
    )
    first, second = result.directions
    assert (first.fit_on, first.check_on) == ("test", "validation")
    assert (second.fit_on, second.check_on) == ("validation", "test")
    for d in result.directions:
        assert d.rows == 10000
        assert d.ece < 0.03 and d.in_sample < 0.03
        assert abs(d.mean_p - d.rate) < 0.015
        assert d.high > 0 and d.high_right > 0.9
        assert d.interval is None and d.exact is None
    assert result.pooled < 0.03


def test_a_harder_half_shows_as_a_gap_between_mean_probability_and_share_right():
    result = calibration_check.cross_fit(
        {"validation": half(2000, 1), "test": half(2000, 2, harder=0.25)}, resamples=0
    )
    to_test = next(d for d in result.directions if d.check_on == "test")
    assert to_test.mean_p - to_test.rate > 0.1
    # No binning hides the gap: it is a floor under the expected calibration error.
    for d in result.directions:
        assert d.ece >= abs(d.mean_p - d.rate) - 1e-9


def test_resamplings_give_an_interval_and_the_score_of_a_fit_that_is_exactly_right():
    halves = {"validation": half(300, 1), "test": half(300, 2)}
    result = calibration_check.cross_fit(halves, resamples=12, seed=5)
    for d in result.directions:
        low, high = d.interval
        assert 0 <= low <= high < 0.5
        assert d.exact[0] <= d.exact[1] <= d.exact[2]
    assert calibration_check.cross_fit(halves, resamples=12, seed=5) == result  # seeded
    text = calibration_check.render(result)
    assert "test → validation: held-out ECE" in text
    assert "over 12 resamplings of the cases" in text
    assert "a fit that is exactly right scores" in text
    assert "Both held-out halves pooled" in text


def test_a_cross_fit_needs_exactly_two_halves():
    with pytest.raises(ValueError, match="exactly two halves"):
        calibration_check.cross_fit({"a": half(50, 1), "b": half(50, 2), "c": half(50, 3)})
