"""Drift statistics on distributions with a known answer, NaN handling, and scipy agreement."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlta.errors import DataError
from mlta.features.drift import (
    DriftReport,
    DriftThresholds,
    drift_report,
    feature_drift,
    kolmogorov_pvalue,
    ks_2samp,
    ks_statistic,
    psi,
)

RNG = np.random.default_rng(12)
REF = RNG.normal(size=5000)


def test_psi_identical_distribution_is_near_zero() -> None:
    same = np.random.default_rng(13).normal(size=5000)
    assert psi(REF, REF) == 0.0
    assert 0.0 <= psi(REF, same) < 0.01


def test_psi_grows_with_the_shift() -> None:
    values = [psi(REF, np.random.default_rng(1).normal(loc=shift, size=5000))
              for shift in (0.1, 0.5, 1.0, 2.0)]
    assert values == sorted(values)
    assert values[0] < 0.1 and values[2] > 0.2 and values[3] > 1.0
    # a scale change with the same mean is drift as well
    assert psi(REF, np.random.default_rng(2).normal(scale=3.0, size=5000)) > 0.2


def test_psi_matches_a_hand_computed_value() -> None:
    """Four equal-mass reference bins; current puts 0.1/0.2/0.3/0.4 into them."""
    ref = np.arange(1.0, 401.0)  # interior quartiles 100.75, 200.5, 300.25
    cur = np.concatenate([np.full(10, 50.0), np.full(20, 150.0), np.full(30, 250.0),
                          np.full(40, 350.0)])
    r = np.array([0.25, 0.25, 0.25, 0.25])
    c = np.array([0.1, 0.2, 0.3, 0.4])
    assert psi(ref, cur, bins=4) == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)


def test_psi_uses_epsilon_for_empty_bins() -> None:
    ref = np.arange(1000.0)
    cur = np.full(100, 10.0)  # everything in the lowest bin
    value = psi(ref, cur, bins=10, epsilon=1e-4)
    expected = (1.0 - 0.1) * math.log(1.0 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert value == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(value)


def test_ks_statistic_equals_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for shift, n in ((0.0, 300), (0.2, 800), (1.0, 50)):
        cur = np.random.default_rng(int(n)).normal(loc=shift, size=n)
        expected = stats.ks_2samp(REF, cur)
        d, p = ks_2samp(REF, cur)
        assert d == pytest.approx(expected.statistic, abs=1e-15)
        assert p == expected.pvalue
    # ties between the samples
    a = np.repeat(np.arange(10.0), 7)
    b = np.repeat(np.arange(3.0, 13.0), 5)
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-15)


def test_asymptotic_pvalue_agrees_with_scipy_on_large_samples() -> None:
    """The fallback used without scipy: close to scipy's asymptotic p-value."""
    stats = pytest.importorskip("scipy.stats")
    for shift in (0.0, 0.05, 0.08, 0.12):
        a = np.random.default_rng(3).normal(size=3000)
        b = np.random.default_rng(4).normal(loc=shift, size=2000)
        ref = stats.ks_2samp(a, b, method="asymp")
        ours = kolmogorov_pvalue(ks_statistic(a, b), a.size, b.size)
        assert ours == pytest.approx(ref.pvalue, abs=0.01, rel=0.05)
    assert kolmogorov_pvalue(0.0, 100, 100) == 1.0
    assert kolmogorov_pvalue(1.0, 1000, 1000) < 1e-100


def test_nan_values_are_left_out_and_reported() -> None:
    cur = np.random.default_rng(5).normal(size=2000)
    with_nans = np.concatenate([cur, np.full(500, np.nan), [np.inf, -np.inf]])
    clean = feature_drift("f_x", REF, cur)
    dirty = feature_drift("f_x", REF, with_nans)
    assert dirty.psi == clean.psi and dirty.ks_statistic == clean.ks_statistic
    assert dirty.current_count == 2000
    assert dirty.current_nan_fraction == pytest.approx(502 / 2502)
    assert dirty.status == "drift" and "NaN fraction" in dirty.reasons[0]
    assert clean.status == "ok"
    few = feature_drift("f_x", REF, np.array([1.0, np.nan, 2.0]),
                        DriftThresholds(nan_fraction_delta=1.0))
    assert few.status == "insufficient" and few.psi is None
    with pytest.raises(DataError, match="finite"):
        psi(REF, np.full(10, np.nan))


def test_report_flags_only_the_shifted_feature() -> None:
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"f_a": rng.normal(size=3000), "f_b": rng.normal(size=3000),
                              "f_c": rng.exponential(size=3000), "y_ret": rng.normal(size=3000)})
    current = pd.DataFrame({"f_a": rng.normal(size=1000), "f_b": rng.normal(loc=0.8, size=1000),
                            "f_c": rng.exponential(size=1000) * 1.5,
                            "y_ret": rng.normal(loc=5, size=1000)})
    report = drift_report(reference, current)
    assert [f.feature for f in report.features] == ["f_a", "f_b", "f_c"]  # labels left out
    assert report.drifted == ["f_b", "f_c"] and report.any_drift
    assert report.get("f_a").status == "ok"
    # f_c: a moderate PSI (0.1-0.2) but a clear KS shift; with KS off it only warns
    (reason,) = report.get("f_c").reasons
    assert reason.startswith("KS D")
    relaxed = drift_report(reference, current, ["f_c"], DriftThresholds(ks_statistic=1.0))
    assert relaxed.get("f_c").status == "warn" and not relaxed.any_drift
    assert report.get("f_b").psi is not None and report.get("f_b").psi > 0.2  # type: ignore[operator]
    assert DriftReport.model_validate_json(report.model_dump_json()) == report
    with pytest.raises(DataError, match="missing"):
        drift_report(reference, current.drop(columns=["f_a"]))
