"""Single- and two-candle patterns, TA-Lib's CDL* definitions with its default candle settings.

Outputs are TA-Lib's integers as floats: +100 bullish, -100 bearish, 0 none (+-80 for the
weaker engulfing / harami forms); NaN before the pattern's lookback. ``start`` is always the
lookback, which is also where TA-Lib starts its running candle averages.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._candles import (
    B1,
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    NEAR,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_LONG,
    SHADOW_VERY_SHORT,
    U,
    average_next,
    average_step,
    average_total,
    average_value,
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
    for i in range(U(start), U(c.size)):
        out[i] = 0.0
    return out


@njit(cache=True)
def cdl_doji(o: A, h: A, lo: A, c: A) -> A:
    s = 10
    out = _out(c, s)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 0, s)
    doji_old = U(BODY_DOJI[1] + 0)
    for i in range(U(s), U(c.size)):
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i], h[i], lo[i], c[i],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        if body(o[i], c[i]) <= doji_i:
            out[i] = 100.0
    return out


@njit(cache=True)
def _doji_shadows(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """1 dragonfly, 2 gravestone, 3 long-legged, 4 rickshaw man."""
    s = 10
    out = _out(c, s)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 0, s)
    doji_old = U(BODY_DOJI[1] + 0)
    vshort_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    vshort_old = U(SHADOW_VERY_SHORT[1] + 0)
    slong_t = average_total(o, h, lo, c, SHADOW_LONG, 0, s)
    slong_old = U(SHADOW_LONG[1] + 0)
    near_t = average_total(o, h, lo, c, NEAR, 0, s)
    near_old = U(NEAR[1] + 0)
    for i in range(U(s), U(c.size)):
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i], h[i], lo[i], c[i],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        vshort_i, vshort_t = average_step(
            SHADOW_VERY_SHORT, vshort_t, o[i], h[i], lo[i], c[i],
            o[i - vshort_old], h[i - vshort_old], lo[i - vshort_old], c[i - vshort_old])
        slong_i, slong_t = average_step(
            SHADOW_LONG, slong_t, o[i], h[i], lo[i], c[i],
            o[i - slong_old], h[i - slong_old], lo[i - slong_old], c[i - slong_old])
        near_i, near_t = average_step(
            NEAR, near_t, o[i], h[i], lo[i], c[i],
            o[i - near_old], h[i - near_old], lo[i - near_old], c[i - near_old])
        if body(o[i], c[i]) > doji_i:
            continue
        up = upper(o[i], h[i], c[i])
        dn = lower(o[i], lo[i], c[i])
        if kind == 1:
            hit = up < vshort_i and dn > vshort_i
        elif kind == 2:
            hit = dn < vshort_i and up > vshort_i
        elif kind == 3:
            hit = dn > slong_i or up > slong_i
        else:
            mid = lo[i] + (h[i] - lo[i]) / 2.0
            hit = (dn > slong_i and up > slong_i
                   and bottom(o[i], c[i]) <= mid + near_i and top(o[i], c[i]) >= mid - near_i)
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
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 0, s)
    blong_old = U(BODY_LONG[1] + 0)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 0, s)
    doji_old = U(BODY_DOJI[1] + 0)
    vshort_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    vshort_old = U(SHADOW_VERY_SHORT[1] + 0)
    sshort_t = average_total(o, h, lo, c, SHADOW_SHORT, 0, s)
    sshort_old = U(SHADOW_SHORT[1] + 0)
    vlong_t = average_total(o, h, lo, c, SHADOW_VERY_LONG, 0, s)
    vlong_old = U(SHADOW_VERY_LONG[1] + 0)
    for i in range(U(s), U(c.size)):
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i], h[i], lo[i], c[i],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i], h[i], lo[i], c[i],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        vshort_i, vshort_t = average_step(
            SHADOW_VERY_SHORT, vshort_t, o[i], h[i], lo[i], c[i],
            o[i - vshort_old], h[i - vshort_old], lo[i - vshort_old], c[i - vshort_old])
        sshort_i, sshort_t = average_step(
            SHADOW_SHORT, sshort_t, o[i], h[i], lo[i], c[i],
            o[i - sshort_old], h[i - sshort_old], lo[i - sshort_old], c[i - sshort_old])
        vlong_i, vlong_t = average_step(
            SHADOW_VERY_LONG, vlong_t, o[i], h[i], lo[i], c[i],
            o[i - vlong_old], h[i - vlong_old], lo[i - vlong_old], c[i - vlong_old])
        b = body(o[i], c[i])
        up = upper(o[i], h[i], c[i])
        dn = lower(o[i], lo[i], c[i])
        col = color(o[i], c[i])
        if kind == 1:
            hit = b < bshort_i and up > b and dn > b
        elif kind == 2:
            hit = b < bshort_i and up > vlong_i and dn > vlong_i
        elif kind == 3:
            hit = b > blong_i and up < vshort_i and dn < vshort_i
        elif kind == 4:
            hit = b > blong_i and ((col == 1 and up < vshort_i) or (col == -1 and dn < vshort_i))
        elif kind == 5:
            hit = b > blong_i and up < sshort_i and dn < sshort_i
        elif kind == 6:
            hit = b < bshort_i and up < sshort_i and dn < sshort_i
        elif kind == 7:
            hit = b > blong_i and ((col == 1 and dn < vshort_i) or (col == -1 and up < vshort_i))
        else:
            hit = b <= doji_i and up < vshort_i and dn > vlong_i
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
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    slong_t = average_total(o, h, lo, c, SHADOW_LONG, 0, s)  # period 0: per candle
    vshort_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    vshort_old = U(SHADOW_VERY_SHORT[1] + 0)
    near_t = average_total(o, h, lo, c, NEAR, 1, s)
    near_old = U(NEAR[1] + 1)
    for i in range(U(s), U(c.size)):
        # Every running total moves on every bar; each average is computed (a division)
        # only when its test is reached, from the total before this bar's move.
        bshort_b, vshort_b, near_b = bshort_t, vshort_t, near_t
        bshort_t = average_next(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        vshort_t = average_next(
            SHADOW_VERY_SHORT, vshort_t, o[i], h[i], lo[i], c[i],
            o[i - vshort_old], h[i - vshort_old], lo[i - vshort_old], c[i - vshort_old])
        near_t = average_next(
            NEAR, near_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - near_old], h[i - near_old], lo[i - near_old], c[i - near_old])
        if body(o[i], c[i]) >= average_value(BODY_SHORT, bshort_b, o[i], h[i], lo[i], c[i]):
            continue
        up = upper(o[i], h[i], c[i])
        dn = lower(o[i], lo[i], c[i])
        long_side = dn if kind <= 2 else up
        short_side = up if kind <= 2 else dn
        if not (long_side > average_value(SHADOW_LONG, slong_t, o[i], h[i], lo[i], c[i])
                and short_side < average_value(SHADOW_VERY_SHORT, vshort_b,
                                               o[i], h[i], lo[i], c[i])):
            continue
        if kind == 1:
            hit = bottom(o[i], c[i]) <= lo[i - B1] + average_value(
                NEAR, near_b, o[i - B1], h[i - B1], lo[i - B1], c[i - B1])
            sign = 100.0
        elif kind == 2:
            hit = bottom(o[i], c[i]) >= h[i - B1] - average_value(
                NEAR, near_b, o[i - B1], h[i - B1], lo[i - B1], c[i - B1])
            sign = -100.0
        elif kind == 3:
            hit = body_gap_down(o[i], c[i], o[i - B1], c[i - B1])
            sign = 100.0
        else:
            hit = body_gap_up(o[i], c[i], o[i - B1], c[i - B1])
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
    for i in range(U(s), U(c.size)):
        c0 = color(o[i], c[i])
        c1 = color(o[i - B1], c[i - B1])
        hit = (c0 == 1 and c1 == -1 and (
            (c[i] >= o[i - B1] and o[i] < c[i - B1]) or (c[i] > o[i - B1] and o[i] <= c[i - B1]))) or (
            c0 == -1 and c1 == 1 and (
                (o[i] >= c[i - B1] and c[i] < o[i - B1]) or (o[i] > c[i - B1] and c[i] <= o[i - B1])))
        if hit:
            full = o[i] != c[i - B1] and c[i] != o[i - B1]
            out[i] = (100.0 if full else 80.0) * c0
    return out


@njit(cache=True)
def _harami(o: A, h: A, lo: A, c: A, cross: bool) -> A:
    s = 11
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong_old = U(BODY_LONG[1] + 1)
    small_set = BODY_DOJI if cross else BODY_SHORT
    small_t = average_total(o, h, lo, c, small_set, 0, s)
    small_old = U(small_set[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        small_i, small_t = average_step(
            small_set, small_t, o[i], h[i], lo[i], c[i],
            o[i - small_old], h[i - small_old], lo[i - small_old], c[i - small_old])
        if body(o[i - B1], c[i - B1]) > blong_i and body(o[i], c[i]) <= small_i:
            sign = -color(o[i - B1], c[i - B1])
            t0, t1 = top(o[i], c[i]), top(o[i - B1], c[i - B1])
            b0, b1 = bottom(o[i], c[i]), bottom(o[i - B1], c[i - B1])
            if t0 < t1 and b0 > b1:
                out[i] = 100.0 * sign
            elif t0 <= t1 and b0 >= b1:
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
    blong_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong_old = U(BODY_LONG[1] + 1)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 0, s)
    doji_old = U(BODY_DOJI[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i], h[i], lo[i], c[i],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        c1 = color(o[i - B1], c[i - B1])
        if body(o[i - B1], c[i - B1]) > blong_i and body(o[i], c[i]) <= doji_i and (
                (c1 == 1 and body_gap_up(o[i], c[i], o[i - B1], c[i - B1]))
                or (c1 == -1 and body_gap_down(o[i], c[i], o[i - B1], c[i - B1]))):
            out[i] = -100.0 * c1
    return out


@njit(cache=True)
def _two_line(o: A, h: A, lo: A, c: A, kind: int) -> A:
    """Long black then white: 1 in-neck, 2 on-neck, 3 thrusting; 4 homing pigeon."""
    s = 11
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong_old = U(BODY_LONG[1] + 1)
    equal_t = average_total(o, h, lo, c, EQUAL, 1, s)
    equal_old = U(EQUAL[1] + 1)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if color(o[i - B1], c[i - B1]) != -1 or body(o[i - B1], c[i - B1]) <= blong_i:
            continue
        if kind == 4:
            if (color(o[i], c[i]) == -1 and body(o[i], c[i]) <= bshort_i and o[i] < o[i - B1]
                    and c[i] > c[i - B1]):
                out[i] = 100.0
            continue
        if color(o[i], c[i]) != 1 or o[i] >= lo[i - B1]:
            continue
        if kind == 1:
            hit = c[i] <= c[i - B1] + equal_i and c[i] >= c[i - B1]
        elif kind == 2:
            hit = c[i] <= lo[i - B1] + equal_i and c[i] >= lo[i - B1] - equal_i
        else:
            hit = c[i] > c[i - B1] + equal_i and c[i] <= c[i - B1] + body(o[i - B1], c[i - B1]) * 0.5
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
    blong1_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong1_old = U(BODY_LONG[1] + 1)
    blong0_t = average_total(o, h, lo, c, BODY_LONG, 0, s)
    blong0_old = U(BODY_LONG[1] + 0)
    for i in range(U(s), U(c.size)):
        blong1_i, blong1_t = average_step(
            BODY_LONG, blong1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong1_old], h[i - blong1_old], lo[i - blong1_old], c[i - blong1_old])
        blong0_i, blong0_t = average_step(
            BODY_LONG, blong0_t, o[i], h[i], lo[i], c[i],
            o[i - blong0_old], h[i - blong0_old], lo[i - blong0_old], c[i - blong0_old])
        if (color(o[i - B1], c[i - B1]) == -1 and body(o[i - B1], c[i - B1]) > blong1_i
                and color(o[i], c[i]) == 1 and body(o[i], c[i]) > blong0_i
                and o[i] < lo[i - B1] and c[i] < o[i - B1]
                and c[i] > c[i - B1] + body(o[i - B1], c[i - B1]) * 0.5):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_darkcloudcover(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    s = 11
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong_old = U(BODY_LONG[1] + 1)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        if (color(o[i - B1], c[i - B1]) == 1 and body(o[i - B1], c[i - B1]) > blong_i
                and color(o[i], c[i]) == -1 and o[i] > h[i - B1] and c[i] > o[i - B1]
                and c[i] < c[i - B1] - body(o[i - B1], c[i - B1]) * penetration):
            out[i] = -100.0
    return out


@njit(cache=True)
def _kicking(o: A, h: A, lo: A, c: A, by_length: bool) -> A:
    s = 11
    out = _out(c, s)
    blong1_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong1_old = U(BODY_LONG[1] + 1)
    vshort1_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    vshort1_old = U(SHADOW_VERY_SHORT[1] + 1)
    blong0_t = average_total(o, h, lo, c, BODY_LONG, 0, s)
    blong0_old = U(BODY_LONG[1] + 0)
    vshort0_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    vshort0_old = U(SHADOW_VERY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        blong1_i, blong1_t = average_step(
            BODY_LONG, blong1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong1_old], h[i - blong1_old], lo[i - blong1_old], c[i - blong1_old])
        vshort1_i, vshort1_t = average_step(
            SHADOW_VERY_SHORT, vshort1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - vshort1_old], h[i - vshort1_old], lo[i - vshort1_old], c[i - vshort1_old])
        blong0_i, blong0_t = average_step(
            BODY_LONG, blong0_t, o[i], h[i], lo[i], c[i],
            o[i - blong0_old], h[i - blong0_old], lo[i - blong0_old], c[i - blong0_old])
        vshort0_i, vshort0_t = average_step(
            SHADOW_VERY_SHORT, vshort0_t, o[i], h[i], lo[i], c[i],
            o[i - vshort0_old], h[i - vshort0_old], lo[i - vshort0_old], c[i - vshort0_old])
        c1 = color(o[i - B1], c[i - B1])
        if (c1 == -color(o[i], c[i])
                and body(o[i - B1], c[i - B1]) > blong1_i
                and upper(o[i - B1], h[i - B1], c[i - B1]) < vshort1_i
                and lower(o[i - B1], lo[i - B1], c[i - B1]) < vshort1_i
                and body(o[i], c[i]) > blong0_i and upper(o[i], h[i], c[i]) < vshort0_i
                and lower(o[i], lo[i], c[i]) < vshort0_i
                and ((c1 == -1 and lo[i] > h[i - B1]) or (c1 == 1 and h[i] < lo[i - B1]))):
            if by_length:
                longer = i if body(o[i], c[i]) > body(o[i - B1], c[i - B1]) else i - B1
                out[i] = 100.0 * color(o[longer], c[longer])
            else:
                out[i] = 100.0 * color(o[i], c[i])
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
    equal_t = average_total(o, h, lo, c, EQUAL, 1, s)
    equal_old = U(EQUAL[1] + 1)
    for i in range(U(s), U(c.size)):
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        if (color(o[i - B1], c[i - B1]) == -1 and color(o[i], c[i]) == -1
                and c[i] <= c[i - B1] + equal_i and c[i] >= c[i - B1] - equal_i):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_separatinglines(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    vshort_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    vshort_old = U(SHADOW_VERY_SHORT[1] + 0)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 0, s)
    blong_old = U(BODY_LONG[1] + 0)
    equal_t = average_total(o, h, lo, c, EQUAL, 1, s)
    equal_old = U(EQUAL[1] + 1)
    for i in range(U(s), U(c.size)):
        vshort_i, vshort_t = average_step(
            SHADOW_VERY_SHORT, vshort_t, o[i], h[i], lo[i], c[i],
            o[i - vshort_old], h[i - vshort_old], lo[i - vshort_old], c[i - vshort_old])
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i], h[i], lo[i], c[i],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        c0 = color(o[i], c[i])
        if (color(o[i - B1], c[i - B1]) == -c0
                and o[i] <= o[i - B1] + equal_i and o[i] >= o[i - B1] - equal_i
                and body(o[i], c[i]) > blong_i
                and ((c0 == 1 and lower(o[i], lo[i], c[i]) < vshort_i)
                     or (c0 == -1 and upper(o[i], h[i], c[i]) < vshort_i))):
            out[i] = 100.0 * c0
    return out


@njit(cache=True)
def cdl_counterattack(o: A, h: A, lo: A, c: A) -> A:
    s = 11
    out = _out(c, s)
    equal_t = average_total(o, h, lo, c, EQUAL, 1, s)
    equal_old = U(EQUAL[1] + 1)
    blong1_t = average_total(o, h, lo, c, BODY_LONG, 1, s)
    blong1_old = U(BODY_LONG[1] + 1)
    blong0_t = average_total(o, h, lo, c, BODY_LONG, 0, s)
    blong0_old = U(BODY_LONG[1] + 0)
    for i in range(U(s), U(c.size)):
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        blong1_i, blong1_t = average_step(
            BODY_LONG, blong1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - blong1_old], h[i - blong1_old], lo[i - blong1_old], c[i - blong1_old])
        blong0_i, blong0_t = average_step(
            BODY_LONG, blong0_t, o[i], h[i], lo[i], c[i],
            o[i - blong0_old], h[i - blong0_old], lo[i - blong0_old], c[i - blong0_old])
        c0 = color(o[i], c[i])
        if (color(o[i - B1], c[i - B1]) == -c0 and body(o[i - B1], c[i - B1]) > blong1_i
                and body(o[i], c[i]) > blong0_i
                and c[i] <= c[i - B1] + equal_i and c[i] >= c[i - B1] - equal_i):
            out[i] = 100.0 * c0
    return out
