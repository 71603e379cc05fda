"""Streaming forms of ``kernels/patterns_ext.py`` (the remaining TA-Lib CDL patterns).

Same scheme as ``patterns3.py``: TA-Lib's running candle totals (``patterns._Average``) plus
the kernel's rule over the newest five bars (``b[0]`` is bar i, ``b[4]`` bar i-4). The two
hikkake forms keep the kernel's pattern state (result and bar of the last hikkake, with the
high and low of the bar before it, which the confirmation compares against).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from mlta.features.kernels._candles import (
    BODY_LONG,
    BODY_SHORT,
    FAR,
    NEAR,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_SHORT,
)

from ._base import NAN
from .patterns import Bar, _Average

Bars = Sequence[Bar]
Setting = tuple[int, int, float]
Rule = Callable[[Bars, list[float], float], float]
OP, HI, LO, CL = 0, 1, 2, 3
_NAN_BAR: Bar = (NAN, NAN, NAN, NAN)


def _col(b: Bar) -> int:
    return 1 if b[CL] >= b[OP] else -1


def _body(b: Bar) -> float:
    return abs(b[CL] - b[OP])


def _up(b: Bar) -> float:
    return b[HI] - (b[CL] if b[CL] >= b[OP] else b[OP])


def _dn(b: Bar) -> float:
    return (b[OP] if b[CL] >= b[OP] else b[CL]) - b[LO]


class _Pattern5:
    __slots__ = ("averages", "bars", "penetration", "row", "rule", "start")

    def __init__(self, start: int, averages: list[tuple[Setting, int]], rule: Rule,
                 penetration: float = 0.0) -> None:
        self.start = start
        self.averages = [_Average(setting, k, start) for setting, k in averages]
        self.rule = rule
        self.penetration = penetration
        self.bars: deque[Bar] = deque([_NAN_BAR] * 5, maxlen=5)
        self.row = -1

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        self.row += 1
        bar = (o, h, lo, c)
        avgs = [a.update(bar) for a in self.averages]
        self.bars.appendleft(bar)
        if self.row < self.start:
            return (NAN,)
        return (self.rule(self.bars, avgs, self.penetration),)


def _pattern(start: int, averages: list[tuple[Setting, int]], rule: Rule,
             with_penetration: bool = False) -> type:
    if with_penetration:
        class Penetrating(_Pattern5):
            __slots__ = ()

            def __init__(self, penetration: float) -> None:
                super().__init__(start, averages, rule, penetration)

        return Penetrating

    class Pattern(_Pattern5):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__(start, averages, rule)

    return Pattern


def _advanceblock(b: Bars, a: list[float], _: float) -> float:
    ss2, ss1, ss0, sl0, n2, n1, f2, f1, bl2 = a
    b2, b1, b0 = _body(b[2]), _body(b[1]), _body(b[0])
    if not (_col(b[2]) == 1 and _col(b[1]) == 1 and _col(b[0]) == 1
            and b[0][CL] > b[1][CL] and b[1][CL] > b[2][CL]
            and b[1][OP] > b[2][OP] and b[1][OP] <= b[2][CL] + n2
            and b[0][OP] > b[1][OP] and b[0][OP] <= b[1][CL] + n1
            and b2 > bl2 and _up(b[2]) < ss2):
        return 0.0
    up1, up0 = _up(b[1]), _up(b[0])
    if ((b1 < b2 - f2 and b0 < b1 + n1)
            or b0 < b1 - f1
            or (b0 < b1 and b1 < b2 and (up0 > ss0 or up1 > ss1))
            or (b0 < b1 and up0 > sl0)):
        return -100.0
    return 0.0


def _breakaway(b: Bars, a: list[float], _: float) -> float:
    c4, c3, c1, c0 = _col(b[4]), _col(b[3]), _col(b[1]), _col(b[0])
    if not (c4 == c3 and c3 == c1 and c1 == -c0 and _body(b[4]) > a[0]):
        return 0.0
    down = (c4 == -1
            and max(b[3][OP], b[3][CL]) < min(b[4][OP], b[4][CL])
            and b[2][HI] < b[3][HI] and b[2][LO] < b[3][LO]
            and b[1][HI] < b[2][HI] and b[1][LO] < b[2][LO]
            and b[0][CL] > b[3][OP] and b[0][CL] < b[4][CL])
    up = (c4 == 1
          and min(b[3][OP], b[3][CL]) > max(b[4][OP], b[4][CL])
          and b[2][HI] > b[3][HI] and b[2][LO] > b[3][LO]
          and b[1][HI] > b[2][HI] and b[1][LO] > b[2][LO]
          and b[0][CL] < b[3][OP] and b[0][CL] > b[4][CL])
    return 100.0 * c0 if down or up else 0.0


def _concealbabyswall(b: Bars, a: list[float], _: float) -> float:
    v3, v2, v1 = a
    if (_col(b[3]) == -1 and _col(b[2]) == -1 and _col(b[1]) == -1 and _col(b[0]) == -1
            and _dn(b[3]) < v3 and _up(b[3]) < v3
            and _dn(b[2]) < v2 and _up(b[2]) < v2
            and max(b[1][OP], b[1][CL]) < min(b[2][OP], b[2][CL])
            and _up(b[1]) > v1 and b[1][HI] > b[2][CL]
            and b[0][HI] > b[1][HI] and b[0][LO] < b[1][LO]):
        return 100.0
    return 0.0


def _ladderbottom(b: Bars, a: list[float], _: float) -> float:
    if (_col(b[4]) == -1 and _col(b[3]) == -1 and _col(b[2]) == -1
            and b[4][OP] > b[3][OP] and b[3][OP] > b[2][OP]
            and b[4][CL] > b[3][CL] and b[3][CL] > b[2][CL]
            and _col(b[1]) == -1 and _up(b[1]) > a[0]
            and _col(b[0]) == 1 and b[0][OP] > b[1][OP] and b[0][CL] > b[1][HI]):
        return 100.0
    return 0.0


def _mathold(b: Bars, a: list[float], penetration: float) -> float:
    bl4, bs3, bs2, bs1 = a
    reach = b[4][CL] - _body(b[4]) * penetration
    if (_col(b[4]) == 1 and _col(b[3]) == -1 and _col(b[0]) == 1
            and min(b[3][OP], b[3][CL]) > max(b[4][OP], b[4][CL])
            and min(b[2][OP], b[2][CL]) < b[4][CL]
            and min(b[1][OP], b[1][CL]) < b[4][CL]
            and min(b[2][OP], b[2][CL]) > reach
            and min(b[1][OP], b[1][CL]) > reach
            and max(b[2][CL], b[2][OP]) < b[3][OP]
            and max(b[1][CL], b[1][OP]) < max(b[2][CL], b[2][OP])
            and b[0][OP] > b[1][CL]
            and b[0][CL] > max(max(b[3][HI], b[2][HI]), b[1][HI])
            and _body(b[4]) > bl4 and _body(b[3]) < bs3
            and _body(b[2]) < bs2 and _body(b[1]) < bs1):
        return 100.0
    return 0.0


def _risefall3methods(b: Bars, a: list[float], _: float) -> float:
    bl4, bs3, bs2, bs1, bl0 = a
    c4 = _col(b[4])
    sign = float(c4)
    if (c4 == -_col(b[3]) and _col(b[3]) == _col(b[2]) and _col(b[2]) == _col(b[1])
            and _col(b[1]) == -_col(b[0])
            and min(b[3][OP], b[3][CL]) < b[4][HI] and max(b[3][OP], b[3][CL]) > b[4][LO]
            and min(b[2][OP], b[2][CL]) < b[4][HI] and max(b[2][OP], b[2][CL]) > b[4][LO]
            and min(b[1][OP], b[1][CL]) < b[4][HI] and max(b[1][OP], b[1][CL]) > b[4][LO]
            and b[2][CL] * sign < b[3][CL] * sign
            and b[1][CL] * sign < b[2][CL] * sign
            and b[0][OP] * sign > b[1][CL] * sign
            and b[0][CL] * sign > b[4][CL] * sign
            and _body(b[4]) > bl4 and _body(b[3]) < bs3 and _body(b[2]) < bs2
            and _body(b[1]) < bs1 and _body(b[0]) > bl0):
        return 100.0 * c4
    return 0.0


def _stalledpattern(b: Bars, a: list[float], _: float) -> float:
    bl2, bl1, bs0, vs1, n2, n1 = a
    b0 = _body(b[0])
    if (_col(b[2]) == 1 and _col(b[1]) == 1 and _col(b[0]) == 1
            and b[0][CL] > b[1][CL] and b[1][CL] > b[2][CL]
            and _body(b[2]) > bl2 and _body(b[1]) > bl1 and _up(b[1]) < vs1
            and b[1][OP] > b[2][OP] and b[1][OP] <= b[2][CL] + n2
            and b0 < bs0 and b[0][OP] >= b[1][CL] - b0 - n1):
        return -100.0
    return 0.0


def _3starsinsouth(b: Bars, a: list[float], _: float) -> float:
    bl2, sl2, vs1, vs0, bs0 = a
    if (_col(b[2]) == -1 and _col(b[1]) == -1 and _col(b[0]) == -1
            and _body(b[2]) > bl2 and _dn(b[2]) > sl2
            and _body(b[1]) < _body(b[2])
            and b[1][OP] > b[2][CL] and b[1][OP] <= b[2][HI]
            and b[1][LO] < b[2][CL] and b[1][LO] >= b[2][LO]
            and _dn(b[1]) > vs1
            and _body(b[0]) < bs0 and _dn(b[0]) < vs0 and _up(b[0]) < vs0
            and b[0][LO] > b[1][LO] and b[0][HI] < b[1][HI]):
        return 100.0
    return 0.0


class _Hikkake:
    """Mirror of ``patterns_ext._hikkake``: the state starts 3 bars before the first output."""

    __slots__ = ("bars", "modified", "near", "pattern_row", "ref_high", "ref_low", "result",
                 "row", "start")

    def __init__(self, modified: bool) -> None:
        self.modified = modified
        self.start = 10 if modified else 5
        self.near = _Average(NEAR, 2, self.start - 3) if modified else None
        self.bars: deque[Bar] = deque([_NAN_BAR] * 4, maxlen=4)
        self.row = -1
        self.pattern_row = 0
        self.result = 0
        self.ref_high = self.ref_low = NAN

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        self.row += 1
        i = self.row
        bar = (o, h, lo, c)
        near = self.near.update(bar) if self.near is not None else NAN
        self.bars.appendleft(bar)
        if i < self.start - 3:
            return (NAN,)
        b = self.bars
        inside = b[1][HI] < b[2][HI] and b[1][LO] > b[2][LO]
        if self.modified:
            inside = inside and b[2][HI] < b[3][HI] and b[2][LO] > b[3][LO]
        bull = h < b[1][HI] and lo < b[1][LO]
        bear = h > b[1][HI] and lo > b[1][LO]
        if self.modified:
            bull = bull and b[2][CL] <= b[2][LO] + near
            bear = bear and b[2][CL] >= b[2][HI] - near
        out = 0.0
        result = self.result
        if inside and (bull or bear):
            self.result = result = 100 * (1 if h < b[1][HI] else -1)
            self.pattern_row = i
            self.ref_high, self.ref_low = b[1][HI], b[1][LO]
            out = float(result)
        elif i <= self.pattern_row + 3 and (
                (result > 0 and c > self.ref_high) or (result < 0 and c < self.ref_low)):
            out = float(result + 100 * (1 if result > 0 else -1))
            self.pattern_row = 0
        return (out if i >= self.start else NAN,)


class Hikkake(_Hikkake):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(False)


class HikkakeMod(_Hikkake):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(True)


STREAMS: dict[str, type] = {
    "cdl_advanceblock": _pattern(12, [
        (SHADOW_SHORT, 2), (SHADOW_SHORT, 1), (SHADOW_SHORT, 0), (SHADOW_LONG, 0), (NEAR, 2),
        (NEAR, 1), (FAR, 2), (FAR, 1), (BODY_LONG, 2)], _advanceblock),
    "cdl_breakaway": _pattern(14, [(BODY_LONG, 4)], _breakaway),
    "cdl_concealbabyswall": _pattern(13, [
        (SHADOW_VERY_SHORT, 3), (SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1)],
        _concealbabyswall),
    "cdl_hikkake": Hikkake,
    "cdl_hikkakemod": HikkakeMod,
    "cdl_ladderbottom": _pattern(14, [(SHADOW_VERY_SHORT, 1)], _ladderbottom),
    "cdl_mathold": _pattern(14, [(BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2),
                                 (BODY_SHORT, 1)], _mathold, True),
    "cdl_risefall3methods": _pattern(14, [(BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2),
                                          (BODY_SHORT, 1), (BODY_LONG, 0)], _risefall3methods),
    "cdl_stalledpattern": _pattern(12, [
        (BODY_LONG, 2), (BODY_LONG, 1), (BODY_SHORT, 0), (SHADOW_VERY_SHORT, 1), (NEAR, 2),
        (NEAR, 1)], _stalledpattern),
    "cdl_3starsinsouth": _pattern(12, [
        (BODY_LONG, 2), (SHADOW_LONG, 2), (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0),
        (BODY_SHORT, 0)], _3starsinsouth),
}
