"""Streaming forms of ``kernels/patterns3.py`` (three- and four-candle CDL patterns).

Same scheme as ``patterns.py``: TA-Lib's running candle totals (``_Average``) plus the kernel's
rule, here over the newest four bars: ``b[0]`` is bar i, ``b[1]`` bar i-1, and so on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from mlta.features.kernels._candles import (
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    FAR,
    NEAR,
    SHADOW_VERY_SHORT,
)

from ._base import NAN
from .patterns import (
    Bar,
    _Average,
    body,
    body_gap_down,
    body_gap_up,
    bottom,
    color,
    lower,
    top,
    upper,
)

Bars = Sequence[Bar]
Rule = Callable[[Bars, list[float], float], float]
_NAN_BAR: Bar = (NAN, NAN, NAN, NAN)
OP, HI, LO, CL = 0, 1, 2, 3  # fields of a Bar


class _Pattern3:
    __slots__ = ("averages", "bars", "penetration", "row", "rule", "start")

    def __init__(self, start: int, averages: list[tuple[tuple[int, int, float], int]],
                 rule: Rule, penetration: float = 0.0) -> None:
        self.start = start
        self.averages = [_Average(setting, k, start) for setting, k in averages]
        self.rule = rule
        self.penetration = penetration
        self.bars: deque[Bar] = deque([_NAN_BAR] * 4, maxlen=4)
        self.row = -1

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        self.row += 1
        bar = (o, h, lo, c)
        avgs = [a.update(bar) for a in self.averages]
        self.bars.appendleft(bar)
        if self.row < self.start:
            return (NAN,)
        return (self.rule(self.bars, avgs, self.penetration),)


def _pattern(start: int, averages: list[tuple[tuple[int, int, float], int]], rule: Rule,
             with_penetration: bool = False) -> type:
    if with_penetration:
        class Penetrating(_Pattern3):
            __slots__ = ()

            def __init__(self, penetration: float) -> None:
                super().__init__(start, averages, rule, penetration)

        return Penetrating

    class Pattern(_Pattern3):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__(start, averages, rule)

    return Pattern


def _stars(doji: bool, bullish: bool) -> Rule:
    def rule(b: Bars, a: list[float], penetration: float) -> float:
        blong, small, bshort = a
        if body(b[2]) <= blong or body(b[1]) > small:
            return 0.0
        if body(b[0]) <= bshort:
            return 0.0
        reach = body(b[2]) * penetration
        if bullish:
            if (color(b[2]) == -1 and body_gap_down(b[1], b[2])
                    and color(b[0]) == 1 and b[0][CL] > b[2][CL] + reach):
                return 100.0
        elif (color(b[2]) == 1 and body_gap_up(b[1], b[2])
              and color(b[0]) == -1 and b[0][CL] < b[2][CL] - reach):
            return -100.0
        return 0.0

    return rule


def _star_averages(doji: bool) -> list[tuple[tuple[int, int, float], int]]:
    return [(BODY_LONG, 2), (BODY_DOJI if doji else BODY_SHORT, 1), (BODY_SHORT, 0)]


def _abandonedbaby(b: Bars, a: list[float], penetration: float) -> float:
    blong, doji, bshort = a
    if body(b[2]) > blong and body(b[1]) <= doji and body(b[0]) > bshort:
        reach = body(b[2]) * penetration
        if ((color(b[2]) == 1 and color(b[0]) == -1 and b[0][CL] < b[2][CL] - reach
             and b[1][LO] > b[2][HI] and b[0][HI] < b[1][LO])
                or (color(b[2]) == -1 and color(b[0]) == 1 and b[0][CL] > b[2][CL] + reach
                    and b[1][HI] < b[2][LO] and b[0][LO] > b[1][HI])):
            return 100.0 * color(b[0])
    return 0.0


def _2crows(b: Bars, a: list[float], _: float) -> float:
    if (color(b[2]) == 1 and body(b[2]) > a[0]
            and color(b[1]) == -1 and body_gap_up(b[1], b[2])
            and color(b[0]) == -1 and b[0][OP] < b[1][OP] and b[0][OP] > b[1][CL]
            and b[0][CL] > b[2][OP] and b[0][CL] < b[2][CL]):
        return -100.0
    return 0.0


def _upsidegap2crows(b: Bars, a: list[float], _: float) -> float:
    blong, bshort = a
    if (color(b[2]) == 1 and body(b[2]) > blong
            and color(b[1]) == -1 and body(b[1]) <= bshort and body_gap_up(b[1], b[2])
            and color(b[0]) == -1 and b[0][OP] > b[1][OP] and b[0][CL] < b[1][CL]
            and b[0][CL] > b[2][CL]):
        return -100.0
    return 0.0


def _3blackcrows(b: Bars, a: list[float], _: float) -> float:
    v2, v1, v0 = a
    if (color(b[3]) == 1
            and color(b[2]) == -1 and lower(b[2]) < v2
            and color(b[1]) == -1 and lower(b[1]) < v1
            and color(b[0]) == -1 and lower(b[0]) < v0
            and b[1][OP] < b[2][OP] and b[1][OP] > b[2][CL]
            and b[0][OP] < b[1][OP] and b[0][OP] > b[1][CL]
            and b[3][HI] > b[2][CL]
            and b[2][CL] > b[1][CL] and b[1][CL] > b[0][CL]):
        return -100.0
    return 0.0


def _identical3crows(b: Bars, a: list[float], _: float) -> float:
    v2, v1, v0, e2, e1 = a
    if (color(b[2]) == -1 and lower(b[2]) < v2
            and color(b[1]) == -1 and lower(b[1]) < v1
            and color(b[0]) == -1 and lower(b[0]) < v0
            and b[2][CL] > b[1][CL] and b[1][CL] > b[0][CL]
            and b[1][OP] <= b[2][CL] + e2 and b[1][OP] >= b[2][CL] - e2
            and b[0][OP] <= b[1][CL] + e1 and b[0][OP] >= b[1][CL] - e1):
        return -100.0
    return 0.0


def _3whitesoldiers(b: Bars, a: list[float], _: float) -> float:
    v2, v1, v0, n2, n1, f2, f1, bshort = a
    if (color(b[2]) == 1 and upper(b[2]) < v2
            and color(b[1]) == 1 and upper(b[1]) < v1
            and color(b[0]) == 1 and upper(b[0]) < v0
            and b[0][CL] > b[1][CL] and b[1][CL] > b[2][CL]
            and b[1][OP] > b[2][OP] and b[1][OP] <= b[2][CL] + n2
            and b[0][OP] > b[1][OP] and b[0][OP] <= b[1][CL] + n1
            and body(b[1]) > body(b[2]) - f2
            and body(b[0]) > body(b[1]) - f1
            and body(b[0]) > bshort):
        return 100.0
    return 0.0


def _3inside(b: Bars, a: list[float], _: float) -> float:
    blong, bshort = a
    if (body(b[2]) > blong and body(b[1]) <= bshort
            and top(b[1]) < top(b[2]) and bottom(b[1]) > bottom(b[2])
            and ((color(b[2]) == 1 and color(b[0]) == -1 and b[0][CL] < b[2][OP])
                 or (color(b[2]) == -1 and color(b[0]) == 1 and b[0][CL] > b[2][OP]))):
        return -100.0 * color(b[2])
    return 0.0


def _3outside(b: Bars, a: list[float], _: float) -> float:
    c1 = color(b[1])
    c2 = color(b[2])
    if ((c1 == 1 and c2 == -1 and b[1][CL] > b[2][OP] and b[1][OP] < b[2][CL]
         and b[0][CL] > b[1][CL])
            or (c1 == -1 and c2 == 1 and b[1][OP] > b[2][CL] and b[1][CL] < b[2][OP]
                and b[0][CL] < b[1][CL])):
        return 100.0 * c1
    return 0.0


def _tristar(b: Bars, a: list[float], _: float) -> float:
    d = a[0]
    out = 0.0
    if body(b[2]) <= d and body(b[1]) <= d and body(b[0]) <= d:
        if body_gap_up(b[1], b[2]) and top(b[0]) < top(b[1]):
            out = -100.0
        if body_gap_down(b[1], b[2]) and bottom(b[0]) > bottom(b[1]):
            out = 100.0
    return out


def _sticksandwich(b: Bars, a: list[float], _: float) -> float:
    equal = a[0]
    if (color(b[2]) == -1 and color(b[1]) == 1 and color(b[0]) == -1
            and b[1][LO] > b[2][CL]
            and b[0][CL] <= b[2][CL] + equal and b[0][CL] >= b[2][CL] - equal):
        return 100.0
    return 0.0


def _tasukigap(b: Bars, a: list[float], _: float) -> float:
    near = a[0]
    close_bodies = abs(body(b[1]) - body(b[0])) < near
    o, c = b[0][OP], b[0][CL]
    if (body_gap_up(b[1], b[2]) and color(b[1]) == 1
            and color(b[0]) == -1 and o < b[1][CL] and o > b[1][OP]
            and c < b[1][OP] and c > top(b[2]) and close_bodies):
        return 100.0
    if (body_gap_down(b[1], b[2]) and color(b[1]) == -1
            and color(b[0]) == 1 and o < b[1][OP] and o > b[1][CL]
            and c > b[1][OP] and c < bottom(b[2]) and close_bodies):
        return -100.0
    return 0.0


def _gapsidesidewhite(b: Bars, a: list[float], _: float) -> float:
    near, equal = a
    up = body_gap_up(b[1], b[2]) and body_gap_up(b[0], b[2])
    down = body_gap_down(b[1], b[2]) and body_gap_down(b[0], b[2])
    if ((up or down) and color(b[1]) == 1 and color(b[0]) == 1
            and body(b[0]) >= body(b[1]) - near
            and body(b[0]) <= body(b[1]) + near
            and b[0][OP] >= b[1][OP] - equal and b[0][OP] <= b[1][OP] + equal):
        return 100.0 if body_gap_up(b[1], b[2]) else -100.0
    return 0.0


def _xsidegap3methods(b: Bars, a: list[float], _: float) -> float:
    c2 = color(b[2])
    if (c2 == color(b[1]) and color(b[0]) == -color(b[1])
            and b[0][OP] < top(b[1]) and b[0][OP] > bottom(b[1])
            and b[0][CL] < top(b[2]) and b[0][CL] > bottom(b[2])
            and ((c2 == 1 and body_gap_up(b[1], b[2]))
                 or (c2 == -1 and body_gap_down(b[1], b[2])))):
        return 100.0 * c2
    return 0.0


def _unique3river(b: Bars, a: list[float], _: float) -> float:
    blong, bshort = a
    if (color(b[2]) == -1 and body(b[2]) > blong
            and color(b[1]) == -1 and b[1][CL] > b[2][CL] and b[1][OP] <= b[2][OP]
            and b[1][LO] < b[2][LO]
            and color(b[0]) == 1 and body(b[0]) < bshort and b[0][OP] > b[1][LO]):
        return 100.0
    return 0.0


def _3linestrike(b: Bars, a: list[float], _: float) -> float:
    n3, n2 = a
    c1 = color(b[1])
    if (color(b[3]) == c1 and color(b[2]) == c1 and color(b[0]) == -c1
            and b[2][OP] >= bottom(b[3]) - n3 and b[2][OP] <= top(b[3]) + n3
            and b[1][OP] >= bottom(b[2]) - n2 and b[1][OP] <= top(b[2]) + n2
            and ((c1 == 1 and b[1][CL] > b[2][CL] and b[2][CL] > b[3][CL]
                  and b[0][OP] > b[1][CL] and b[0][CL] < b[3][OP])
                 or (c1 == -1 and b[1][CL] < b[2][CL] and b[2][CL] < b[3][CL]
                     and b[0][OP] < b[1][CL] and b[0][CL] > b[3][OP]))):
        return 100.0 * c1
    return 0.0


_VSHORT3 = [(SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0)]

STREAMS: dict[str, type] = {
    "cdl_morningstar": _pattern(12, _star_averages(False), _stars(False, True), True),
    "cdl_eveningstar": _pattern(12, _star_averages(False), _stars(False, False), True),
    "cdl_morningdojistar": _pattern(12, _star_averages(True), _stars(True, True), True),
    "cdl_eveningdojistar": _pattern(12, _star_averages(True), _stars(True, False), True),
    "cdl_abandonedbaby": _pattern(12, [(BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0)],
                                  _abandonedbaby, True),
    "cdl_2crows": _pattern(12, [(BODY_LONG, 2)], _2crows),
    "cdl_upsidegap2crows": _pattern(12, [(BODY_LONG, 2), (BODY_SHORT, 1)], _upsidegap2crows),
    "cdl_3blackcrows": _pattern(13, _VSHORT3, _3blackcrows),
    "cdl_identical3crows": _pattern(12, [*_VSHORT3, (EQUAL, 2), (EQUAL, 1)], _identical3crows),
    "cdl_3whitesoldiers": _pattern(12, [*_VSHORT3, (NEAR, 2), (NEAR, 1), (FAR, 2), (FAR, 1),
                                        (BODY_SHORT, 0)], _3whitesoldiers),
    "cdl_3inside": _pattern(12, [(BODY_LONG, 2), (BODY_SHORT, 1)], _3inside),
    "cdl_3outside": _pattern(3, [], _3outside),
    "cdl_tristar": _pattern(12, [(BODY_DOJI, 2)], _tristar),
    "cdl_sticksandwich": _pattern(7, [(EQUAL, 2)], _sticksandwich),
    "cdl_tasukigap": _pattern(7, [(NEAR, 1)], _tasukigap),
    "cdl_gapsidesidewhite": _pattern(7, [(NEAR, 1), (EQUAL, 1)], _gapsidesidewhite),
    "cdl_xsidegap3methods": _pattern(2, [], _xsidegap3methods),
    "cdl_unique3river": _pattern(12, [(BODY_LONG, 2), (BODY_SHORT, 0)], _unique3river),
    "cdl_3linestrike": _pattern(8, [(NEAR, 3), (NEAR, 2)], _3linestrike),
}
