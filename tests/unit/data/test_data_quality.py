"""Silver quality: dedupe, sort, gaps by class, OHLC checks, outliers and the three policies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlta.data.quality import SHORT_GAP_MAX_BARS, apply_quality
from mlta.data.sources.files import FilesSource
from mlta.errors import DataError

from .helpers import STEP_MS, candles


@pytest.fixture(scope="module")
def ada(candles_dir: Path) -> pd.DataFrame:
    """The recorded ADA/BTC 5m candles (a real 40-candle gap), standard columns."""
    return FilesSource(str(candles_dir), "feather").fetch("ADA_BTC", "5m", None, None).to_pandas()


def _check(frame: pd.DataFrame, policy: str = "repair", max_gap_ratio: float = 0.05):
    return apply_quality(frame, symbol="T", interval="5m", policy=policy,
                         max_gap_ratio=max_gap_ratio)


def test_ada_btc_gaps_are_found_and_classed(ada: pd.DataFrame) -> None:
    out, report = _check(ada, policy="warn")
    assert report.missing_bars == 40
    assert report.expected_bars == 5760
    assert report.gaps["single"].model_dump() == {"gaps": 3, "missing_bars": 3}
    assert report.gaps["short"].model_dump() == {"gaps": 1, "missing_bars": 4}
    assert report.gaps["long"].model_dump() == {"gaps": 1, "missing_bars": 33}
    assert report.largest_gap_bars == 33
    assert report.completeness == pytest.approx(1 - 40 / 5760)
    assert report.validity == 1.0 and report.consistency == 1.0
    assert len(out) == 5720 and not out["is_filled"].any()
    assert any("long outage" in w for w in report.warnings)


def test_repair_fills_single_and_short_gaps_but_not_long_outages(ada: pd.DataFrame) -> None:
    out, report = _check(ada, policy="repair")
    assert report.filled_bars == 7 and int(out["is_filled"].sum()) == 7
    assert len(out) == 5727 == report.rows_out
    filled = out[out["is_filled"]]
    prev_close = out["close"].shift(1)[out["is_filled"]]
    for col in ("open", "high", "low", "close"):
        assert np.allclose(filled[col], prev_close)  # flat bar at the last known close
    assert (filled["volume"] == 0).all()
    ms = pd.DatetimeIndex(out["open_time"]).as_unit("ms").asi8
    steps = np.diff(ms) // STEP_MS
    assert sorted(steps[steps > 1].tolist()) == [34]  # only the 33-bar outage remains
    assert (pd.DatetimeIndex(out["close_time"]).as_unit("ms").asi8 == ms + STEP_MS - 1).all()


def test_fail_policy_passes_clean_data_with_gaps_below_the_ratio(ada: pd.DataFrame) -> None:
    out, report = _check(ada, policy="fail")
    assert len(out) == 5720 and report.passed


def test_duplicates_are_dropped_keeping_the_later_row_and_rows_are_sorted() -> None:
    frame = candles(100)
    dup_same = frame.iloc[[10, 20]]
    dup_changed = frame.iloc[[30]].assign(close=lambda f: f["close"] * 1.0001,
                                          high=lambda f: f["high"] * 1.001)
    # Received shuffled, the repeats arriving after the originals.
    messy = pd.concat([frame.sample(frac=1.0, random_state=1), dup_same, dup_changed])
    out, report = _check(messy)
    assert report.rows_received == 103 and report.duplicates == 3
    assert report.conflicting_duplicates == 1
    assert len(out) == 100 and out["open_time"].is_monotonic_increasing
    assert out["open_time"].is_unique
    assert out.loc[30, "close"] == pytest.approx(frame.loc[30, "close"] * 1.0001)


def _broken() -> pd.DataFrame:
    frame = candles(200)
    frame.loc[5, "high"] = frame.loc[5, ["open", "close"]].max() * 0.99     # high too low
    frame.loc[6, "low"] = frame.loc[6, ["open", "close"]].min() * 1.01      # low too high
    frame.loc[7, "volume"] = -3.0                                             # negative volume
    frame.loc[50, "close"] = np.nan                                           # invalid
    frame.loc[60, "open"] = 0.0                                               # invalid
    frame.loc[70, "open_time"] = frame.loc[70, "open_time"] + pd.Timedelta(seconds=17)
    return frame


def test_checks_count_invalid_misaligned_and_inconsistent_rows() -> None:
    _, report = _check(_broken(), policy="warn")
    assert (report.invalid_rows, report.misaligned_rows, report.inconsistent_rows) == (2, 1, 3)
    assert report.validity == pytest.approx(1 - 3 / 200)
    assert report.consistency == pytest.approx(1 - 3 / 200)


def test_fail_policy_raises_naming_each_check_and_its_counts() -> None:
    with pytest.raises(DataError) as info:
        _check(_broken(), policy="fail")
    message = str(info.value)
    assert "validity: 2 rows with missing, non-finite or non-positive values, 1 off" in message
    assert "consistency: 3 rows" in message
    assert "quality.policy" in message  # the hint says how to proceed


def test_warn_policy_keeps_the_data_and_reports() -> None:
    out, report = _check(_broken(), policy="warn")
    assert len(out) == 200 and not report.passed
    assert any(w.startswith("validity") for w in report.warnings)
    assert any(w.startswith("consistency") for w in report.warnings)
    assert out.loc[7, "volume"] == -3.0


def test_repair_policy_drops_invalid_rows_clips_and_fills_the_holes() -> None:
    broken = _broken()
    out, report = _check(broken, policy="repair")
    assert report.dropped_rows == 3 and report.clipped_rows == 3 and report.filled_bars == 3
    assert report.passed
    assert len(out) == 200 and out["is_filled"].sum() == 3
    o, c = out["open"], out["close"]
    assert (out["high"] >= np.maximum(o, c)).all() and (out["low"] <= np.minimum(o, c)).all()
    assert (out["volume"] >= 0).all() and np.isfinite(out[["open", "close"]]).all().all()
    assert out.loc[5, "high"] == pytest.approx(max(broken.loc[5, "open"], broken.loc[5, "close"]))
    assert out.loc[7, "volume"] == 0.0
    assert out.loc[[50, 60, 70], "is_filled"].all()


@pytest.mark.parametrize("policy", ["fail", "warn", "repair"])
def test_max_gap_ratio_is_enforced_under_every_policy(policy: str) -> None:
    frame = candles(200).drop(index=range(100, 120))  # 20 of 200 missing: 10%
    with pytest.raises(DataError, match=r"20 of 200 candles missing \(gap ratio 0.1000 > "
                                        r"max_gap_ratio 0.05\)"):
        _check(frame, policy=policy, max_gap_ratio=0.05)
    _, report = _check(frame, policy=policy, max_gap_ratio=0.2)
    assert report.gaps["long"].missing_bars == 20 > SHORT_GAP_MAX_BARS


def test_outliers_are_flagged_by_robust_z_score_not_removed() -> None:
    frame = candles(500)
    frame.loc[250:, ["open", "high", "low", "close"]] *= 1.25  # a 25% jump at bar 250
    frame.loc[250, "open"] = frame.loc[249, "close"]
    frame.loc[250, "low"] = frame.loc[249, "close"] * 0.999
    out, report = _check(frame)
    assert report.outliers == 1 and len(out) == 500
    assert out.index[out["is_outlier"]].tolist() == [250]
    clean, clean_report = _check(candles(500))
    assert clean_report.outliers == 0 and not clean["is_outlier"].any()


def test_no_candles_is_an_error() -> None:
    with pytest.raises(DataError, match="no candles"):
        _check(candles(0))
