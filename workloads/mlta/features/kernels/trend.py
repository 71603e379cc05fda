"""Trend-following overlays: parabolic SAR (TA-Lib SAR / SAREXT), Supertrend, Ichimoku."""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._common import mask_before, nan_like, window_mid
from .volatility import atr


@njit(cache=True)
def _sar(
    high: np.ndarray, low: np.ndarray, init_long: float, step_long: float, max_long: float,
    init_short: float, step_short: float, max_short: float, offset: float, signed: bool,
) -> np.ndarray:
    """TA-Lib's SAR loop: the first bar's -DM picks the direction, its range the first SAR."""
    n = high.size
    out = nan_like(high)
    if n < 2:
        return out
    if init_long > max_long:
        init_long = max_long
    if step_long > max_long:
        step_long = max_long
    if init_short > max_short:
        init_short = max_short
    if step_short > max_short:
        step_short = max_short
    af_long = init_long
    af_short = init_short
    up = high[1] - high[0]
    down = low[0] - low[1]
    is_long = not (down > 0 and down > up)
    if is_long:
        ep = high[1]
        sar = low[0]
    else:
        ep = low[1]
        sar = high[0]
    new_low = low[1]
    new_high = high[1]
    for t in range(1, n):
        prev_low = new_low
        prev_high = new_high
        new_low = low[t]
        new_high = high[t]
        if is_long:
            if new_low <= sar:
                is_long = False
                sar = max(ep, prev_high, new_high)
                if offset != 0.0:
                    sar += sar * offset
                out[t] = -sar if signed else sar
                af_short = init_short
                ep = new_low
                sar = sar + af_short * (ep - sar)
                sar = max(sar, prev_high, new_high)
            else:
                out[t] = sar
                if new_high > ep:
                    ep = new_high
                    af_long = min(af_long + step_long, max_long)
                sar = sar + af_long * (ep - sar)
                sar = min(sar, prev_low, new_low)
        elif new_high >= sar:
            is_long = True
            sar = min(ep, prev_low, new_low)
            if offset != 0.0:
                sar -= sar * offset
            out[t] = sar
            af_long = init_long
            ep = new_high
            sar = sar + af_long * (ep - sar)
            sar = min(sar, prev_low, new_low)
        else:
            out[t] = -sar if signed else sar
            if new_low < ep:
                ep = new_low
                af_short = min(af_short + step_short, max_short)
            sar = sar + af_short * (ep - sar)
            sar = max(sar, prev_high, new_high)
    return out


@njit(cache=True)
def sar(high: np.ndarray, low: np.ndarray, acceleration: float, maximum: float) -> np.ndarray:
    """Wilder's parabolic SAR (TA-Lib SAR)."""
    return _sar(high, low, acceleration, acceleration, maximum, acceleration, acceleration,
                maximum, 0.0, False)


@njit(cache=True)
def sarext(
    high: np.ndarray, low: np.ndarray, init: float, acceleration: float, maximum: float,
    offset: float,
) -> np.ndarray:
    """TA-Lib SAREXT with the same factors long and short: negative while short, and the
    reversal SAR moved by ``offset`` (a fraction) away from price."""
    return _sar(high, low, init, acceleration, maximum, init, acceleration, maximum, offset,
                True)


@njit(cache=True)
def supertrend(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int, multiplier: float
) -> tuple[np.ndarray, np.ndarray]:
    """Supertrend line and direction (+1 up, -1 down) on hl2 +- multiplier * ATR(w).

    Each band ratchets toward price and is released by a close beyond it (TA-Lib SUPERTREND).
    """
    n = close.size
    a = atr(high, low, close, w)
    line = nan_like(close)
    trend = nan_like(close)
    if n <= w:
        return line, trend
    upper = 0.0
    lower = 0.0
    direction = 1.0
    for t in range(w, n):
        mid = (high[t] + low[t]) / 2.0
        basic_upper = mid + multiplier * a[t]
        basic_lower = mid - multiplier * a[t]
        if t == w:
            upper = basic_upper
            lower = basic_lower
            direction = 1.0  # seeded long, as TA-Lib (and ta4j) do
        else:
            upper = basic_upper if (basic_upper < upper or close[t - 1] > upper) else upper
            lower = basic_lower if (basic_lower > lower or close[t - 1] < lower) else lower
            if direction > 0.0 and close[t] < lower:
                direction = -1.0
            elif direction < 0.0 and close[t] > upper:
                direction = 1.0
        line[t] = lower if direction > 0.0 else upper
        trend[t] = direction
    return line, trend


@njit(cache=True)
def _mid(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    return window_mid(high, low, w)


@njit(cache=True)
def ichimoku(
    high: np.ndarray, low: np.ndarray, tenkan: int, kijun: int, senkou: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ichimoku conversion, base and the two cloud spans as known at t.

    The classic chart plots the spans ``kijun`` bars ahead; as features they are the values
    computed from data up to t (no shift), and the lagging span is omitted (it looks ahead).
    """
    conv = _mid(high, low, tenkan)
    base = _mid(high, low, kijun)
    span_a = (conv + base) / 2.0
    span_b = _mid(high, low, senkou)
    start = max(tenkan, kijun, senkou) - 1
    return (mask_before(conv, start), mask_before(base, start), mask_before(span_a, start),
            span_b)
