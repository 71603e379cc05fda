"""Volume indicators: cumulative flows, money flow, rolling VWAP and volume anomalies."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._common import nan_like, rolling_sum

# Relative change of the typical price that counts as round-off, not a move.
TP_TIE = 1e-12


@njit(cache=True)
def obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-balance volume, starting at the first bar's volume (as TA-Lib)."""
    n = close.size
    out = nan_like(close)
    if n == 0:
        return out
    acc = volume[0]
    out[0] = acc
    for t in range(1, n):
        if close[t] > close[t - 1]:
            acc += volume[t]
        elif close[t] < close[t - 1]:
            acc -= volume[t]
        out[t] = acc
    return out


@njit(cache=True)
def _ad_step(h: float, lo: float, c: float, v: float) -> float:
    rng = h - lo
    return (((c - lo) - (h - c)) / rng) * v if rng > 0.0 else 0.0


@njit(cache=True)
def ad(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Chaikin accumulation/distribution line, cumulative from the first bar."""
    out = nan_like(close)
    acc = 0.0
    for t in range(close.size):
        acc += _ad_step(high[t], low[t], close[t], volume[t])
        out[t] = acc
    return out


@njit(cache=True)
def adosc(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, fast: int, slow: int
) -> np.ndarray:
    """Chaikin oscillator: EMA(ad, fast) - EMA(ad, slow), both seeded with the first AD value
    (TA-Lib's ADOSC does not seed with an SMA); warm-up slow - 1."""
    n = close.size
    out = nan_like(close)
    if n == 0:
        return out
    kf = 2.0 / (fast + 1.0)
    ks = 2.0 / (slow + 1.0)
    acc = _ad_step(high[0], low[0], close[0], volume[0])
    ef = acc
    es = acc
    for t in range(1, n):
        acc += _ad_step(high[t], low[t], close[t], volume[t])
        ef = kf * acc + (1.0 - kf) * ef
        es = ks * acc + (1.0 - ks) * es
        if t >= slow - 1:
            out[t] = ef - es
    if slow == 1 and n > 0:
        out[0] = 0.0
    return out


@njit(cache=True)
def mfi(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, w: int
) -> np.ndarray:
    """Money flow index over w typical-price changes; 0 when no money flowed.

    TA-Lib returns 0 whenever the flow sum is below 1.0 (an absolute threshold that zeroes
    small-volume markets); this kernel only does so for an exact zero. A typical price that
    moved by round-off only (the same three prices summed in another order) is unchanged.
    """
    n = close.size
    out = nan_like(close)
    if n <= w:
        return out
    tp = (high + low + close) / 3.0
    pos = np.zeros(n)
    neg = np.zeros(n)
    for t in range(1, n):
        flow = tp[t] * volume[t]
        change = tp[t] - tp[t - 1]
        if abs(change) <= TP_TIE * abs(tp[t - 1]):
            continue
        if change > 0.0:
            pos[t] = flow
        else:
            neg[t] = flow
    sp = rolling_sum(pos[1:], w)
    sn = rolling_sum(neg[1:], w)
    for t in range(w, n):
        total = sp[t - 1] + sn[t - 1]
        out[t] = 100.0 * (sp[t - 1] / total) if total != 0.0 else 0.0
    return out


@njit(cache=True)
def vwap(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, w: int
) -> np.ndarray:
    """Rolling VWAP of the typical price over w bars; the plain mean when volume is all 0."""
    tp = (high + low + close) / 3.0
    num = rolling_sum(tp * volume, w)
    den = rolling_sum(volume, w)
    plain = rolling_sum(tp, w)
    out = nan_like(close)
    for t in range(close.size):
        if not np.isnan(den[t]):
            out[t] = num[t] / den[t] if den[t] > 0.0 else plain[t] / w
    return out


@njit(cache=True)
def vwap_ratio(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, w: int
) -> np.ndarray:
    return close / vwap(high, low, close, volume, w) - 1.0
