"""A small deterministic generator of Gold-shaped frames for the training tests.

The Gold contract: symbol, open_time, close_time (timestamp UTC), open/high/low/close/volume
(float64) and ``f_*`` features (float64, NaN in warm-up), sorted by symbol then close_time.
Prices follow a random walk whose drift depends on a persistent hidden state; ``f_state`` is
that state as known at the bar (so a model can learn something), ``f_mom3`` is a trailing
momentum and ``f_noise`` is pure noise. Everything is computed from data up to each bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["f_state", "f_mom3", "f_noise"]


def make_gold_frame(
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
    bars: int = 600,
    seed: int = 7,
    signal: float = 0.4,
    interval: str = "1h",
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(interval)
    open_time = pd.date_range("2024-01-01", periods=bars, freq=step, tz="UTC").as_unit("ms")
    parts = []
    for number, symbol in enumerate(symbols):
        state = np.zeros(bars)
        for t in range(1, bars):
            state[t] = 0.9 * state[t - 1] + rng.normal(0, 1)
        sigma = 0.004 * (1 + number)
        shocks = np.r_[0.0, signal * sigma * np.tanh(state[:-1]) + rng.normal(0, sigma, bars - 1)]
        close = 100.0 * (1 + number) * np.exp(np.cumsum(shocks))
        open_ = np.r_[close[0], close[:-1]]
        spread = np.abs(rng.normal(0, sigma, bars)) * close
        frame = pd.DataFrame({
            "symbol": symbol,
            "open_time": open_time,
            "close_time": (open_time + step - pd.Timedelta(milliseconds=1)).as_unit("ms"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(10, 100, bars),
        })
        frame["f_state"] = state
        frame["f_mom3"] = frame["close"].pct_change(3)
        frame["f_noise"] = rng.normal(0, 1, bars)
        frame.loc[:4, FEATURES] = np.nan  # warm-up
        parts.append(frame)
    return pd.concat(parts, ignore_index=True).sort_values(
        ["symbol", "close_time"], kind="stable"
    ).reset_index(drop=True)
