"""build_features on real and generated candles: columns, dtypes, errors, gaps, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import DataError, SpecError
from mlta.features.pipeline import build_features, feature_columns
from mlta.features.registry import get
from mlta.specs.datapipeline import Features, IndicatorSpec, default_indicators

from .conftest import generated_candles

SPEC = Features()
#: The longest warm-up of the default Gold set: the one-day (288-bar) indicators.
DEFAULT_WARMUP = 288


def test_default_feature_set_on_recorded(recorded: dict[str, pd.DataFrame]) -> None:
    columns_expected = feature_columns(SPEC.indicators, SPEC.transforms, SPEC.exclude)
    assert len(columns_expected) >= 100
    for name, frame in recorded.items():
        out, columns = build_features(frame, SPEC.indicators, SPEC.transforms, SPEC.exclude)
        assert columns == columns_expected, name
        assert list(out.columns) == [*frame.columns, *columns]
        pd.testing.assert_frame_equal(out[list(frame.columns)], frame)
        for column in columns:
            assert out[column].dtype == np.float64
        # nothing warms up longer than a day of 5-minute bars, and then nothing is missing
        assert out[columns].iloc[DEFAULT_WARMUP:].notna().all().all(), name
        assert out["f_log_returns_288"].iloc[:DEFAULT_WARMUP].isna().all()
        np.testing.assert_allclose(
            out["f_log_returns_12"].to_numpy(),
            np.log(frame["close"]).diff(12).to_numpy(), rtol=1e-9, atol=1e-15)
        # excluded intermediates are not in Gold, their z-scores are
        assert "f_obv" not in columns and "f_obv__zscore_144" in columns


def test_default_indicators_alone_keep_the_old_call_shape() -> None:
    frame = generated_candles(400)
    _, columns = build_features(frame, default_indicators())
    assert columns == feature_columns(default_indicators())
    assert "f_obv" in columns and not any("__" in c for c in columns)


def test_input_frame_is_not_modified() -> None:
    frame = generated_candles(300)
    before = frame.copy()
    build_features(frame, default_indicators())
    pd.testing.assert_frame_equal(frame, before)


def test_same_columns_listed_twice_are_computed_once() -> None:
    specs = [IndicatorSpec(name="rsi"), IndicatorSpec(name="rsi", params={"window": 14}),
             IndicatorSpec(name="macd", params={"fast": 5, "slow": 20, "signal": 4})]
    out, columns = build_features(generated_candles(300), specs)
    assert [c for c in out.columns if c.startswith("f_")] == columns
    assert columns == ["f_rsi_14", "f_macd_5_20_4", "f_macd_signal_5_20_4", "f_macd_hist_5_20_4"]
    assert columns == feature_columns(specs)


def test_bad_spec_fails_before_computing() -> None:
    specs = [IndicatorSpec(name="rsi"), IndicatorSpec(name="atr", params={"window": 0})]
    with pytest.raises(SpecError, match=r"indicator 'atr': parameter 'window' .*\[1, 100000\]"):
        build_features(generated_candles(100), specs)
    with pytest.raises(SpecError, match="unknown indicator 'nope'"):
        build_features(generated_candles(100), [IndicatorSpec(name="nope")])


def test_missing_columns_and_unsorted_frames_are_data_errors() -> None:
    frame = generated_candles(100)
    with pytest.raises(DataError, match=r"missing column\(s\) \['volume'\]"):
        build_features(frame.drop(columns=["volume"]), default_indicators())
    with pytest.raises(DataError, match="not sorted"):
        build_features(frame.iloc[::-1], default_indicators())


def test_gap_rows_are_nan_and_features_rewarm() -> None:
    frame = generated_candles(400)
    frame.loc[200, "close"] = np.nan
    out, _ = build_features(frame, [IndicatorSpec(name="rsi")])
    rsi = out["f_rsi_14"].to_numpy()
    assert np.isnan(rsi[200:215]).all()
    assert np.isfinite(rsi[14:200]).all() and np.isfinite(rsi[215:]).all()
    alone = get("rsi").compute({"close": frame["close"].to_numpy()[201:]})["rsi"]
    np.testing.assert_array_equal(rsi[201:], alone)


def test_short_frame_gives_nan_features_not_an_error() -> None:
    out, columns = build_features(generated_candles(10), SPEC.indicators, SPEC.transforms,
                                  SPEC.exclude)
    assert out[["f_rsi_14", "f_ema_ratio_200", "f_ema_ratio_21__zscore_144",
                "f_realized_vol_12__lag_48"]].isna().all().all()
    assert out["f_log_returns_1__lag_6"].iloc[7:].notna().all()
    assert out["f_log_returns_1"].iloc[1:].notna().all()
    out, columns = build_features(generated_candles(10).iloc[:0], SPEC.indicators,
                                  SPEC.transforms, SPEC.exclude)
    assert len(out) == 0 and len(columns) >= 100


def test_deterministic_and_index_preserved() -> None:
    frame = generated_candles(500).set_index(pd.RangeIndex(1000, 1500))
    a, _ = build_features(frame, default_indicators())
    b, _ = build_features(frame, default_indicators())
    pd.testing.assert_frame_equal(a, b)
    assert a.index.equals(frame.index)
