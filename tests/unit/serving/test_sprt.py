"""The mixture SPRT: its false-positive rate at the stated alpha, and its power, by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlta.serving.sprt import MixtureSPRT, crossings, log_mixture_ratio

REPS, N = 2000, 2000


def _fpr(draw: np.ndarray, alpha: float) -> float:
    return float((crossings(draw, alpha) > 0).mean())


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_false_positive_rate_under_equal_arms_is_at_most_alpha(alpha: float) -> None:
    """Continuous monitoring of 2000 outcomes: the share of runs that ever decide <= alpha
    (plus 3 Monte Carlo standard errors), for normal, zero-inflated and skewed differences."""
    rng = np.random.default_rng(20240611)
    mc = 3 * math.sqrt(alpha * (1 - alpha) / REPS)
    normal = rng.normal(0.0, 1.0, (REPS, N))
    zero_inflated = np.where(rng.random((REPS, N)) < 0.6, 0.0, rng.normal(0, 1, (REPS, N)))
    skewed = rng.exponential(1.0, (REPS, N)) - rng.exponential(1.0, (REPS, N))
    for draw in (normal, zero_inflated, skewed):
        assert _fpr(draw, alpha) <= alpha + mc


def test_power_and_direction_with_a_real_effect() -> None:
    rng = np.random.default_rng(7)
    better = rng.normal(0.15, 1.0, (500, N))
    worse = rng.normal(-0.15, 1.0, (500, N))
    assert (crossings(better, 0.05) > 0).mean() > 0.9
    for row in better[:20]:
        test = MixtureSPRT(0.05)
        decisions = {test.add(float(x)) for x in row}
        assert "worse" not in decisions
    test = MixtureSPRT(0.05)
    for x in worse[0]:
        test.add(float(x))
    assert test.decision == "worse" and test.summary("c")["decision"] == "worse"


def test_class_and_vectorized_rule_agree() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(0.1, 1.0, (30, 800))
    expected = crossings(rows, 0.05)
    for row, at in zip(rows, expected, strict=True):
        test = MixtureSPRT(0.05)
        decided_at = 0
        for i, x in enumerate(row, start=1):
            if test.add(float(x)) != "undecided" and not decided_at:
                decided_at = i
        assert decided_at == at


def test_edges() -> None:
    assert log_mixture_ratio(0, 0.0, 1.0, 0.5) == 0.0
    assert log_mixture_ratio(10, 1.0, 0.0, 0.5) == 0.0
    test = MixtureSPRT(0.05, min_samples=10)
    assert test.mean is None and test.variance == 0.0 and test.log_statistic == 0.0
    test.add(float("nan"))
    assert test.n == 0
    for _ in range(50):
        test.add(1.0)  # no variance: never decides on a constant
    assert test.decision == "undecided" and test.threshold == 20.0
