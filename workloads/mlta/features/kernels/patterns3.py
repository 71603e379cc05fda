"""Three- and four-candle patterns, TA-Lib's CDL* definitions (see ``patterns.py``)."""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._candles import (
    B1,
    B2,
    B3,
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    FAR,
    NEAR,
    SHADOW_VERY_SHORT,
    U,
    average_step,
    average_total,
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
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    small_set = BODY_DOJI if doji else BODY_SHORT
    small_t = average_total(o, h, lo, c, small_set, 1, s)
    small_old = U(small_set[1] + 1)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        small_i, small_t = average_step(
            small_set, small_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - small_old], h[i - small_old], lo[i - small_old], c[i - small_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if body(o[i - B2], c[i - B2]) <= blong_i or body(o[i - B1], c[i - B1]) > small_i:
            continue
        if body(o[i], c[i]) <= bshort_i:
            continue
        reach = body(o[i - B2], c[i - B2]) * penetration
        if bullish:
            if (color(o[i - B2], c[i - B2]) == -1
                    and body_gap_down(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                    and color(o[i], c[i]) == 1 and c[i] > c[i - B2] + reach):
                out[i] = 100.0
        elif (color(o[i - B2], c[i - B2]) == 1 and body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
              and color(o[i], c[i]) == -1 and c[i] < c[i - B2] - reach):
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
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 1, s)
    doji_old = U(BODY_DOJI[1] + 1)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if (body(o[i - B2], c[i - B2]) > blong_i and body(o[i - B1], c[i - B1]) <= doji_i
                and body(o[i], c[i]) > bshort_i):
            reach = body(o[i - B2], c[i - B2]) * penetration
            if ((color(o[i - B2], c[i - B2]) == 1 and color(o[i], c[i]) == -1 and c[i] < c[i - B2] - reach
                 and lo[i - B1] > h[i - B2] and h[i] < lo[i - B1])
                    or (color(o[i - B2], c[i - B2]) == -1 and color(o[i], c[i]) == 1
                        and c[i] > c[i - B2] + reach
                        and h[i - B1] < lo[i - B2] and lo[i] > h[i - B1])):
                out[i] = 100.0 * color(o[i], c[i])
    return out


@njit(cache=True)
def cdl_2crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        if (color(o[i - B2], c[i - B2]) == 1 and body(o[i - B2], c[i - B2]) > blong_i
                and color(o[i - B1], c[i - B1]) == -1
                and body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                and color(o[i], c[i]) == -1 and o[i] < o[i - B1] and o[i] > c[i - B1]
                and c[i] > o[i - B2] and c[i] < c[i - B2]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_upsidegap2crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 1, s)
    bshort_old = U(BODY_SHORT[1] + 1)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if (color(o[i - B2], c[i - B2]) == 1 and body(o[i - B2], c[i - B2]) > blong_i
                and color(o[i - B1], c[i - B1]) == -1 and body(o[i - B1], c[i - B1]) <= bshort_i
                and body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                and color(o[i], c[i]) == -1 and o[i] > o[i - B1] and c[i] < c[i - B1]
                and c[i] > c[i - B2]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_3blackcrows(o: A, h: A, lo: A, c: A) -> A:
    s = 13
    out = _out(c, s)
    v2_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v2_old = U(SHADOW_VERY_SHORT[1] + 2)
    v1_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v1_old = U(SHADOW_VERY_SHORT[1] + 1)
    v0_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    v0_old = U(SHADOW_VERY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        v2_i, v2_t = average_step(
            SHADOW_VERY_SHORT, v2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - v2_old], h[i - v2_old], lo[i - v2_old], c[i - v2_old])
        v1_i, v1_t = average_step(
            SHADOW_VERY_SHORT, v1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - v1_old], h[i - v1_old], lo[i - v1_old], c[i - v1_old])
        v0_i, v0_t = average_step(
            SHADOW_VERY_SHORT, v0_t, o[i], h[i], lo[i], c[i],
            o[i - v0_old], h[i - v0_old], lo[i - v0_old], c[i - v0_old])
        if (color(o[i - B3], c[i - B3]) == 1
                and color(o[i - B2], c[i - B2]) == -1 and lower(o[i - B2], lo[i - B2], c[i - B2]) < v2_i
                and color(o[i - B1], c[i - B1]) == -1 and lower(o[i - B1], lo[i - B1], c[i - B1]) < v1_i
                and color(o[i], c[i]) == -1 and lower(o[i], lo[i], c[i]) < v0_i
                and o[i - B1] < o[i - B2] and o[i - B1] > c[i - B2]
                and o[i] < o[i - B1] and o[i] > c[i - B1]
                and h[i - B3] > c[i - B2]
                and c[i - B2] > c[i - B1] and c[i - B1] > c[i]):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_identical3crows(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    v2_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v2_old = U(SHADOW_VERY_SHORT[1] + 2)
    v1_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v1_old = U(SHADOW_VERY_SHORT[1] + 1)
    v0_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    v0_old = U(SHADOW_VERY_SHORT[1] + 0)
    e2_t = average_total(o, h, lo, c, EQUAL, 2, s)
    e2_old = U(EQUAL[1] + 2)
    e1_t = average_total(o, h, lo, c, EQUAL, 1, s)
    e1_old = U(EQUAL[1] + 1)
    for i in range(U(s), U(c.size)):
        v2_i, v2_t = average_step(
            SHADOW_VERY_SHORT, v2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - v2_old], h[i - v2_old], lo[i - v2_old], c[i - v2_old])
        v1_i, v1_t = average_step(
            SHADOW_VERY_SHORT, v1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - v1_old], h[i - v1_old], lo[i - v1_old], c[i - v1_old])
        v0_i, v0_t = average_step(
            SHADOW_VERY_SHORT, v0_t, o[i], h[i], lo[i], c[i],
            o[i - v0_old], h[i - v0_old], lo[i - v0_old], c[i - v0_old])
        e2_i, e2_t = average_step(
            EQUAL, e2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - e2_old], h[i - e2_old], lo[i - e2_old], c[i - e2_old])
        e1_i, e1_t = average_step(
            EQUAL, e1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - e1_old], h[i - e1_old], lo[i - e1_old], c[i - e1_old])
        if (color(o[i - B2], c[i - B2]) == -1 and lower(o[i - B2], lo[i - B2], c[i - B2]) < v2_i
                and color(o[i - B1], c[i - B1]) == -1 and lower(o[i - B1], lo[i - B1], c[i - B1]) < v1_i
                and color(o[i], c[i]) == -1 and lower(o[i], lo[i], c[i]) < v0_i
                and c[i - B2] > c[i - B1] and c[i - B1] > c[i]
                and o[i - B1] <= c[i - B2] + e2_i and o[i - B1] >= c[i - B2] - e2_i
                and o[i] <= c[i - B1] + e1_i and o[i] >= c[i - B1] - e1_i):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_3whitesoldiers(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    v2_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 2, s)
    v2_old = U(SHADOW_VERY_SHORT[1] + 2)
    v1_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 1, s)
    v1_old = U(SHADOW_VERY_SHORT[1] + 1)
    v0_t = average_total(o, h, lo, c, SHADOW_VERY_SHORT, 0, s)
    v0_old = U(SHADOW_VERY_SHORT[1] + 0)
    n2_t = average_total(o, h, lo, c, NEAR, 2, s)
    n2_old = U(NEAR[1] + 2)
    n1_t = average_total(o, h, lo, c, NEAR, 1, s)
    n1_old = U(NEAR[1] + 1)
    f2_t = average_total(o, h, lo, c, FAR, 2, s)
    f2_old = U(FAR[1] + 2)
    f1_t = average_total(o, h, lo, c, FAR, 1, s)
    f1_old = U(FAR[1] + 1)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        v2_i, v2_t = average_step(
            SHADOW_VERY_SHORT, v2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - v2_old], h[i - v2_old], lo[i - v2_old], c[i - v2_old])
        v1_i, v1_t = average_step(
            SHADOW_VERY_SHORT, v1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - v1_old], h[i - v1_old], lo[i - v1_old], c[i - v1_old])
        v0_i, v0_t = average_step(
            SHADOW_VERY_SHORT, v0_t, o[i], h[i], lo[i], c[i],
            o[i - v0_old], h[i - v0_old], lo[i - v0_old], c[i - v0_old])
        n2_i, n2_t = average_step(
            NEAR, n2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - n2_old], h[i - n2_old], lo[i - n2_old], c[i - n2_old])
        n1_i, n1_t = average_step(
            NEAR, n1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - n1_old], h[i - n1_old], lo[i - n1_old], c[i - n1_old])
        f2_i, f2_t = average_step(
            FAR, f2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - f2_old], h[i - f2_old], lo[i - f2_old], c[i - f2_old])
        f1_i, f1_t = average_step(
            FAR, f1_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - f1_old], h[i - f1_old], lo[i - f1_old], c[i - f1_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if (color(o[i - B2], c[i - B2]) == 1 and upper(o[i - B2], h[i - B2], c[i - B2]) < v2_i
                and color(o[i - B1], c[i - B1]) == 1 and upper(o[i - B1], h[i - B1], c[i - B1]) < v1_i
                and color(o[i], c[i]) == 1 and upper(o[i], h[i], c[i]) < v0_i
                and c[i] > c[i - B1] and c[i - B1] > c[i - B2]
                and o[i - B1] > o[i - B2] and o[i - B1] <= c[i - B2] + n2_i
                and o[i] > o[i - B1] and o[i] <= c[i - B1] + n1_i
                and body(o[i - B1], c[i - B1]) > body(o[i - B2], c[i - B2]) - f2_i
                and body(o[i], c[i]) > body(o[i - B1], c[i - B1]) - f1_i
                and body(o[i], c[i]) > bshort_i):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_3inside(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 1, s)
    bshort_old = U(BODY_SHORT[1] + 1)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if (body(o[i - B2], c[i - B2]) > blong_i and body(o[i - B1], c[i - B1]) <= bshort_i
                and top(o[i - B1], c[i - B1]) < top(o[i - B2], c[i - B2])
                and bottom(o[i - B1], c[i - B1]) > bottom(o[i - B2], c[i - B2])
                and ((color(o[i - B2], c[i - B2]) == 1 and color(o[i], c[i]) == -1 and c[i] < o[i - B2])
                     or (color(o[i - B2], c[i - B2]) == -1 and color(o[i], c[i]) == 1
                         and c[i] > o[i - B2]))):
            out[i] = -100.0 * color(o[i - B2], c[i - B2])
    return out


@njit(cache=True)
def cdl_3outside(o: A, h: A, lo: A, c: A) -> A:
    s = 3
    out = _out(c, s)
    for i in range(U(s), U(c.size)):
        c1 = color(o[i - B1], c[i - B1])
        c2 = color(o[i - B2], c[i - B2])
        if ((c1 == 1 and c2 == -1 and c[i - B1] > o[i - B2] and o[i - B1] < c[i - B2]
             and c[i] > c[i - B1])
                or (c1 == -1 and c2 == 1 and o[i - B1] > c[i - B2] and c[i - B1] < o[i - B2]
                    and c[i] < c[i - B1])):
            out[i] = 100.0 * c1
    return out


@njit(cache=True)
def cdl_tristar(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    doji_t = average_total(o, h, lo, c, BODY_DOJI, 2, s)
    doji_old = U(BODY_DOJI[1] + 2)
    for i in range(U(s), U(c.size)):
        doji_i, doji_t = average_step(
            BODY_DOJI, doji_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - doji_old], h[i - doji_old], lo[i - doji_old], c[i - doji_old])
        d = doji_i
        if body(o[i - B2], c[i - B2]) <= d and body(o[i - B1], c[i - B1]) <= d and body(o[i], c[i]) <= d:
            if (body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                    and top(o[i], c[i]) < top(o[i - B1], c[i - B1])):
                out[i] = -100.0
            if (body_gap_down(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                    and bottom(o[i], c[i]) > bottom(o[i - B1], c[i - B1])):
                out[i] = 100.0
    return out


@njit(cache=True)
def cdl_sticksandwich(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    equal_t = average_total(o, h, lo, c, EQUAL, 2, s)
    equal_old = U(EQUAL[1] + 2)
    for i in range(U(s), U(c.size)):
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        if (color(o[i - B2], c[i - B2]) == -1 and color(o[i - B1], c[i - B1]) == 1 and color(o[i], c[i]) == -1
                and lo[i - B1] > c[i - B2]
                and c[i] <= c[i - B2] + equal_i and c[i] >= c[i - B2] - equal_i):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_tasukigap(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    near_t = average_total(o, h, lo, c, NEAR, 1, s)
    near_old = U(NEAR[1] + 1)
    for i in range(U(s), U(c.size)):
        near_i, near_t = average_step(
            NEAR, near_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - near_old], h[i - near_old], lo[i - near_old], c[i - near_old])
        close_bodies = abs(body(o[i - B1], c[i - B1]) - body(o[i], c[i])) < near_i
        if (body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2]) and color(o[i - B1], c[i - B1]) == 1
                and color(o[i], c[i]) == -1 and o[i] < c[i - B1] and o[i] > o[i - B1]
                and c[i] < o[i - B1] and c[i] > top(o[i - B2], c[i - B2]) and close_bodies):
            out[i] = 100.0
        elif (body_gap_down(o[i - B1], c[i - B1], o[i - B2], c[i - B2]) and color(o[i - B1], c[i - B1]) == -1
              and color(o[i], c[i]) == 1 and o[i] < o[i - B1] and o[i] > c[i - B1]
              and c[i] > o[i - B1] and c[i] < bottom(o[i - B2], c[i - B2]) and close_bodies):
            out[i] = -100.0
    return out


@njit(cache=True)
def cdl_gapsidesidewhite(o: A, h: A, lo: A, c: A) -> A:
    s = 7
    out = _out(c, s)
    near_t = average_total(o, h, lo, c, NEAR, 1, s)
    near_old = U(NEAR[1] + 1)
    equal_t = average_total(o, h, lo, c, EQUAL, 1, s)
    equal_old = U(EQUAL[1] + 1)
    for i in range(U(s), U(c.size)):
        near_i, near_t = average_step(
            NEAR, near_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - near_old], h[i - near_old], lo[i - near_old], c[i - near_old])
        equal_i, equal_t = average_step(
            EQUAL, equal_t, o[i - B1], h[i - B1], lo[i - B1], c[i - B1],
            o[i - equal_old], h[i - equal_old], lo[i - equal_old], c[i - equal_old])
        up = (body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
              and body_gap_up(o[i], c[i], o[i - B2], c[i - B2]))
        down = (body_gap_down(o[i - B1], c[i - B1], o[i - B2], c[i - B2])
                and body_gap_down(o[i], c[i], o[i - B2], c[i - B2]))
        if ((up or down) and color(o[i - B1], c[i - B1]) == 1 and color(o[i], c[i]) == 1
                and body(o[i], c[i]) >= body(o[i - B1], c[i - B1]) - near_i
                and body(o[i], c[i]) <= body(o[i - B1], c[i - B1]) + near_i
                and o[i] >= o[i - B1] - equal_i and o[i] <= o[i - B1] + equal_i):
            out[i] = 100.0 if body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2]) else -100.0
    return out


@njit(cache=True)
def cdl_xsidegap3methods(o: A, h: A, lo: A, c: A) -> A:
    s = 2
    out = _out(c, s)
    for i in range(U(s), U(c.size)):
        c2 = color(o[i - B2], c[i - B2])
        if (c2 == color(o[i - B1], c[i - B1]) and color(o[i], c[i]) == -color(o[i - B1], c[i - B1])
                and o[i] < top(o[i - B1], c[i - B1]) and o[i] > bottom(o[i - B1], c[i - B1])
                and c[i] < top(o[i - B2], c[i - B2]) and c[i] > bottom(o[i - B2], c[i - B2])
                and ((c2 == 1 and body_gap_up(o[i - B1], c[i - B1], o[i - B2], c[i - B2]))
                     or (c2 == -1 and body_gap_down(o[i - B1], c[i - B1], o[i - B2], c[i - B2])))):
            out[i] = 100.0 * c2
    return out


@njit(cache=True)
def cdl_unique3river(o: A, h: A, lo: A, c: A) -> A:
    s = 12
    out = _out(c, s)
    blong_t = average_total(o, h, lo, c, BODY_LONG, 2, s)
    blong_old = U(BODY_LONG[1] + 2)
    bshort_t = average_total(o, h, lo, c, BODY_SHORT, 0, s)
    bshort_old = U(BODY_SHORT[1] + 0)
    for i in range(U(s), U(c.size)):
        blong_i, blong_t = average_step(
            BODY_LONG, blong_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - blong_old], h[i - blong_old], lo[i - blong_old], c[i - blong_old])
        bshort_i, bshort_t = average_step(
            BODY_SHORT, bshort_t, o[i], h[i], lo[i], c[i],
            o[i - bshort_old], h[i - bshort_old], lo[i - bshort_old], c[i - bshort_old])
        if (color(o[i - B2], c[i - B2]) == -1 and body(o[i - B2], c[i - B2]) > blong_i
                and color(o[i - B1], c[i - B1]) == -1 and c[i - B1] > c[i - B2] and o[i - B1] <= o[i - B2]
                and lo[i - B1] < lo[i - B2]
                and color(o[i], c[i]) == 1 and body(o[i], c[i]) < bshort_i and o[i] > lo[i - B1]):
            out[i] = 100.0
    return out


@njit(cache=True)
def cdl_3linestrike(o: A, h: A, lo: A, c: A) -> A:
    s = 8
    out = _out(c, s)
    n3_t = average_total(o, h, lo, c, NEAR, 3, s)
    n3_old = U(NEAR[1] + 3)
    n2_t = average_total(o, h, lo, c, NEAR, 2, s)
    n2_old = U(NEAR[1] + 2)
    for i in range(U(s), U(c.size)):
        n3_i, n3_t = average_step(
            NEAR, n3_t, o[i - B3], h[i - B3], lo[i - B3], c[i - B3],
            o[i - n3_old], h[i - n3_old], lo[i - n3_old], c[i - n3_old])
        n2_i, n2_t = average_step(
            NEAR, n2_t, o[i - B2], h[i - B2], lo[i - B2], c[i - B2],
            o[i - n2_old], h[i - n2_old], lo[i - n2_old], c[i - n2_old])
        c1 = color(o[i - B1], c[i - B1])
        if (color(o[i - B3], c[i - B3]) == c1 and color(o[i - B2], c[i - B2]) == c1
                and color(o[i], c[i]) == -c1
                and o[i - B2] >= bottom(o[i - B3], c[i - B3]) - n3_i
                and o[i - B2] <= top(o[i - B3], c[i - B3]) + n3_i
                and o[i - B1] >= bottom(o[i - B2], c[i - B2]) - n2_i
                and o[i - B1] <= top(o[i - B2], c[i - B2]) + n2_i
                and ((c1 == 1 and c[i - B1] > c[i - B2] and c[i - B2] > c[i - B3]
                      and o[i] > c[i - B1] and c[i] < o[i - B3])
                     or (c1 == -1 and c[i - B1] < c[i - B2] and c[i - B2] < c[i - B3]
                         and o[i] < c[i - B1] and c[i] > o[i - B3]))):
            out[i] = 100.0 * c1
    return out
