"""TA-Lib's candle settings and the running candle averages the pattern kernels compare to.

A setting is (range type, averaging period, factor): the "average" of a setting at bar j is
``factor * mean(range over the period bars before j) / (2 for shadows)``, or ``factor *
range(j)`` when the period is 0. The running totals are kept exactly as TA-Lib keeps them
(initial sum from the pattern's first output bar back, then ``+= range(new) - range(old)``),
so comparisons against them tie-break the same way TA-Lib's do.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._common import nan_like

REAL_BODY = 0
HIGH_LOW = 1
SHADOWS = 2

# TA-Lib's default candle settings (ta_global.c): (range type, period, factor)
BODY_LONG = (REAL_BODY, 10, 1.0)
BODY_VERY_LONG = (REAL_BODY, 10, 3.0)
BODY_SHORT = (REAL_BODY, 10, 1.0)
BODY_DOJI = (HIGH_LOW, 10, 0.1)
SHADOW_LONG = (REAL_BODY, 0, 1.0)
SHADOW_VERY_LONG = (REAL_BODY, 0, 2.0)
SHADOW_SHORT = (SHADOWS, 10, 1.0)
SHADOW_VERY_SHORT = (HIGH_LOW, 10, 0.1)
NEAR = (HIGH_LOW, 5, 0.2)
FAR = (HIGH_LOW, 5, 0.6)
EQUAL = (HIGH_LOW, 5, 0.05)


@njit(cache=True)
def body(o: np.ndarray, c: np.ndarray, j: int) -> float:
    return abs(c[j] - o[j])


@njit(cache=True)
def upper(o: np.ndarray, h: np.ndarray, c: np.ndarray, j: int) -> float:
    return h[j] - (c[j] if c[j] >= o[j] else o[j])


@njit(cache=True)
def lower(o: np.ndarray, lo: np.ndarray, c: np.ndarray, j: int) -> float:
    return (o[j] if c[j] >= o[j] else c[j]) - lo[j]


@njit(cache=True)
def color(o: np.ndarray, c: np.ndarray, j: int) -> int:
    """1 for a white (close >= open) candle, -1 for a black one."""
    return 1 if c[j] >= o[j] else -1


@njit(cache=True)
def top(o: np.ndarray, c: np.ndarray, j: int) -> float:
    return max(o[j], c[j])


@njit(cache=True)
def bottom(o: np.ndarray, c: np.ndarray, j: int) -> float:
    return min(o[j], c[j])


@njit(cache=True)
def body_gap_up(o: np.ndarray, c: np.ndarray, j: int, k: int) -> bool:
    """Bar j's body entirely above bar k's."""
    return min(o[j], c[j]) > max(o[k], c[k])


@njit(cache=True)
def body_gap_down(o: np.ndarray, c: np.ndarray, j: int, k: int) -> bool:
    return max(o[j], c[j]) < min(o[k], c[k])


@njit(cache=True)
def candle_range(
    o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, kind: int, j: int
) -> float:
    if kind == REAL_BODY:
        return abs(c[j] - o[j])
    if kind == HIGH_LOW:
        return h[j] - lo[j]
    return upper(o, h, c, j) + lower(o, lo, c, j)


@njit(cache=True)
def average(
    o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
    setting: tuple[int, int, float], k: int, start: int,
) -> np.ndarray:
    """The setting's average for candle i-k at every output bar i >= start."""
    kind, period, factor = setting
    n = c.size
    out = nan_like(c)
    div = 2.0 if kind == SHADOWS else 1.0
    if period == 0:
        for i in range(max(start, k), n):
            out[i] = factor * candle_range(o, h, lo, c, kind, i - k) / div
        return out
    if start >= n:
        return out
    total = 0.0
    for j in range(start - period, start):
        total += candle_range(o, h, lo, c, kind, j - k)
    for i in range(start, n):
        out[i] = factor * (total / period) / div
        total += candle_range(o, h, lo, c, kind, i - k) - candle_range(
            o, h, lo, c, kind, i - k - period)
    return out
