"""Candle fixtures for the feature tests: generated data and the recorded real candles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


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
    return frame.sort_values("open_time").reset_index(drop=True)


@pytest.fixture(scope="session")
def candles() -> pd.DataFrame:
    return generated_candles(3000)


@pytest.fixture(scope="session")
def recorded(candles_dir: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: recorded_candles(p) for p in sorted(candles_dir.glob("*.feather"))}
