"""Volatility: true range, ATR, channels and range-based estimators."""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import (
    U,
    ema,
    mask_before,
    nan_head,
    nan_like,
    rolling_mean_var,
    rolling_sum,
    true_range_at,
    window_max,
    window_min,
)


@njit(cache=True)
def trange(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range; undefined on the first bar (no previous close), as in TA-Lib."""
    out = nan_like(close)
    for t in range(1, close.size):
        out[t] = true_range_at(high[t], low[t], close[t - 1])
    return out


@njit(cache=True)
def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Wilder's ATR: SMA of the first w true ranges, then prev * ((w-1)/w) + tr * (1/w).

    TA-Lib writes the step as (prev*(w-1) + tr) / w, a division on the chain from one bar to
    the next (~20 cycles a bar); the two precomputed factors leave a multiply and an add on it
    and differ from TA-Lib by round-off only (the smoothing is contractive, so nothing grows).
    """
    return _atr(high, low, close, w, False)


@njit(cache=True)
def natr(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """ATR as a percentage of the close; 0 when the close is 0 (as TA-Lib)."""
    return _atr(high, low, close, w, True)


@njit(cache=True, inline="always")
def _atr_out(prev: float, close: float, percent: bool) -> float:
    if not percent:
        return prev
    return (prev / close) * 100.0 if close != 0.0 else 0.0


@njit(cache=True)
def _atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int, percent: bool) -> np.ndarray:
    """ATR, or NATR scaled as each row is written (one pass, one array)."""
    n = close.size
    if n <= w:
        return nan_like(close)
    out = nan_head(n, w)  # every row from w on is written below
    acc = 0.0
    for t in range(1, w + 1):
        acc += true_range_at(high[t], low[t], close[t - 1])
    prev = acc / w
    out[w] = _atr_out(prev, close[w], percent)
    keep = (w - 1) / w
    gain = 1.0 / w
    one = U(1)
    for t in range(U(w + 1), U(n)):  # unsigned: no wraparound test per read (see _common)
        prev = prev * keep + true_range_at(high[t], low[t], close[t - one]) * gain
        out[t] = _atr_out(prev, close[t], percent)
    return out


@njit(cache=True)
def keltner(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int, k: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keltner channel: EMA(close, w) +- k * ATR(w); warm-up w (the ATR's)."""
    mid = mask_before(ema(close, w), w)
    a = atr(high, low, close, w)
    return mid + k * a, mid, mid - k * a


@njit(cache=True)
def donchian(
    high: np.ndarray, low: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Donchian channel: highest high, midpoint and lowest low of the last w bars."""
    upper = window_max(high, w)
    lower = window_min(low, w)
    return upper, (upper + lower) / 2.0, lower


@njit(cache=True)
def realized_vol(close: np.ndarray, w: int) -> np.ndarray:
    """Population standard deviation of the last w one-bar log returns (not annualised)."""
    r = nan_like(close)
    for t in range(1, close.size):
        r[t] = math.log(close[t] / close[t - 1])
    _, var = rolling_mean_var(r, w)
    return np.sqrt(var)


@njit(cache=True)
def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ln(a/b) per element with libm's log (math.log), the one the streaming forms call.

    The JIT compiles np.log and math.log alike; without it (the coverage pass) numpy's
    vectorised log can differ from libm in the last bit, and the forms must agree bit for bit.
    """
    out = np.empty(a.size)
    for i in range(a.size):
        out[i] = math.log(a[i] / b[i])
    return out


@njit(cache=True)
def parkinson(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    """Parkinson range volatility: sqrt(mean(ln(h/l)^2) / (4 ln 2)) over w bars."""
    hl = _log_ratio(high, low)
    s = rolling_sum(hl * hl, w)
    return np.sqrt(s / (w * 4.0 * math.log(2.0)))


@njit(cache=True)
def garman_klass(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int
) -> np.ndarray:
    """Garman-Klass volatility: sqrt(mean(0.5 ln(h/l)^2 - (2 ln 2 - 1) ln(c/o)^2)), >= 0."""
    hl = _log_ratio(high, low)
    co = _log_ratio(close, open_)
    term = 0.5 * hl * hl - (2.0 * math.log(2.0) - 1.0) * co * co
    s = rolling_sum(term, w)
    out = nan_like(close)
    for t in range(close.size):
        if not np.isnan(s[t]):
            v = s[t] / w
            out[t] = math.sqrt(v) if v > 0.0 else 0.0
    return out
