"""Column transforms: values against pandas, NaN rules, naming, pattern resolution, spec errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mlta.errors import SpecError
from mlta.features.pipeline import build_features, feature_columns, plan_features
from mlta.features.transforms import (
    diff,
    lag,
    pct_change,
    plan_transforms,
    rolling_moments,
)
from mlta.specs.datapipeline import (
    Features,
    IndicatorSpec,
    TransformKind,
    TransformSpec,
    default_exclude,
    default_indicators,
    default_transforms,
)

from .conftest import generated_candles


def _series(n: int = 600, seed: int = 5, offset: float = 0.0) -> np.ndarray:
    """A noisy series with NaN and inf gaps, a zero, a constant stretch and a large offset."""
    rng = np.random.default_rng(seed)
    x = offset + np.cumsum(rng.normal(0.0, 1.0, n))
    x[[40, 41, 300]] = np.nan
    x[350] = np.inf
    x[120] = 0.0
    x[400:460] = x[399]
    return x


def _pandas_rolling(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = pd.Series(np.where(np.isfinite(x), x, np.nan))
    roll = s.rolling(w, min_periods=w)
    mean = roll.mean().to_numpy()
    std = roll.std(ddof=0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, (s.to_numpy() - mean) / std, np.where(np.isnan(std), np.nan, 0.0))
    return mean, std, z


def test_lag_diff_pct_change_against_pandas() -> None:
    x = _series()
    s = pd.Series(x)
    for p in (1, 3, 17):
        np.testing.assert_array_equal(lag(x, p), s.shift(p).to_numpy())
        np.testing.assert_array_equal(diff(x, p), (s - s.shift(p)).to_numpy())
        prev = s.shift(p)
        expected = np.where(prev == 0.0, np.nan, s / prev - 1.0)
        np.testing.assert_array_equal(pct_change(x, p), expected)
    # x[120] is 0: the change from it is NaN, not an infinite feature
    assert np.isnan(pct_change(x, 1)[121])
    assert np.isnan(lag(x[:3], 5)).all()


@pytest.mark.parametrize("w", [2, 7, 50])
def test_rolling_moments_against_pandas(w: int) -> None:
    x = _series()
    mean, std, z = rolling_moments(x, w)
    p_mean, p_std, p_z = _pandas_rolling(x, w)
    for ours, ref in ((mean, p_mean), (std, p_std)):
        assert np.array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    # z-scores of a nearly constant window are noise in pandas; compare where std is real
    real = p_std > 1e-6
    np.testing.assert_allclose(z[real], p_z[real], rtol=1e-7, atol=1e-9)
    # NaN exactly where the window holds a non-finite value or is not full yet
    bad = pd.Series(~np.isfinite(x)).rolling(w, min_periods=1).max().to_numpy() > 0
    bad[: w - 1] = True
    np.testing.assert_array_equal(np.isnan(mean), bad)


def test_rolling_zscore_of_a_constant_window_is_zero() -> None:
    x = _series()
    _, std, z = rolling_moments(x, 20)
    assert (std[420:460] == 0.0).all() and (z[420:460] == 0.0).all()


def test_rolling_variance_does_not_cancel_on_a_large_offset() -> None:
    small = _series(seed=9)
    big = small + 1e7
    _, std_small, _ = rolling_moments(small, 30)
    _, std_big, _ = rolling_moments(big, 30)
    ok = np.isfinite(std_small) & (std_small > 0.1)
    np.testing.assert_allclose(std_big[ok], std_small[ok], rtol=1e-6)


def test_names_globs_chaining_and_base_columns() -> None:
    features = ["f_rsi_7", "f_rsi_14", "f_atr_14"]
    steps = plan_transforms([
        TransformSpec(kind=TransformKind.LAG, columns=["f_rsi_*"], periods=[1, 2]),
        TransformSpec(kind=TransformKind.ROLLING_ZSCORE, columns=["close", "f_rsi_14__lag_1"],
                      periods=[50]),
        TransformSpec(kind=TransformKind.PCT_CHANGE, columns=["volume"], periods=[3]),
        # listed again: computed once
        TransformSpec(kind=TransformKind.LAG, columns=["f_rsi_14"], periods=[1]),
    ], features)
    assert [s.outputs for s in steps] == [
        ("f_rsi_7__lag_1", "f_rsi_7__lag_2"),
        ("f_rsi_14__lag_1", "f_rsi_14__lag_2"),
        ("f_close__zscore_50",),
        ("f_rsi_14__lag_1__zscore_50",),
        ("f_volume__pct_3",),
    ]
    assert steps[2].source == "close" and steps[3].source == "f_rsi_14__lag_1"


def test_build_features_with_transforms_matches_direct_computation() -> None:
    frame = generated_candles(800)
    indicators = [IndicatorSpec(name="rsi", params={"window": 14})]
    transforms = [
        TransformSpec(kind=TransformKind.DIFF, columns=["f_rsi_14"], periods=[1, 5]),
        TransformSpec(kind=TransformKind.ROLLING_STD, columns=["close"], periods=[30]),
        TransformSpec(kind=TransformKind.ROLLING_MEAN, columns=["f_rsi_14__diff_1"],
                      periods=[10]),
    ]
    out, columns = build_features(frame, indicators, transforms, exclude=["f_rsi_14__diff_5"])
    assert columns == ["f_rsi_14", "f_rsi_14__diff_1", "f_close__std_30",
                       "f_rsi_14__diff_1__mean_10"]
    assert columns == feature_columns(indicators, transforms, ["f_rsi_14__diff_5"])
    assert "f_rsi_14__diff_5" not in out.columns
    rsi = out["f_rsi_14"].to_numpy()
    np.testing.assert_array_equal(out["f_rsi_14__diff_1"].to_numpy(), diff(rsi, 1))
    close = frame["close"].to_numpy()
    np.testing.assert_array_equal(out["f_close__std_30"].to_numpy(), rolling_moments(close, 30)[1])
    np.testing.assert_array_equal(out["f_rsi_14__diff_1__mean_10"].to_numpy(),
                                  rolling_moments(diff(rsi, 1), 10)[0])


def test_unmatched_pattern_and_bad_exclude_are_spec_errors() -> None:
    indicators = [IndicatorSpec(name="rsi")]
    with pytest.raises(SpecError, match=r"transforms\[0\] \(lag\): column 'f_rsx_\*' matches no"):
        plan_features(indicators, [TransformSpec(kind="lag", columns=["f_rsx_*"], periods=[1])])
    with pytest.raises(SpecError, match="column 'f_macd_12_26_9' matches no feature"):
        plan_features(indicators, [TransformSpec(kind="diff", columns=["f_macd_12_26_9"],
                                                 periods=[1])])
    with pytest.raises(SpecError, match="exclude: 'f_nope' matches no feature column"):
        plan_features(indicators, exclude=["f_nope"])
    with pytest.raises(SpecError, match="drops every feature column"):
        plan_features(indicators, exclude=["f_*"])


@pytest.mark.parametrize(("payload", "message"), [
    ({"kind": "rolling_zscore", "columns": ["close"], "periods": [1]}, "at least 2 rows"),
    ({"kind": "lag", "columns": ["close"], "periods": [0]}, "must be in"),
    ({"kind": "lag", "columns": ["close"], "periods": [2, 2]}, "duplicates"),
    ({"kind": "lag", "columns": ["Close"], "periods": [1]}, "a-z, 0-9"),
    ({"kind": "lag", "columns": [], "periods": [1]}, "at least 1 item"),
    ({"kind": "ewm", "columns": ["close"], "periods": [1]}, "kind"),
])
def test_transform_spec_validation(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TransformSpec.model_validate(payload)


def test_default_transforms_go_with_default_indicators_only() -> None:
    default = Features()
    assert default.transforms == default_transforms()
    assert default.exclude == default_exclude()
    own = Features(indicators=[IndicatorSpec(name="rsi")])
    assert own.transforms == [] and own.exclude == []
    # the wire form round-trips (what the operator hands the job)
    assert Features.model_validate(default.to_wire()) == default
    explicit = Features.model_validate({"indicators": [{"name": "rsi"}], "transforms": [
        {"kind": "lag", "columns": ["f_rsi_14"], "periods": [1]}]})
    assert feature_columns(explicit.indicators, explicit.transforms) == [
        "f_rsi_14", "f_rsi_14__lag_1"]


def test_default_gold_set_has_at_least_100_unique_scale_free_columns() -> None:
    spec = Features()
    columns = plan_features(spec.indicators, spec.transforms, spec.exclude).columns
    assert len(columns) >= 100 and len(set(columns)) == len(columns)
    assert all(c.startswith("f_") for c in columns)
    assert spec.indicators == default_indicators()
    # scale-free: the same market quoted in a unit 1000x smaller, volume in lots of 100
    frame = generated_candles(1500, seed=21)
    scaled = frame.copy()
    scaled[["open", "high", "low", "close"]] *= 1000.0
    scaled["volume"] /= 100.0
    a, _ = build_features(frame, spec.indicators, spec.transforms, spec.exclude)
    b, _ = build_features(scaled, spec.indicators, spec.transforms, spec.exclude)
    for column in columns:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        assert np.array_equal(np.isnan(x), np.isnan(y)), column
        np.testing.assert_allclose(y, x, rtol=1e-6, atol=1e-9, err_msg=column)
