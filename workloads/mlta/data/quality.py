"""Silver-layer quality checks, the quality report, and the fail / warn / repair policies.

Checks (crypto trades 24/7, so every interval on the UTC grid should have a candle):

- validity: prices finite and > 0, volume finite, open time on the interval grid;
- consistency: high >= max(open, close), low <= min(open, close), volume >= 0;
- completeness: missing candles between the first and last one, classed as a single
  missing bar, a short gap (up to ``SHORT_GAP_MAX_BARS``) or a long outage;
- outliers: robust z-score of log returns (median and MAD), flagged, never removed,
  because a real crash is data, not an error.

Policies: ``fail`` raises DataError naming every failed check and its counts; ``warn``
keeps the data and reports; ``repair`` drops invalid rows, clips inconsistent highs, lows and
volumes, and forward-fills single and short gaps (``is_filled``). ``max_gap_ratio`` is
enforced under every policy, on the candles actually received (filled bars are not data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataError
from .sources.base import INTERVAL_MS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

SHORT_GAP_MAX_BARS = 12
OUTLIER_Z = 10.0
GAP_CLASSES = ("single", "short", "long")
PRICES = ("open", "high", "low", "close")


class GapClass(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gaps: int = 0
    missing_bars: int = 0


class QualityReport(BaseModel):
    """One symbol's quality in one run; ratios are in [0, 1]."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    interval: str
    policy: str
    rows_received: int
    duplicates: int = Field(description="Repeated open times dropped (the later one kept).")
    conflicting_duplicates: int = Field(description="Duplicates whose values differed.")
    invalid_rows: int
    misaligned_rows: int
    inconsistent_rows: int
    expected_bars: int
    missing_bars: int
    gap_ratio: float
    max_gap_ratio: float
    completeness: float
    validity: float
    consistency: float
    gaps: dict[str, GapClass]
    largest_gap_bars: int
    outliers: int
    dropped_rows: int = 0
    clipped_rows: int = 0
    filled_bars: int = 0
    rows_out: int = 0
    passed: bool = True
    warnings: list[str] = Field(default_factory=list)


def dedupe_sort(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Sorted by open time, one row per open time (the last received); (frame, dups, conflicts)."""
    frame = frame.reset_index(drop=True)
    dup_mask = frame.duplicated("open_time", keep=False)
    duplicates = int(frame.duplicated("open_time", keep="last").sum())
    conflicts = 0
    if duplicates:
        cols = ["open_time", *PRICES, "volume"]
        conflicts = int(frame.loc[dup_mask, cols].drop_duplicates().duplicated(
            "open_time", keep="last").sum())
        frame = frame.drop_duplicates("open_time", keep="last")
    frame = frame.sort_values("open_time", kind="stable").reset_index(drop=True)
    return frame, duplicates, conflicts


def row_checks(frame: pd.DataFrame, step_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (invalid values, misaligned time, inconsistent OHLCV) per row."""
    import numpy as np

    prices = frame[list(PRICES)].to_numpy(dtype=np.float64)
    volume = frame["volume"].to_numpy(dtype=np.float64)
    invalid = ~np.isfinite(prices).all(axis=1) | (prices <= 0).any(axis=1) | ~np.isfinite(volume)
    ms = _ms(frame["open_time"])
    misaligned = (ms % step_ms) != 0
    o, h, lo, c = prices.T
    with np.errstate(invalid="ignore"):
        inconsistent = (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (volume < 0)
    return invalid, misaligned, inconsistent & ~invalid


def _ms(times: pd.Series) -> np.ndarray:
    """Epoch milliseconds of tz-aware times, whatever their resolution."""
    import pandas as pd

    return pd.DatetimeIndex(times).as_unit("ms").asi8


def find_gaps(open_ms: np.ndarray, step_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """(index of the bar before each gap, missing bars in it) for sorted grid times."""
    import numpy as np

    if len(open_ms) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    missing = np.diff(open_ms) // step_ms - 1
    where = np.flatnonzero(missing > 0)
    return where, missing[where]


def classify_gaps(missing: np.ndarray) -> dict[str, GapClass]:
    out = {}
    for name, mask in (("single", missing == 1),
                       ("short", (missing > 1) & (missing <= SHORT_GAP_MAX_BARS)),
                       ("long", missing > SHORT_GAP_MAX_BARS)):
        out[name] = GapClass(gaps=int(mask.sum()), missing_bars=int(missing[mask].sum()))
    return out


def robust_outliers(close: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Bars whose log return has |robust z| > OUTLIER_Z (z = 0.6745 (r - median) / MAD)."""
    import numpy as np

    flags = np.zeros(len(close), dtype=bool)
    if len(close) < 3:
        return flags
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = np.diff(np.log(close))
    usable = np.isfinite(ret)
    if exclude is not None:
        usable &= ~exclude[1:]
    if usable.sum() < 3:
        return flags
    med = np.median(ret[usable])
    mad = np.median(np.abs(ret[usable] - med))
    if mad == 0:  # illiquid series with mostly flat bars: fall back to the mean deviation
        mad = np.mean(np.abs(ret[usable] - med)) / 1.2533
    if not mad > 0:
        return flags
    z = 0.6745 * (ret - med) / mad
    flags[1:] = usable & (np.abs(z) > OUTLIER_Z)
    return flags


def fill_gaps(frame: pd.DataFrame, step_ms: int, max_bars: int) -> tuple[pd.DataFrame, int]:
    """Insert flat candles (OHLC = previous close, volume 0, ``is_filled``) into short gaps."""
    import numpy as np
    import pandas as pd

    ms = _ms(frame["open_time"])
    where, missing = find_gaps(ms, step_ms)
    fillable = missing <= max_bars
    where, missing = where[fillable], missing[fillable]
    if len(where) == 0:
        return frame, 0
    reps = np.repeat(where, missing)
    offsets = np.concatenate([np.arange(1, m + 1) for m in missing])
    new_ms = ms[reps] + offsets * step_ms
    prev_close = frame["close"].to_numpy()[reps]
    tz_type = frame["open_time"].dtype
    filled = pd.DataFrame({
        "open_time": pd.to_datetime(new_ms, unit="ms", utc=True).astype(tz_type),
        "close_time": pd.to_datetime(new_ms + step_ms - 1, unit="ms", utc=True).astype(tz_type),
        "open": prev_close, "high": prev_close, "low": prev_close, "close": prev_close,
        "volume": np.zeros(len(new_ms)), "is_filled": np.ones(len(new_ms), dtype=bool),
    })
    out = pd.concat([frame, filled[frame.columns]], ignore_index=True)
    out = out.sort_values("open_time", kind="stable").reset_index(drop=True)
    return out, len(new_ms)


def apply_quality(frame: pd.DataFrame, *, symbol: str, interval: str, policy: str,
                  max_gap_ratio: float) -> tuple[pd.DataFrame, QualityReport]:
    """Check ``frame`` (standard columns) and apply ``policy``; returns Silver rows + report."""
    import numpy as np

    step = INTERVAL_MS[interval]
    received = len(frame)
    if received == 0:
        raise DataError(f"{symbol} {interval}: no candles to check",
                        hint="check the source, the symbol and source.start/source.end")
    frame, duplicates, conflicts = dedupe_sort(frame)
    invalid, misaligned, inconsistent = row_checks(frame, step)
    bad = invalid | misaligned
    grid = _ms(frame["open_time"])[~bad]
    _, missing = find_gaps(grid, step)
    missing_total = int(missing.sum())
    expected = int((grid[-1] - grid[0]) // step + 1) if len(grid) else 0
    gap_ratio = missing_total / expected if expected else 1.0
    n = max(len(frame), 1)
    report = QualityReport(
        symbol=symbol, interval=interval, policy=policy, rows_received=received,
        duplicates=duplicates, conflicting_duplicates=conflicts,
        invalid_rows=int(invalid.sum()), misaligned_rows=int((misaligned & ~invalid).sum()),
        inconsistent_rows=int(inconsistent.sum()), expected_bars=expected,
        missing_bars=missing_total, gap_ratio=gap_ratio, max_gap_ratio=max_gap_ratio,
        completeness=1.0 - gap_ratio, validity=1.0 - float(bad.sum()) / n,
        consistency=1.0 - float(inconsistent.sum()) / n, gaps=classify_gaps(missing),
        largest_gap_bars=int(missing.max()) if len(missing) else 0, outliers=0,
    )
    problems = _problems(report)
    if policy == "fail" and problems:
        raise DataError(f"{symbol} {interval}: quality checks failed: " + "; ".join(problems),
                        hint="fix the source data, or set quality.policy to repair or warn")
    if report.gap_ratio > max_gap_ratio:
        raise DataError(
            f"{symbol} {interval}: completeness check failed: {missing_total} of {expected} "
            f"candles missing (gap ratio {gap_ratio:.4f} > max_gap_ratio {max_gap_ratio}); "
            f"largest gap {report.largest_gap_bars} bars",
            hint="narrow source.start/source.end around the outage or raise "
                 "quality.maxGapRatio")
    frame = frame.assign(is_filled=False)
    if policy == "repair":
        frame, report = _repair(frame, bad, inconsistent, step, report)
    else:
        report.warnings.extend(problems)
    flags = robust_outliers(frame["close"].to_numpy(dtype=np.float64),
                            exclude=frame["is_filled"].to_numpy(dtype=bool))
    frame = frame.assign(is_outlier=flags)
    report.outliers = int(flags.sum())
    report.rows_out = len(frame)
    report.passed = not report.warnings
    if report.gaps["long"].gaps:
        report.warnings.append(f"{report.gaps['long'].gaps} long outage(s) left unfilled "
                               f"({report.gaps['long'].missing_bars} bars)")
    return frame, report


def _problems(report: QualityReport) -> list[str]:
    problems = []
    if report.invalid_rows or report.misaligned_rows:
        problems.append(f"validity: {report.invalid_rows} rows with missing, non-finite or "
                        f"non-positive values, {report.misaligned_rows} off the "
                        f"{report.interval} grid")
    if report.inconsistent_rows:
        problems.append(f"consistency: {report.inconsistent_rows} rows with high < max(open, "
                        "close), low > min(open, close) or volume < 0")
    if report.gap_ratio > report.max_gap_ratio:
        problems.append(f"completeness: {report.missing_bars} of {report.expected_bars} candles "
                        f"missing (gap ratio {report.gap_ratio:.4f} > max_gap_ratio "
                        f"{report.max_gap_ratio})")
    return problems


def _repair(frame: pd.DataFrame, bad: np.ndarray, inconsistent: np.ndarray, step: int,
            report: QualityReport) -> tuple[pd.DataFrame, QualityReport]:
    import numpy as np

    frame = frame.loc[~bad].reset_index(drop=True)
    keep_inconsistent = inconsistent[~bad]
    if keep_inconsistent.any():
        o, c = frame["open"].to_numpy(), frame["close"].to_numpy()
        frame["high"] = np.maximum(frame["high"].to_numpy(), np.maximum(o, c))
        frame["low"] = np.minimum(frame["low"].to_numpy(), np.minimum(o, c))
        frame["volume"] = np.maximum(frame["volume"].to_numpy(), 0.0)
    frame, filled = fill_gaps(frame, step, SHORT_GAP_MAX_BARS)
    report.dropped_rows = int(bad.sum())
    report.clipped_rows = int(keep_inconsistent.sum())
    report.filled_bars = filled
    return frame, report
