"""Volume flows and volatility extras: TA-Lib's CMF, EFI, NVI, PVI, PVT, MASSI and CVI.

Windowed sums use ``_common.rolling_sum`` (re-summed exactly every window, see the package
doc) where TA-Lib keeps one running sum, so they agree with TA-Lib to round-off; recursive
ones (EMAs, the NVI / PVI / PVT accumulations) follow TA-Lib's operation order.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._common import ema, mask_before, nan_like, ring_total

A = np.ndarray


@njit(cache=True)
def cmf(high: A, low: A, close: A, volume: A, w: int) -> A:
    """Chaikin money flow: sum of money-flow volume / sum of volume over w bars (0 when the
    window traded nothing); the multiplier is the one AD uses."""
    # Both sums on ``rolling_sum``'s schedule (re-summed oldest first at rows w-1, 2w-1, ...,
    # running in between), side by side in one pass over a ring of the last w flows: the
    # former kernel's bits without its four million-row arrays.
    n = close.size
    out = nan_like(close)
    if n < w:
        return out
    ring = np.empty(w)
    slot = 0
    to_block = w
    num = 0.0
    den = 0.0
    for t in range(n):
        rng = high[t] - low[t]
        flow = (close[t] - low[t] - (high[t] - close[t])) / rng * volume[t] if rng > 0.0 else 0.0
        old = ring[slot]
        ring[slot] = flow
        slot += 1
        if slot == w:
            slot = 0
        to_block -= 1
        if to_block == 0:
            to_block = w
            num = ring_total(ring, slot)
            den = 0.0
            for j in range(t - w + 1, t + 1):
                den += volume[j]
            out[t] = num / den if den > 0.0 else 0.0
        elif t >= w:
            num += flow - old
            den += volume[t] - volume[t - w]
            out[t] = num / den if den > 0.0 else 0.0
    return out


@njit(cache=True)
def efi(close: A, volume: A, w: int) -> A:
    """Elder's force index: EMA(w) of (close - previous close) * volume."""
    n = close.size
    force = nan_like(close)
    for t in range(1, n):
        force[t] = (close[t] - close[t - 1]) * volume[t]
    return ema(force, w)


@njit(cache=True)
def _volume_index(close: A, volume: A, negative: bool) -> A:
    """NVI (PVI): from 1000, moves with the close's percent change on bars whose volume fell
    (rose) versus the previous bar, unchanged otherwise."""
    n = close.size
    out = nan_like(close)
    if n == 0:
        return out
    value = 1000.0
    out[0] = value
    for t in range(1, n):
        moved = volume[t] < volume[t - 1] if negative else volume[t] > volume[t - 1]
        if moved and close[t - 1] != 0.0:
            value = value + value * ((close[t] - close[t - 1]) / close[t - 1])
        out[t] = value
    return out


@njit(cache=True)
def nvi(close: A, volume: A) -> A:
    return _volume_index(close, volume, True)


@njit(cache=True)
def pvi(close: A, volume: A) -> A:
    return _volume_index(close, volume, False)


@njit(cache=True)
def pvt(close: A, volume: A) -> A:
    """Price-volume trend: cumulative volume * percent change of the close, from 0."""
    n = close.size
    out = nan_like(close)
    if n == 0:
        return out
    value = 0.0
    out[0] = value
    for t in range(1, n):
        if close[t - 1] != 0.0:
            value += volume[t] * ((close[t] - close[t - 1]) / close[t - 1])
        out[t] = value
    return out


@njit(cache=True)
def massi(high: A, low: A, fast: int, slow: int) -> A:
    """Mass index: sum over ``slow`` bars of EMA(range) / EMA(EMA(range)), both over
    ``fast`` bars."""
    # One pass, bit-identical to ``rolling_sum(ratio, slow)`` over ``ratio = single / double``
    # with ``single = ema(high - low, fast)`` and ``double = ema(single, fast)``: the same
    # seeds (means summed oldest first), the same EMA steps, and the rolling sum's schedule
    # (re-summed oldest first every ``slow`` ratios, running in between) over a ring of the
    # last ``slow`` ratios instead of four million-row temporaries.
    n = high.size
    out = nan_like(high)
    first = 2 * fast - 2  # the first bar with a ratio
    if first + slow - 1 >= n:
        return out
    k = 2.0 / (fast + 1.0)
    acc = 0.0
    for j in range(fast):
        acc += high[j] - low[j]
    single = acc / fast
    acc = 0.0
    acc += single
    for t in range(fast, first + 1):
        single = single * (1.0 - k) + (high[t] - low[t]) * k
        acc += single
    double = acc / fast
    ring = np.empty(slow)
    slot = 0
    to_block = slow  # ratios until the next exact re-summation
    total = 0.0
    for t in range(first, n):
        if t > first:
            single = single * (1.0 - k) + (high[t] - low[t]) * k
            double = double * (1.0 - k) + single * k
        ratio = single / double if double != 0.0 else 1.0
        i = t - first
        old = ring[slot]
        ring[slot] = ratio
        slot += 1
        if slot == slow:
            slot = 0
        to_block -= 1
        if to_block == 0:
            to_block = slow
            total = ring_total(ring, slot)
            out[t] = total
        elif i >= slow:
            total += ratio - old
            out[t] = total
    return out


@njit(cache=True)
def cvi(high: A, low: A, w: int, roc: int) -> A:
    """Chaikin volatility: percent change over ``roc`` bars of EMA(high - low, w)."""
    e = ema(high - low, w)
    out = nan_like(high)
    for t in range(roc, high.size):
        prev = e[t - roc]
        if not np.isnan(prev):
            out[t] = ((e[t] - prev) / prev) * 100.0 if prev != 0.0 else 0.0
    return mask_before(out, w - 1 + roc)
