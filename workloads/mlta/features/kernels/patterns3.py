"""Three- and four-candle patterns, TA-Lib's CDL* definitions (see ``patterns.py``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from ._candles import (
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    FAR,
    NEAR,
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
from .patterns import _out

A = np.ndarray


@njit(cache=True)
def _stars(o: A, h: A, lo: A, c: A, penetration: float, doji: bool, bullish: bool) -> A:
    """Morning / evening (doji) star: long body, small (doji) body gapping away, a body back
    into the first by ``penetration`` of it."""
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    small = average(o, h, lo, c, BODY_DOJI if doji else BODY_SHORT, 1, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if body(o, c, i - 2) <= blong[i] or body(o, c, i - 1) > small[i]:
            continue
        if body(o, c, i) <= bshort[i]:
            continue
        reach = body(o, c, i - 2) * penetration
        if bullish:
            if (color(o, c, i - 2) == -1 and body_gap_down(o, c, i - 1, i - 2)
                    and color(o, c, i) == 1 and c[i] > c[i - 2] + reach):
                out[i] = 100.0
        elif (color(o, c, i - 2) == 1 and body_gap_up(o, c, i - 1, i - 2)
              and color(o, c, i) == -1 and c[i] < c[i - 2] - reach):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_morningstar(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    return _stars(o, h, lo, c, penetration, False, True)


@njit(cache=True)
def cdl_eveningstar(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    return _stars(o, h, lo, c, penetration, False, False)


@njit(cache=True)
def cdl_morningdojistar(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    return _stars(o, h, lo, c, penetration, True, True)


@njit(cache=True)
def cdl_eveningdojistar(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    return _stars(o, h, lo, c, penetration, True, False)


@njit(cache=True)
def cdl_abandonedbaby(o: A, h: A, lo: A, c: A, penetration: float) -> A:
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    doji = average(o, h, lo, c, BODY_DOJI, 1, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if (body(o, c, i - 2) > blong[i] and body(o, c, i - 1) <= doji[i]
                and body(o, c, i) > bshort[i]):
            reach = body(o, c, i - 2) * penetration
            if ((color(o, c, i - 2) == 1 and color(o, c, i) == -1 and c[i] < c[i - 2] - reach
                 and lo[i - 1] > h[i - 2] and h[i] < lo[i - 1])
                    or (color(o, c, i - 2) == -1 and color(o, c, i) == 1
                        and c[i] > c[i - 2] + reach
                        and h[i - 1] < lo[i - 2] and lo[i] > h[i - 1])):
                out[i] = 100.0 * color(o, c, i)
    return out


@njit(cache=True)
def cdl_2crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == 1 and body(o, c, i - 2) > blong[i]
                and color(o, c, i - 1) == -1 and body_gap_up(o, c, i - 1, i - 2)
                and color(o, c, i) == -1 and o[i] < o[i - 1] and o[i] > c[i - 1]
                and c[i] > o[i - 2] and c[i] < c[i - 2]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_upsidegap2crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 1, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == 1 and body(o, c, i - 2) > blong[i]
                and color(o, c, i - 1) == -1 and body(o, c, i - 1) <= bshort[i]
                and body_gap_up(o, c, i - 1, i - 2)
                and color(o, c, i) == -1 and o[i] > o[i - 1] and c[i] < c[i - 1]
                and c[i] > c[i - 2]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_3blackcrows(o: A, h: A, lo: A, c: A) -> A:
    s = 13
    out = _out(c, s)
    v2 = average(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v0 = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    for i in range(s, c.size):
        if (color(o, c, i - 3) == 1
                and color(o, c, i - 2) == -1 and lower(o, lo, c, i - 2) < v2[i]
                and color(o, c, i - 1) == -1 and lower(o, lo, c, i - 1) < v1[i]
                and color(o, c, i) == -1 and lower(o, lo, c, i) < v0[i]
                and o[i - 1] < o[i - 2] and o[i - 1] > c[i - 2]
                and o[i] < o[i - 1] and o[i] > c[i - 1]
                and h[i - 3] > c[i - 2]
                and c[i - 2] > c[i - 1] and c[i - 1] > c[i]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_identical3crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    v2 = average(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v0 = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    e2 = average(o, h, lo, c, EQUAL, 2, s)
    e1 = average(o, h, lo, c, EQUAL, 1, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == -1 and lower(o, lo, c, i - 2) < v2[i]
                and color(o, c, i - 1) == -1 and lower(o, lo, c, i - 1) < v1[i]
                and color(o, c, i) == -1 and lower(o, lo, c, i) < v0[i]
                and c[i - 2] > c[i - 1] and c[i - 1] > c[i]
                and o[i - 1] <= c[i - 2] + e2[i] and o[i - 1] >= c[i - 2] - e2[i]
                and o[i] <= c[i - 1] + e1[i] and o[i] >= c[i - 1] - e1[i]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_3whitesoldiers(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    v2 = average(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v1 = average(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v0 = average(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    n2 = average(o, h, lo, c, NEAR, 2, s)
    n1 = average(o, h, lo, c, NEAR, 1, s)
    f2 = average(o, h, lo, c, FAR, 2, s)
    f1 = average(o, h, lo, c, FAR, 1, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == 1 and upper(o, h, c, i - 2) < v2[i]
                and color(o, c, i - 1) == 1 and upper(o, h, c, i - 1) < v1[i]
                and color(o, c, i) == 1 and upper(o, h, c, i) < v0[i]
                and c[i] > c[i - 1] and c[i - 1] > c[i - 2]
                and o[i - 1] > o[i - 2] and o[i - 1] <= c[i - 2] + n2[i]
                and o[i] > o[i - 1] and o[i] <= c[i - 1] + n1[i]
                and body(o, c, i - 1) > body(o, c, i - 2) - f2[i]
                and body(o, c, i) > body(o, c, i - 1) - f1[i]
                and body(o, c, i) > bshort[i]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_3inside(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 1, s)
    for i in range(s, c.size):
        if (body(o, c, i - 2) > blong[i] and body(o, c, i - 1) <= bshort[i]
                and top(o, c, i - 1) < top(o, c, i - 2)
                and bottom(o, c, i - 1) > bottom(o, c, i - 2)
                and ((color(o, c, i - 2) == 1 and color(o, c, i) == -1 and c[i] < o[i - 2])
                     or (color(o, c, i - 2) == -1 and color(o, c, i) == 1
                         and c[i] > o[i - 2]))):
            out[i] = -100.0 * color(o, c, i - 2)
    return out


@njit(cache=True)
def cdl_3outside(o: A, h: A, lo: A, c: A) -> A:
    s = 3
    out = _out(c, s)
    for i in range(s, c.size):
        c1 = color(o, c, i - 1)
        c2 = color(o, c, i - 2)
        if ((c1 == 1 and c2 == -1 and c[i - 1] > o[i - 2] and o[i - 1] < c[i - 2]
             and c[i] > c[i - 1])
                or (c1 == -1 and c2 == 1 and o[i - 1] > c[i - 2] and c[i - 1] < o[i - 2]
                    and c[i] < c[i - 1])):
            out[i] = 100.0 * c1
    return out


@njit(cache=True)
def cdl_tristar(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    doji = average(o, h, lo, c, BODY_DOJI, 2, s)
    for i in range(s, c.size):
        d = doji[i]
        if body(o, c, i - 2) <= d and body(o, c, i - 1) <= d and body(o, c, i) <= d:
            if body_gap_up(o, c, i - 1, i - 2) and top(o, c, i) < top(o, c, i - 1):
                out[i] = -100.0
            if body_gap_down(o, c, i - 1, i - 2) and bottom(o, c, i) > bottom(o, c, i - 1):
                out[i] = 100.0
    return out


@njit(cache=True)
def cdl_sticksandwich(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    equal = average(o, h, lo, c, EQUAL, 2, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == -1 and color(o, c, i - 1) == 1 and color(o, c, i) == -1
                and lo[i - 1] > c[i - 2]
                and c[i] <= c[i - 2] + equal[i] and c[i] >= c[i - 2] - equal[i]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_tasukigap(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    near = average(o, h, lo, c, NEAR, 1, s)
    for i in range(s, c.size):
        close_bodies = abs(body(o, c, i - 1) - body(o, c, i)) < near[i]
        if (body_gap_up(o, c, i - 1, i - 2) and color(o, c, i - 1) == 1
                and color(o, c, i) == -1 and o[i] < c[i - 1] and o[i] > o[i - 1]
                and c[i] < o[i - 1] and c[i] > top(o, c, i - 2) and close_bodies):
            out[i] = 100.0
        elif (body_gap_down(o, c, i - 1, i - 2) and color(o, c, i - 1) == -1
              and color(o, c, i) == 1 and o[i] < o[i - 1] and o[i] > c[i - 1]
              and c[i] > o[i - 1] and c[i] < bottom(o, c, i - 2) and close_bodies):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_gapsidesidewhite(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    near = average(o, h, lo, c, NEAR, 1, s)
    equal = average(o, h, lo, c, EQUAL, 1, s)
    for i in range(s, c.size):
        up = body_gap_up(o, c, i - 1, i - 2) and body_gap_up(o, c, i, i - 2)
        down = body_gap_down(o, c, i - 1, i - 2) and body_gap_down(o, c, i, i - 2)
        if ((up or down) and color(o, c, i - 1) == 1 and color(o, c, i) == 1
                and body(o, c, i) >= body(o, c, i - 1) - near[i]
                and body(o, c, i) <= body(o, c, i - 1) + near[i]
                and o[i] >= o[i - 1] - equal[i] and o[i] <= o[i - 1] + equal[i]):
            out[i] = 100.0 if body_gap_up(o, c, i - 1, i - 2) else -100.0
    return out


@njit(cache=True)
def cdl_xsidegap3methods(o: A, h: A, lo: A, c: A) -> A:
    s = 2
    out = _out(c, s)
    for i in range(s, c.size):
        c2 = color(o, c, i - 2)
        if (c2 == color(o, c, i - 1) and color(o, c, i) == -color(o, c, i - 1)
                and o[i] < top(o, c, i - 1) and o[i] > bottom(o, c, i - 1)
                and c[i] < top(o, c, i - 2) and c[i] > bottom(o, c, i - 2)
                and ((c2 == 1 and body_gap_up(o, c, i - 1, i - 2))
                     or (c2 == -1 and body_gap_down(o, c, i - 1, i - 2)))):
            out[i] = 100.0 * c2
    return out


@njit(cache=True)
def cdl_unique3river(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong = average(o, h, lo, c, BODY_LONG, 2, s)
    bshort = average(o, h, lo, c, BODY_SHORT, 0, s)
    for i in range(s, c.size):
        if (color(o, c, i - 2) == -1 and body(o, c, i - 2) > blong[i]
                and color(o, c, i - 1) == -1 and c[i - 1] > c[i - 2] and o[i - 1] <= o[i - 2]
                and lo[i - 1] < lo[i - 2]
                and color(o, c, i) == 1 and body(o, c, i) < bshort[i] and o[i] > lo[i - 1]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_3linestrike(o: A, h: A, lo: A, c: A) -> A:
    s = 8
    out = _out(c, s)
    n3 = average(o, h, lo, c, NEAR, 3, s)
    n2 = average(o, h, lo, c, NEAR, 2, s)
    for i in range(s, c.size):
        c1 = color(o, c, i - 1)
        if (color(o, c, i - 3) == c1 and color(o, c, i - 2) == c1 and color(o, c, i) == -c1
                and o[i - 2] >= bottom(o, c, i - 3) - n3[i]
                and o[i - 2] <= top(o, c, i - 3) + n3[i]
                and o[i - 1] >= bottom(o, c, i - 2) - n2[i]
                and o[i - 1] <= top(o, c, i - 2) + n2[i]
                and ((c1 == 1 and c[i - 1] > c[i - 2] and c[i - 2] > c[i - 3]
                      and o[i] > c[i - 1] and c[i] < o[i - 3])
                     or (c1 == -1 and c[i - 1] < c[i - 2] and c[i - 2] < c[i - 3]
                         and o[i] < c[i - 1] and c[i] > o[i - 3]))):
            out[i] = 100.0 * c1
    return out
