"""A deterministic, realistic OHLCV generator: the source demos and tests run on.

Prices follow geometric Brownian motion with fat-tailed (Student-t) shocks whose volatility
switches between regimes (calm, normal, turbulent) like real crypto markets; each bar's high
and low bracket its open and close; volume grows with the size of the move. The stream is a
pure function of (seed, symbol, interval, origin): the symbol enters through a stable
BLAKE2 hash (Python's ``hash()`` is salted per process), so every worker, every run and
every resume sees the same candles. Bars are generated in fixed-size blocks, each with its
own seed, carrying price and regime forward, so memory stays bounded for long histories and
fetching a later slice gives exactly the bars a full fetch would have given.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ...errors import SourceError
from .base import INTERVAL_MS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

#: Where the stream starts when the spec gives no start: a fixed instant, for determinism.
DEFAULT_ORIGIN = datetime(2024, 1, 1, tzinfo=UTC)
BLOCK = 1 << 16
_YEAR_MS = 365 * 86_400_000
#: Annualised volatility of each regime and the mean regime length in bars.
_REGIME_VOL = (0.35, 0.75, 1.6)
_MEAN_REGIME_BARS = 600
_T_DOF = 4.0


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp() * 1000)


class SampleSource:
    """Synthetic candles: ``bars`` candles per symbol starting at ``origin``."""

    def __init__(self, seed: int = 42, bars: int = 5000, origin: datetime | None = None,
                 name: str = "sample") -> None:
        if seed < 0 or bars < 1:
            raise SourceError(f"sample source needs seed >= 0 and bars >= 1, got {seed}, {bars}")
        self.seed = seed
        self.bars = bars
        self.origin = origin or DEFAULT_ORIGIN
        self.name = name

    def fetch(self, symbol: str, interval: str, start: datetime | None,
              end: datetime | None) -> pa.Table:
        """Candles with open time in [start, end) out of the symbol's fixed stream."""
        step = INTERVAL_MS.get(interval)
        if step is None:
            raise SourceError(f"unknown interval {interval!r}",
                              hint=f"use one of {', '.join(INTERVAL_MS)}")
        origin_ms = _ms(self.origin) // step * step  # candles open on the interval grid
        first = 0 if start is None else max(0, -(-(_ms(start) - origin_ms) // step))
        stop = self.bars if end is None else min(self.bars, -(-(_ms(end) - origin_ms) // step))
        stop = max(stop, first)
        return self._generate(symbol, interval, step, origin_ms, first, stop)

    def _generate(self, symbol: str, interval: str, step: int, origin_ms: int,
                  first: int, stop: int) -> pa.Table:
        import numpy as np
        import pyarrow as pa

        key = [self.seed, stable_hash(symbol), stable_hash(interval), origin_ms // 1000]
        setup = np.random.default_rng(np.random.SeedSequence(key, spawn_key=(1 << 30,)))
        price = float(10 ** setup.uniform(-1.0, 4.5))
        base_volume = float(10 ** setup.uniform(1.0, 5.0)) / max(price, 1e-9) ** 0.25
        drift = float(setup.normal(0.05, 0.2))  # annual
        regime = int(setup.integers(0, len(_REGIME_VOL)))
        dt = step / _YEAR_MS
        parts: list[tuple[np.ndarray, ...]] = []
        for block in range(stop // BLOCK + 1):
            lo = block * BLOCK
            if lo >= stop:
                break
            rng = np.random.default_rng(np.random.SeedSequence(key, spawn_key=(block,)))
            bars, price, regime = _block(rng, BLOCK, price, regime, drift, dt, base_volume)
            a, b = max(first - lo, 0), min(stop - lo, BLOCK)
            if a < b:
                parts.append(tuple(col[a:b] for col in bars))
        if parts:
            cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
        else:
            cols = [np.empty(0) for _ in range(5)]
        open_ms = origin_ms + np.arange(first, first + len(cols[0]), dtype=np.int64) * step
        ts = pa.timestamp("ms", tz="UTC")
        return pa.table({
            "open_time": pa.array(open_ms, type=pa.int64()).cast(ts),
            "open": cols[0], "high": cols[1], "low": cols[2], "close": cols[3], "volume": cols[4],
            "close_time": pa.array(open_ms + step - 1, type=pa.int64()).cast(ts),
        })


def _block(rng: np.random.Generator, n: int, price: float, regime: int, drift: float,
           dt: float, base_volume: float) -> tuple[tuple[np.ndarray, ...], float, int]:
    """One block of bars; returns (open, high, low, close, volume), last close, last regime."""
    import numpy as np

    # Regime switches: a switch at bar t draws a new regime that holds until the next one.
    switch = rng.random(n) < 1.0 / _MEAN_REGIME_BARS
    drawn = rng.integers(0, len(_REGIME_VOL), n)
    last_switch = np.maximum.accumulate(np.where(switch, np.arange(n), -1))
    regimes = np.where(last_switch >= 0, drawn[np.maximum(last_switch, 0)], regime)
    sigma = np.asarray(_REGIME_VOL)[regimes] * np.sqrt(dt)
    shocks = rng.standard_t(_T_DOF, n) / np.sqrt(_T_DOF / (_T_DOF - 2.0))  # unit variance
    log_ret = (drift - 0.5 * sigma**2) * dt + sigma * shocks
    close = price * np.exp(np.cumsum(log_ret))
    open_ = np.concatenate(([price], close[:-1]))
    # Wicks: extra excursion beyond the body, proportional to the bar's volatility.
    up = np.abs(rng.normal(0.0, 0.6, n)) * sigma
    down = np.abs(rng.normal(0.0, 0.6, n)) * sigma
    high = np.maximum(open_, close) * np.exp(up)
    low = np.minimum(open_, close) * np.exp(-down)
    # Volume: lognormal noise, scaled up with the absolute standardised move and wick size.
    activity = 0.4 + np.abs(shocks) + (up + down) / np.maximum(sigma, 1e-12)
    volume = base_volume * activity * np.exp(rng.normal(0.0, 0.35, n))
    return (open_, high, low, close, volume), float(close[-1]), int(regimes[-1])
