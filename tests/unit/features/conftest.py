"""Candle fixtures for the feature tests: generated data and the recorded real candles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: The coverage pass runs the numba kernels as plain Python (NUMBA_DISABLE_JIT=1, see
#: scripts/cov.py): the same tests and assertions, with the recorded series (tens of
#: thousands of bars) cut to their first NO_JIT_ROWS bars so it takes minutes. Generated
#: candles keep their sizes: tests place gaps at fixed rows in them.
NO_JIT = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")
NO_JIT_ROWS = 1500


def rows(n: int) -> int:
    """``n``, or at most NO_JIT_ROWS when the kernels run without the JIT."""
    return min(n, NO_JIT_ROWS) if NO_JIT else n


def generated_candles(n: int, seed: int = 7, price: float = 100.0) -> pd.DataFrame:
    """A geometric random walk with consistent OHLC, some flat bars and zero-volume bars."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate(([price], close[:-1]))
    spread = np.abs(rng.normal(0.0, 0.004, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread * rng.uniform(0.0, 1.0, n)
    volume = rng.lognormal(7.0, 1.0, n)
    flat = rng.uniform(size=n) < 0.02
    high[flat] = low[flat] = open_[flat] = close[flat] = close[np.flatnonzero(flat) - 1]
    volume[rng.uniform(size=n) < 0.01] = 0.0
    times = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC")
    return pd.DataFrame({
        "open_time": times, "close_time": times + pd.Timedelta("5min"),
        "open": open_, "high": high, "low": low, "close": close, "volume": volume,
    })


def recorded_candles(path: Path) -> pd.DataFrame:
    frame = pd.read_feather(path).rename(columns={"date": "open_time"})
    for column in ("open", "high", "low", "close", "volume"):
        frame[column] = frame[column].astype(np.float64)
    frame = frame.sort_values("open_time").reset_index(drop=True)
    return frame.iloc[: rows(len(frame))].reset_index(drop=True)


@pytest.fixture(scope="session")
def candles() -> pd.DataFrame:
    return generated_candles(3000)


@pytest.fixture(scope="session")
def recorded(candles_dir: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: recorded_candles(p) for p in sorted(candles_dir.glob("*.feather"))}
