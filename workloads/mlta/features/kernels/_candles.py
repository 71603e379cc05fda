"""TA-Lib's candle settings and the running candle averages the pattern kernels compare to.

A setting is (range type, averaging period, factor): the "average" of a setting at bar j is
``factor * mean(range over the period bars before j) / (2 for shadows)``, or ``factor *
range(j)`` when the period is 0. The running totals are kept exactly as TA-Lib keeps them
(initial sum from the pattern's first output bar back, then ``+= range(new) - range(old)``),
so comparisons against them tie-break the same way TA-Lib's do.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._common import U, nan_like

# The pattern kernels index with unsigned integers: numba then skips its negative-index
# wraparound test on every array read (two dozen a bar in a pattern kernel), which cost
# more than the pattern logic. Every read is at or after index 0 by the loops' lookbacks.
B1, B2, B3, B4 = U(1), U(2), U(3), U(4)  # bars back, as unsigned offsets

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


# The per-candle helpers take scalars, not arrays: a numba call (or inlined call) that passes
# arrays costs an atomic reference-count pair per array per call, which made every pattern
# kernel ~50x slower than TA-Lib. Scalars cost nothing; the arithmetic is unchanged.


@njit(cache=True)
def body(o: float, c: float) -> float:
    return abs(c - o)


@njit(cache=True)
def upper(o: float, h: float, c: float) -> float:
    return h - (c if c >= o else o)


@njit(cache=True)
def lower(o: float, lo: float, c: float) -> float:
    return (o if c >= o else c) - lo


@njit(cache=True)
def color(o: float, c: float) -> int:
    """1 for a white (close >= open) candle, -1 for a black one."""
    return 1 if c >= o else -1


@njit(cache=True)
def top(o: float, c: float) -> float:
    return max(o, c)


@njit(cache=True)
def bottom(o: float, c: float) -> float:
    return min(o, c)


@njit(cache=True)
def body_gap_up(oj: float, cj: float, ok: float, ck: float) -> bool:
    """Bar j's body entirely above bar k's."""
    return min(oj, cj) > max(ok, ck)


@njit(cache=True)
def body_gap_down(oj: float, cj: float, ok: float, ck: float) -> bool:
    return max(oj, cj) < min(ok, ck)


@njit(cache=True)
def candle_range(kind: int, o: float, h: float, lo: float, c: float) -> float:
    if kind == REAL_BODY:
        return abs(c - o)
    if kind == HIGH_LOW:
        return h - lo
    return upper(o, h, c) + lower(o, lo, c)


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
            out[i] = factor * candle_range(kind, o[i - k], h[i - k], lo[i - k], c[i - k]) / div
        return out
    if start >= n:
        return out
    total = 0.0
    for j in range(start - period - k, start - k):
        total += candle_range(kind, o[j], h[j], lo[j], c[j])
    for i in range(start, n):
        out[i] = factor * (total / period) / div
        a = i - k
        b = a - period
        total += candle_range(kind, o[a], h[a], lo[a], c[a]) - candle_range(
            kind, o[b], h[b], lo[b], c[b])
    return out


# The fused form of ``average`` the pattern kernels use: instead of one array per setting
# (a pass and an 8 MB allocation each), the kernel keeps the running total in a scalar and
# reads the value for bar i just before moving the total on, with exactly ``average``'s
# operations in the same order, so the values are bit-identical.


@njit(cache=True)
def average_total(
    o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
    setting: tuple[int, int, float], k: int, start: int,
) -> float:
    """``average``'s running total at its first output bar ``start`` (0 when unused)."""
    kind, period, _ = setting
    total = 0.0
    if period == 0 or start >= c.size:
        return total
    for j in range(start - period - k, start - k):
        total += candle_range(kind, o[j], h[j], lo[j], c[j])
    return total


@njit(cache=True, inline="always")
def average_value(
    setting: tuple[int, int, float], total: float, o: float, h: float, lo: float, c: float
) -> float:
    """The first half of ``average_step``: the average from the total before this bar's
    update (o, h, lo, c are candle i-k, used only by period-0 settings). Kernels that test
    their conditions one by one compute each average only when its test is reached, as
    TA-Lib does; the value is the same either way."""
    kind, period, factor = setting
    div = 2.0 if kind == SHADOWS else 1.0
    if period == 0:
        return factor * candle_range(kind, o, h, lo, c) / div
    return factor * (total / period) / div


@njit(cache=True, inline="always")
def average_next(
    setting: tuple[int, int, float], total: float,
    o: float, h: float, lo: float, c: float, oo: float, ho: float, lo_o: float, co: float,
) -> float:
    """The second half of ``average_step``: the running total for the next bar."""
    kind, period, _ = setting
    if period == 0:
        return total
    return total + (candle_range(kind, o, h, lo, c) - candle_range(kind, oo, ho, lo_o, co))


@njit(cache=True, inline="always")
def average_step(
    setting: tuple[int, int, float], total: float,
    o: float, h: float, lo: float, c: float, oo: float, ho: float, lo_o: float, co: float,
) -> tuple[float, float]:
    """``(average(...)[i], total for bar i+1)``: o, h, lo, c are candle i-k, which enters
    the total, and oo, ho, lo_o, co candle i-k-period, which leaves it."""
    kind, period, factor = setting
    div = 2.0 if kind == SHADOWS else 1.0
    if period == 0:
        return factor * candle_range(kind, o, h, lo, c) / div, total
    value = factor * (total / period) / div
    total += candle_range(kind, o, h, lo, c) - candle_range(kind, oo, ho, lo_o, co)
    return value, total
