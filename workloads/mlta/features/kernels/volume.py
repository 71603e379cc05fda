"""Volume indicators: cumulative flows, money flow, rolling VWAP and volume anomalies."""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._common import nan_like, ring_total, rolling_sum

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
    # The positive and negative flow sums over bars t-w+1..t on ``rolling_sum``'s schedule
    # for the flows from bar 1 on (re-summed oldest first at bars w, 2w, ..., running in
    # between), side by side in one pass over a ring of the last w flows instead of five
    # million-row arrays, with the split done by selects (the direction of a typical price
    # is a coin flip, and a mispredicted branch a bar cost more than the arithmetic). The
    # former kernel's bits.
    ring_p = np.empty(w)
    ring_m = np.empty(w)
    slot = 0
    to_block = w  # bars until the next exact re-summation (at bars w, 2w, ...)
    sp = 0.0
    sm = 0.0
    prev = (high[0] + low[0] + close[0]) / 3.0
    for t in range(1, n):
        tp = (high[t] + low[t] + close[t]) / 3.0
        flow = tp * volume[t]
        change = tp - prev
        moved = abs(change) > TP_TIE * abs(prev)
        rising = change > 0.0
        p = flow if (moved and rising) else 0.0
        m = flow if (moved and not rising) else 0.0
        prev = tp
        p_old = ring_p[slot]
        m_old = ring_m[slot]
        ring_p[slot] = p
        ring_m[slot] = m
        slot += 1
        if slot == w:
            slot = 0
        to_block -= 1
        if to_block == 0:
            to_block = w
            sp = ring_total(ring_p, slot)
            sm = ring_total(ring_m, slot)
            out[t] = _mfi_value(sp, sm)
        elif t > w:
            sp += p - p_old
            sm += m - m_old
            out[t] = _mfi_value(sp, sm)
    return out


@njit(cache=True, inline="always")
def _mfi_value(sp: float, sn: float) -> float:
    total = sp + sn
    return 100.0 * (sp / total) if total != 0.0 else 0.0


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
