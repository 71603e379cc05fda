"""Single- and two-candle patterns, TA-Lib's CDL* definitions with its default candle settings.

Outputs are TA-Lib's integers as floats: +100 bullish, -100 bearish, 0 none (+-80 for the
weaker engulfing / harami forms); NaN before the pattern's lookback. ``start`` is always the
lookback, which is also where TA-Lib starts its running candle averages.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._candles import (
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    NEAR,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_LONG,
    SHADOW_VERY_SHORT,
    average,
    body,
    body_gap_down,
    body_gap_up,
    bottom,
    color,
    lower,
    top,
    upper,
)
from ._common import nan_like

A = np.ndarray


@njit(cache=True)
def _out(c: A, start: int) -> A:
    out = nan_like(c)
    for i in range(start, c.size):
        out[i] = 0.0
    return out


@njit(cache=True)
def cdl_doji(o: A, h: A, lo: A, c: A) -> A:
    s = 10
    out = _out(c, s)
    doji = average(o, h, lo, c, BODY_DOJI, 0, s)
    for i in range(s, c.size):
        if body(o, c, i) <= doji[i]:
            out[i] = 100.0
    return out


@njit(cache=True)
def _doji_shadows(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """1 dragonfly, 2 gravestone, 3 long-legged, 4 rickshaw man."""
    s = 10
    out = _out(c, s)
    doji = average(o, h, lo, c, BODY_DOJI, 0, s)
    vshort = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    slong = average(o, h, lo, c, SHADOW_LONG, 0, s)
    near = average(o, h, lo, c, NEAR, 0, s)
    for i in range(s, c.size):
        if body(o, c, i) > doji[i]:
            continue
        up = upper(o, h, c, i)
        dn = lower(o, lo, c, i)
        if kind == 1:
            hit = up < vshort[i] and dn > vshort[i]
        elif kind == 2:
            hit = dn < vshort[i] and up > vshort[i]
        elif kind == 3:
            hit = dn > slong[i] or up > slong[i]
        else:
            mid = lo[i] + (h[i] - lo[i]) / 2.0
            hit = (dn > slong[i] and up > slong[i]
                   and bottom(o, c, i) <= mid + near[i] and top(o, c, i) >= mid - near[i])
        if hit:
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_dragonflydoji(o: A, h: A, lo: A, c: A) -> A:
    return _doji_shadows(o, h, lo, c, 1)


@njit(cache=True)
def cdl_gravestonedoji(o: A, h: A, lo: A, c: A) -> A:
    return _doji_shadows(o, h, lo, c, 2)


@njit(cache=True)
def cdl_longleggeddoji(o: A, h: A, lo: A, c: A) -> A:
    return _doji_shadows(o, h, lo, c, 3)


@njit(cache=True)
def cdl_rickshawman(o: A, h: A, lo: A, c: A) -> A:
    return _doji_shadows(o, h, lo, c, 4)


@njit(cache=True)
def _one_candle(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """Colour-signed single candles: 1 spinning top, 2 high wave, 3 marubozu, 4 closing
    marubozu, 5 long line, 6 short line, 7 belt hold; 8 takuri (unsigned)."""
    s = 10
    out = _out(c, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    blong = average(o, h, lo, c, BODY_LONG, 0, s)
    doji = average(o, h, lo, c, BODY_DOJI, 0, s)
    vshort = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    sshort = average(o, h, lo, c, SHADOW_SHORT, 0, s)
    vlong = average(o, h, lo, c, SHADOW_VERY_LONG, 0, s)
    for i in range(s, c.size):
        b = body(o, c, i)
        up = upper(o, h, c, i)
        dn = lower(o, lo, c, i)
        col = color(o, c, i)
        if kind == 1:
            hit = b < bshort[i] and up > b and dn > b
        elif kind == 2:
            hit = b < bshort[i] and up > vlong[i] and dn > vlong[i]
        elif kind == 3:
            hit = b > blong[i] and up < vshort[i] and dn < vshort[i]
        elif kind == 4:
            hit = b > blong[i] and ((col == 1 and up < vshort[i]) or (col == -1 and dn < vshort[i]))
        elif kind == 5:
            hit = b > blong[i] and up < sshort[i] and dn < sshort[i]
        elif kind == 6:
            hit = b < bshort[i] and up < sshort[i] and dn < sshort[i]
        elif kind == 7:
            hit = b > blong[i] and ((col == 1 and dn < vshort[i]) or (col == -1 and up < vshort[i]))
        else:
            hit = b <= doji[i] and up < vshort[i] and dn > vlong[i]
            col = 1
        if hit:
            out[i] = 100.0 * col
    return out


@njit(cache=True)
def cdl_spinningtop(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 1)


@njit(cache=True)
def cdl_highwave(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 2)


@njit(cache=True)
def cdl_marubozu(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 3)


@njit(cache=True)
def cdl_closingmarubozu(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 4)


@njit(cache=True)
def cdl_longline(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 5)


@njit(cache=True)
def cdl_shortline(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 6)


@njit(cache=True)
def cdl_belthold(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 7)


@njit(cache=True)
def cdl_takuri(o: A, h: A, lo: A, c: A) -> A:
    return _one_candle(o, h, lo, c, 8)


@njit(cache=True)
def _hammers(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """1 hammer, 2 hanging man, 3 inverted hammer, 4 shooting star."""
    s = 11
    out = _out(c, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    slong = average(o, h, lo, c, SHADOW_LONG, 0, s)
    vshort = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    near = average(o, h, lo, c, NEAR, 1, s)
    for i in range(s, c.size):
        if body(o, c, i) >= bshort[i]:
            continue
        up = upper(o, h, c, i)
        dn = lower(o, lo, c, i)
        if kind == 1:
            hit = dn > slong[i] and up < vshort[i] and bottom(o, c, i) <= lo[i - 1] + near[i]
            sign = 100.0
        elif kind == 2:
            hit = dn > slong[i] and up < vshort[i] and bottom(o, c, i) >= h[i - 1] - near[i]
            sign = -100.0
        elif kind == 3:
            hit = up > slong[i] and dn < vshort[i] and body_gap_down(o, c, i, i - 1)
            sign = 100.0
        else:
            hit = up > slong[i] and dn < vshort[i] and body_gap_up(o, c, i, i - 1)
            sign = -100.0
        if hit:
            out[i] = sign
    return out


@njit(cache=True)
def cdl_hammer(o: A, h: A, lo: A, c: A) -> A:
    return _hammers(o, h, lo, c, 1)


@njit(cache=True)
def cdl_hangingman(o: A, h: A, lo: A, c: A) -> A:
    return _hammers(o, h, lo, c, 2)


@njit(cache=True)
def cdl_invertedhammer(o: A, h: A, lo: A, c: A) -> A:
    return _hammers(o, h, lo, c, 3)


@njit(cache=True)
def cdl_shootingstar(o: A, h: A, lo: A, c: A) -> A:
    return _hammers(o, h, lo, c, 4)


@njit(cache=True)
def cdl_engulfing(o: A, h: A, lo: A, c: A) -> A:
    s = 2
    out = _out(c, s)
    for i in range(s, c.size):
        c0 = color(o, c, i)
        c1 = color(o, c, i - 1)
        hit = (c0 == 1 and c1 == -1 and (
            (c[i] >= o[i - 1] and o[i] < c[i - 1]) or (c[i] > o[i - 1] and o[i] <= c[i - 1]))) or (
            c0 == -1 and c1 == 1 and (
                (o[i] >= c[i - 1] and c[i] < o[i - 1]) or (o[i] > c[i - 1] and c[i] <= o[i - 1])))
        if hit:
            full = o[i] != c[i - 1] and c[i] != o[i - 1]
            out[i] = (100.0 if full else 80.0) * c0
    return out


@njit(cache=True)
def _harami(o: A, h: A, lo: A, c: A, cross: bool) -> A:
    s = 11
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 1, s)
    small = average(o, h, lo, c, BODY_DOJI if cross else BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if body(o, c, i - 1) > blong[i] and body(o, c, i) <= small[i]:
            sign = -color(o, c, i - 1)
            if top(o, c, i) < top(o, c, i - 1) and bottom(o, c, i) > bottom(o, c, i - 1):
                out[i] = 100.0 * sign
            elif top(o, c, i) <= top(o, c, i - 1) and bottom(o, c, i) >= bottom(o, c, i - 1):
                out[i] = 80.0 * sign
    return out


@njit(cache=True)
def cdl_harami(o: A, h: A, lo: A, c: A) -> A:
    return _harami(o, h, lo, c, False)


@njit(cache=True)
def cdl_haramicross(o: A, h: A, lo: A, c: A) -> A:
    return _harami(o, h, lo, c, True)


@njit(cache=True)
def cdl_dojistar(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 1, s)
    doji = average(o, h, lo, c, BODY_DOJI, 0, s)
    for i in range(s, c.size):
        c1 = color(o, c, i - 1)
        if body(o, c, i - 1) > blong[i] and body(o, c, i) <= doji[i] and (
                (c1 == 1 and body_gap_up(o, c, i, i - 1))
                or (c1 == -1 and body_gap_down(o, c, i, i - 1))):
            out[i] = -100.0 * c1
    return out


@njit(cache=True)
def _two_line(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """Long black then white: 1 in-neck, 2 on-neck, 3 thrusting; 4 homing pigeon."""
    s = 11
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 1, s)
    equal = average(o, h, lo, c, EQUAL, 1, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if color(o, c, i - 1) != -1 or body(o, c, i - 1) <= blong[i]:
            continue
        if kind == 4:
            if (color(o, c, i) == -1 and body(o, c, i) <= bshort[i] and o[i] < o[i - 1]
                    and c[i] > c[i - 1]):
                out[i] = 100.0
            continue
        if color(o, c, i) != 1 or o[i] >= lo[i - 1]:
            continue
        if kind == 1:
            hit = c[i] <= c[i - 1] + equal[i] and c[i] >= c[i - 1]
        elif kind == 2:
            hit = c[i] <= lo[i - 1] + equal[i] and c[i] >= lo[i - 1] - equal[i]
        else:
            hit = c[i] > c[i - 1] + equal[i] and c[i] <= c[i - 1] + body(o, c, i - 1) * 0.5
        if hit:
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_inneck(o: A, h: A, lo: A, c: A) -> A:
    return _two_line(o, h, lo, c, 1)


@njit(cache=True)
def cdl_onneck(o: A, h: A, lo: A, c: A) -> A:
    return _two_line(o, h, lo, c, 2)


@njit(cache=True)
def cdl_thrusting(o: A, h: A, lo: A, c: A) -> A:
    return _two_line(o, h, lo, c, 3)


@njit(cache=True)
def cdl_homingpigeon(o: A, h: A, lo: A, c: A) -> A:
    return _two_line(o, h, lo, c, 4)


@njit(cache=True)
def cdl_piercing(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    blong1 = average(o, h, lo, c, BODY_LONG, 1, s)
    blong0 = average(o, h, lo, c, BODY_LONG, 0, s)
    for i in range(s, c.size):
        if (color(o, c, i - 1) == -1 and body(o, c, i - 1) > blong1[i]
                and color(o, c, i) == 1 and body(o, c, i) > blong0[i]
                and o[i] < lo[i - 1] and c[i] < o[i - 1]
                and c[i] > c[i - 1] + body(o, c, i - 1) * 0.5):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_darkcloudcover(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    s = 11
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 1, s)
    for i in range(s, c.size):
        if (color(o, c, i - 1) == 1 and body(o, c, i - 1) > blong[i]
                and color(o, c, i) == -1 and o[i] > h[i - 1] and c[i] > o[i - 1]
                and c[i] < c[i - 1] - body(o, c, i - 1) * penetration):
            out[i] = -100.0
    return out


@njit(cache=True)
def _kicking(o: A, h: A, lo: A, c: A, by_length: bool) -> A:
    s = 11
    out = _out(c, s)
    blong1 = average(o, h, lo, c, BODY_LONG, 1, s)
    vshort1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    blong0 = average(o, h, lo, c, BODY_LONG, 0, s)
    vshort0 = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    for i in range(s, c.size):
        c1 = color(o, c, i - 1)
        if (c1 == -color(o, c, i)
                and body(o, c, i - 1) > blong1[i] and upper(o, h, c, i - 1) < vshort1[i]
                and lower(o, lo, c, i - 1) < vshort1[i]
                and body(o, c, i) > blong0[i] and upper(o, h, c, i) < vshort0[i]
                and lower(o, lo, c, i) < vshort0[i]
                and ((c1 == -1 and lo[i] > h[i - 1]) or (c1 == 1 and h[i] < lo[i - 1]))):
            if by_length:
                longer = i if body(o, c, i) > body(o, c, i - 1) else i - 1
                out[i] = 100.0 * color(o, c, longer)
            else:
                out[i] = 100.0 * color(o, c, i)
    return out


@njit(cache=True)
def cdl_kicking(o: A, h: A, lo: A, c: A) -> A:
    return _kicking(o, h, lo, c, False)


@njit(cache=True)
def cdl_kickingbylength(o: A, h: A, lo: A, c: A) -> A:
    return _kicking(o, h, lo, c, True)


@njit(cache=True)
def cdl_matchinglow(o: A, h: A, lo: A, c: A) -> A:
    s = 6
    out = _out(c, s)
    equal = average(o, h, lo, c, EQUAL, 1, s)
    for i in range(s, c.size):
        if (color(o, c, i - 1) == -1 and color(o, c, i) == -1
                and c[i] <= c[i - 1] + equal[i] and c[i] >= c[i - 1] - equal[i]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_separatinglines(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    vshort = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    blong = average(o, h, lo, c, BODY_LONG, 0, s)
    equal = average(o, h, lo, c, EQUAL, 1, s)
    for i in range(s, c.size):
        c0 = color(o, c, i)
        if (color(o, c, i - 1) == -c0
                and o[i] <= o[i - 1] + equal[i] and o[i] >= o[i - 1] - equal[i]
                and body(o, c, i) > blong[i]
                and ((c0 == 1 and lower(o, lo, c, i) < vshort[i])
                     or (c0 == -1 and upper(o, h, c, i) < vshort[i]))):
            out[i] = 100.0 * c0
    return out


@njit(cache=True)
def cdl_counterattack(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    equal = average(o, h, lo, c, EQUAL, 1, s)
    blong1 = average(o, h, lo, c, BODY_LONG, 1, s)
    blong0 = average(o, h, lo, c, BODY_LONG, 0, s)
    for i in range(s, c.size):
        c0 = color(o, c, i)
        if (color(o, c, i - 1) == -c0 and body(o, c, i - 1) > blong1[i]
                and body(o, c, i) > blong0[i]
                and c[i] <= c[i - 1] + equal[i] and c[i] >= c[i - 1] - equal[i]):
            out[i] = 100.0 * c0
    return out
