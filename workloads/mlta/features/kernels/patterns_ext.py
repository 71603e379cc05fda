"""The remaining TA-Lib candlestick patterns (advance block, breakaway, concealing baby
swallow, hikkake and its modified form, ladder bottom, mat hold, rising/falling three methods,
stalled pattern, three stars in the south), with TA-Lib's default candle settings.

Same conventions as ``patterns.py``: +100 / -100 / 0 as floats, NaN before the lookback, the
candle averages are ``_candles.average`` (TA-Lib's running totals started at the first output
bar). The conditions are TA-Lib's, term by term and in its arithmetic order (``c1 - body0 -
near1`` is ``(c1 - body0) - near1``; the three-methods directions multiply by the first
candle's colour as TA-Lib does). The two hikkake forms carry a pattern state across bars and
start it 3 bars before their first output, exactly where TA-Lib does.

The per-candle helpers here take scalars (cheap in numba) and are private to this module.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._candles import (
    B1,
    B2,
    B3,
    B4,
    BODY_LONG,
    BODY_SHORT,
    FAR,
    NEAR,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_SHORT,
    U,
    average,
)
from ._common import nan_like

A = np.ndarray


@njit(cache=True)
def _out(c: A, start: int) -> A:
    out = nan_like(c)
    for i in range(U(start), U(c.size)):
        out[i] = 0.0
    return out


@njit(cache=True)
def _col(o: float, c: float) -> int:
    return 1 if c >= o else -1


@njit(cache=True)
def _body(o: float, c: float) -> float:
    return abs(c - o)


@njit(cache=True)
def _up(o: float, h: float, c: float) -> float:
    return h - (c if c >= o else o)


@njit(cache=True)
def _dn(o: float, lo: float, c: float) -> float:
    return (o if c >= o else c) - lo


@njit(cache=True)
def cdl_advanceblock(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    ss2 = average(o, h, lo, c, SHADOW_SHORT, 2, s)
    ss1 = average(o, h, lo, c, SHADOW_SHORT, 1, s)
    ss0 = average(o, h, lo, c, SHADOW_SHORT, 0, s)
    sl0 = average(o, h, lo, c, SHADOW_LONG, 0, s)
    n2 = average(o, h, lo, c, NEAR, 2, s)
    n1 = average(o, h, lo, c, NEAR, 1, s)
    f2 = average(o, h, lo, c, FAR, 2, s)
    f1 = average(o, h, lo, c, FAR, 1, s)
    bl2 = average(o, h, lo, c, BODY_LONG, 2, s)
    for i in range(U(s), U(c.size)):
        b2 = _body(o[i - B2], c[i - B2])
        b1 = _body(o[i - B1], c[i - B1])
        b0 = _body(o[i], c[i])
        if not (_col(o[i - B2], c[i - B2]) == 1 and _col(o[i - B1], c[i - B1]) == 1
                and _col(o[i], c[i]) == 1
                and c[i] > c[i - B1] and c[i - B1] > c[i - B2]
                and o[i - B1] > o[i - B2] and o[i - B1] <= c[i - B2] + n2[i]
                and o[i] > o[i - B1] and o[i] <= c[i - B1] + n1[i]
                and b2 > bl2[i] and _up(o[i - B2], h[i - B2], c[i - B2]) < ss2[i]):
            continue
        up1 = _up(o[i - B1], h[i - B1], c[i - B1])
        up0 = _up(o[i], h[i], c[i])
        if ((b1 < b2 - f2[i] and b0 < b1 + n1[i])
                or b0 < b1 - f1[i]
                or (b0 < b1 and b1 < b2 and (up0 > ss0[i] or up1 > ss1[i]))
                or (b0 < b1 and up0 > sl0[i])):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_breakaway(o: A, h: A, lo: A, c: A) -> A:
    s = 14
    out = _out(c, s)
    bl4 = average(o, h, lo, c, BODY_LONG, 4, s)
    for i in range(U(s), U(c.size)):
        c4 = _col(o[i - B4], c[i - B4])
        c3 = _col(o[i - B3], c[i - B3])
        c1 = _col(o[i - B1], c[i - B1])
        c0 = _col(o[i], c[i])
        if not (c4 == c3 and c3 == c1 and c1 == -c0
                and _body(o[i - B4], c[i - B4]) > bl4[i]):
            continue
        down = (c4 == -1
                and max(o[i - B3], c[i - B3]) < min(o[i - B4], c[i - B4])
                and h[i - B2] < h[i - B3] and lo[i - B2] < lo[i - B3]
                and h[i - B1] < h[i - B2] and lo[i - B1] < lo[i - B2]
                and c[i] > o[i - B3] and c[i] < c[i - B4])
        up = (c4 == 1
              and min(o[i - B3], c[i - B3]) > max(o[i - B4], c[i - B4])
              and h[i - B2] > h[i - B3] and lo[i - B2] > lo[i - B3]
              and h[i - B1] > h[i - B2] and lo[i - B1] > lo[i - B2]
              and c[i] < o[i - B3] and c[i] > c[i - B4])
        if down or up:
            out[i] = 100.0 * c0
    return out


@njit(cache=True)
def cdl_concealbabyswall(o: A, h: A, lo: A, c: A) -> A:
    s = 13
    out = _out(c, s)
    v3 = average(o, h, lo, c, SHADOW_VERY_SHORT, 3, s)
    v2 = average(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    for i in range(U(s), U(c.size)):
        if (_col(o[i - B3], c[i - B3]) == -1 and _col(o[i - B2], c[i - B2]) == -1
                and _col(o[i - B1], c[i - B1]) == -1 and _col(o[i], c[i]) == -1
                and _dn(o[i - B3], lo[i - B3], c[i - B3]) < v3[i]
                and _up(o[i - B3], h[i - B3], c[i - B3]) < v3[i]
                and _dn(o[i - B2], lo[i - B2], c[i - B2]) < v2[i]
                and _up(o[i - B2], h[i - B2], c[i - B2]) < v2[i]
                and max(o[i - B1], c[i - B1]) < min(o[i - B2], c[i - B2])
                and _up(o[i - B1], h[i - B1], c[i - B1]) > v1[i]
                and h[i - B1] > c[i - B2]
                and h[i] > h[i - B1] and lo[i] < lo[i - B1]):
            out[i] = 100.0
    return out


@njit(cache=True)
def _hikkake(o: A, h: A, lo: A, c: A, modified: bool) -> A:
    """Hikkake (inside bar, then a false breakout) or the modified form (two inside bars, the
    first closing near its extreme); confirmation within 3 bars reports +-200."""
    s = 10 if modified else 5
    first = s - 3
    out = _out(c, s)
    if c.size <= s:
        return out
    near = average(o, h, lo, c, NEAR, 2, first) if modified else nan_like(c)
    pattern_idx = 0
    result = 0
    for i in range(first, c.size):
        inside = h[i - 1] < h[i - 2] and lo[i - 1] > lo[i - 2]
        if modified:
            inside = inside and h[i - 2] < h[i - 3] and lo[i - 2] > lo[i - 3]
        bull = h[i] < h[i - 1] and lo[i] < lo[i - 1]
        bear = h[i] > h[i - 1] and lo[i] > lo[i - 1]
        if modified:
            bull = bull and c[i - 2] <= lo[i - 2] + near[i]
            bear = bear and c[i - 2] >= h[i - 2] - near[i]
        if inside and (bull or bear):
            result = 100 * (1 if h[i] < h[i - 1] else -1)
            pattern_idx = i
            if i >= s:
                out[i] = float(result)
        elif i <= pattern_idx + 3 and (
                (result > 0 and c[i] > h[pattern_idx - 1])
                or (result < 0 and c[i] < lo[pattern_idx - 1])):
            if i >= s:
                out[i] = float(result + 100 * (1 if result > 0 else -1))
            pattern_idx = 0
    return out


@njit(cache=True)
def cdl_hikkake(o: A, h: A, lo: A, c: A) -> A:
    return _hikkake(o, h, lo, c, False)


@njit(cache=True)
def cdl_hikkakemod(o: A, h: A, lo: A, c: A) -> A:
    return _hikkake(o, h, lo, c, True)


@njit(cache=True)
def cdl_ladderbottom(o: A, h: A, lo: A, c: A) -> A:
    s = 14
    out = _out(c, s)
    v1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    for i in range(U(s), U(c.size)):
        if (_col(o[i - B4], c[i - B4]) == -1 and _col(o[i - B3], c[i - B3]) == -1
                and _col(o[i - B2], c[i - B2]) == -1
                and o[i - B4] > o[i - B3] and o[i - B3] > o[i - B2]
                and c[i - B4] > c[i - B3] and c[i - B3] > c[i - B2]
                and _col(o[i - B1], c[i - B1]) == -1
                and _up(o[i - B1], h[i - B1], c[i - B1]) > v1[i]
                and _col(o[i], c[i]) == 1 and o[i] > o[i - B1] and c[i] > h[i - B1]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_mathold(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    s = 14
    out = _out(c, s)
    bl4 = average(o, h, lo, c, BODY_LONG, 4, s)
    bs3 = average(o, h, lo, c, BODY_SHORT, 3, s)
    bs2 = average(o, h, lo, c, BODY_SHORT, 2, s)
    bs1 = average(o, h, lo, c, BODY_SHORT, 1, s)
    for i in range(U(s), U(c.size)):
        reach = c[i - B4] - _body(o[i - B4], c[i - B4]) * penetration
        if (_col(o[i - B4], c[i - B4]) == 1 and _col(o[i - B3], c[i - B3]) == -1
                and _col(o[i], c[i]) == 1
                and min(o[i - B3], c[i - B3]) > max(o[i - B4], c[i - B4])
                and min(o[i - B2], c[i - B2]) < c[i - B4]
                and min(o[i - B1], c[i - B1]) < c[i - B4]
                and min(o[i - B2], c[i - B2]) > reach
                and min(o[i - B1], c[i - B1]) > reach
                and max(c[i - B2], o[i - B2]) < o[i - B3]
                and max(c[i - B1], o[i - B1]) < max(c[i - B2], o[i - B2])
                and o[i] > c[i - B1]
                and c[i] > max(max(h[i - B3], h[i - B2]), h[i - B1])
                and _body(o[i - B4], c[i - B4]) > bl4[i]
                and _body(o[i - B3], c[i - B3]) < bs3[i]
                and _body(o[i - B2], c[i - B2]) < bs2[i]
                and _body(o[i - B1], c[i - B1]) < bs1[i]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_risefall3methods(o: A, h: A, lo: A, c: A) -> A:
    s = 14
    out = _out(c, s)
    bl4 = average(o, h, lo, c, BODY_LONG, 4, s)
    bs3 = average(o, h, lo, c, BODY_SHORT, 3, s)
    bs2 = average(o, h, lo, c, BODY_SHORT, 2, s)
    bs1 = average(o, h, lo, c, BODY_SHORT, 1, s)
    bl0 = average(o, h, lo, c, BODY_LONG, 0, s)
    for i in range(U(s), U(c.size)):
        c4 = _col(o[i - B4], c[i - B4])
        sign = float(c4)
        if (c4 == -_col(o[i - B3], c[i - B3])
                and _col(o[i - B3], c[i - B3]) == _col(o[i - B2], c[i - B2])
                and _col(o[i - B2], c[i - B2]) == _col(o[i - B1], c[i - B1])
                and _col(o[i - B1], c[i - B1]) == -_col(o[i], c[i])
                and min(o[i - B3], c[i - B3]) < h[i - B4] and max(o[i - B3], c[i - B3]) > lo[i - B4]
                and min(o[i - B2], c[i - B2]) < h[i - B4] and max(o[i - B2], c[i - B2]) > lo[i - B4]
                and min(o[i - B1], c[i - B1]) < h[i - B4] and max(o[i - B1], c[i - B1]) > lo[i - B4]
                and c[i - B2] * sign < c[i - B3] * sign
                and c[i - B1] * sign < c[i - B2] * sign
                and o[i] * sign > c[i - B1] * sign
                and c[i] * sign > c[i - B4] * sign
                and _body(o[i - B4], c[i - B4]) > bl4[i]
                and _body(o[i - B3], c[i - B3]) < bs3[i]
                and _body(o[i - B2], c[i - B2]) < bs2[i]
                and _body(o[i - B1], c[i - B1]) < bs1[i]
                and _body(o[i], c[i]) > bl0[i]):
            out[i] = 100.0 * c4
    return out


@njit(cache=True)
def cdl_stalledpattern(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    bl2 = average(o, h, lo, c, BODY_LONG, 2, s)
    bl1 = average(o, h, lo, c, BODY_LONG, 1, s)
    bs0 = average(o, h, lo, c, BODY_SHORT, 0, s)
    vs1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    n2 = average(o, h, lo, c, NEAR, 2, s)
    n1 = average(o, h, lo, c, NEAR, 1, s)
    for i in range(U(s), U(c.size)):
        b0 = _body(o[i], c[i])
        if (_col(o[i - B2], c[i - B2]) == 1 and _col(o[i - B1], c[i - B1]) == 1
                and _col(o[i], c[i]) == 1
                and c[i] > c[i - B1] and c[i - B1] > c[i - B2]
                and _body(o[i - B2], c[i - B2]) > bl2[i]
                and _body(o[i - B1], c[i - B1]) > bl1[i]
                and _up(o[i - B1], h[i - B1], c[i - B1]) < vs1[i]
                and o[i - B1] > o[i - B2] and o[i - B1] <= c[i - B2] + n2[i]
                and b0 < bs0[i]
                and o[i] >= c[i - B1] - b0 - n1[i]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_3starsinsouth(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    bl2 = average(o, h, lo, c, BODY_LONG, 2, s)
    sl2 = average(o, h, lo, c, SHADOW_LONG, 2, s)
    vs1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    vs0 = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    bs0 = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(U(s), U(c.size)):
        if (_col(o[i - B2], c[i - B2]) == -1 and _col(o[i - B1], c[i - B1]) == -1
                and _col(o[i], c[i]) == -1
                and _body(o[i - B2], c[i - B2]) > bl2[i]
                and _dn(o[i - B2], lo[i - B2], c[i - B2]) > sl2[i]
                and _body(o[i - B1], c[i - B1]) < _body(o[i - B2], c[i - B2])
                and o[i - B1] > c[i - B2] and o[i - B1] <= h[i - B2]
                and lo[i - B1] < c[i - B2] and lo[i - B1] >= lo[i - B2]
                and _dn(o[i - B1], lo[i - B1], c[i - B1]) > vs1[i]
                and _body(o[i], c[i]) < bs0[i]
                and _dn(o[i], lo[i], c[i]) < vs0[i]
                and _up(o[i], h[i], c[i]) < vs0[i]
                and lo[i] > lo[i - B1] and h[i] < h[i - B1]):
            out[i] = 100.0
    return out
