"""Candle tables built by hand for the data lake tests."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa

STEP_MS = 300_000  # 5m


def candles(n: int, start: datetime = datetime(2024, 3, 1, tzinfo=UTC), step_ms: int = STEP_MS,
            seed: int = 0) -> pd.DataFrame:
    """``n`` consistent 5m candles with the standard columns (open_time ... close_time)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.concatenate(([100.0], close[:-1]))[:n]
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
    t0 = int(start.timestamp() * 1000)
    open_ms = t0 + np.arange(n, dtype=np.int64) * step_ms
    return pd.DataFrame({
        "open_time": pd.to_datetime(open_ms, unit="ms", utc=True).as_unit("ms"),
        "open": open_, "high": high, "low": low, "close": close,
        "volume": rng.uniform(1, 10, n),
        "close_time": pd.to_datetime(open_ms + step_ms - 1, unit="ms", utc=True).as_unit("ms"),
    })


def to_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def simple_features(frame: pd.DataFrame, indicators: list) -> tuple[pd.DataFrame, list[str]]:
    """A tiny stand-in featurizer: one log return (NaN on the first row)."""
    out = frame.copy()
    out["f_logret"] = np.log(out["close"]).diff()
    return out, ["f_logret"]
