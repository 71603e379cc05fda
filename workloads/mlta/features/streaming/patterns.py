"""Streaming forms of ``kernels/patterns.py`` (TA-Lib CDL* candlestick patterns).

``_Average`` mirrors ``_candles.average``: TA-Lib's running candle totals, summed once at the
pattern's first output bar and then moved by ``+= range(new) - range(old)``, never re-summed,
so the stream keeps exactly the same total. Each pattern class then evaluates the kernel's
rule for the newest bar (and the one before it) against those averages.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from mlta.features.kernels._candles import (
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    HIGH_LOW,
    NEAR,
    REAL_BODY,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_LONG,
    SHADOW_VERY_SHORT,
    SHADOWS,
)

from ._base import NAN

Bar = tuple[float, float, float, float]  # open, high, low, close


def body(b: Bar) -> float:
    return abs(b[3] - b[0])


def upper(b: Bar) -> float:
    return b[1] - (b[3] if b[3] >= b[0] else b[0])


def lower(b: Bar) -> float:
    return (b[0] if b[3] >= b[0] else b[3]) - b[2]


def color(b: Bar) -> int:
    return 1 if b[3] >= b[0] else -1


def top(b: Bar) -> float:
    return max(b[0], b[3])


def bottom(b: Bar) -> float:
    return min(b[0], b[3])


def body_gap_up(j: Bar, k: Bar) -> bool:
    return min(j[0], j[3]) > max(k[0], k[3])


def body_gap_down(j: Bar, k: Bar) -> bool:
    return max(j[0], j[3]) < min(k[0], k[3])


def candle_range(b: Bar, kind: int) -> float:
    if kind == REAL_BODY:
        return abs(b[3] - b[0])
    if kind == HIGH_LOW:
        return b[1] - b[2]
    return upper(b) + lower(b)


class _Average:
    """Mirror of ``_candles.average(setting, k, start)`` for one bar at a time."""

    __slots__ = ("div", "factor", "k", "kind", "period", "ranges", "row", "start", "total")

    def __init__(self, setting: tuple[int, int, float], k: int, start: int) -> None:
        self.kind, self.period, self.factor = setting
        self.k = k
        self.start = start
        self.div = 2.0 if self.kind == SHADOWS else 1.0
        self.ranges: deque[float] = deque(maxlen=k + self.period + 1)
        self.row = -1
        self.total = 0.0

    def update(self, bar: Bar) -> float:
        self.row += 1
        i = self.row
        ranges = self.ranges
        ranges.append(candle_range(bar, self.kind))
        k, period = self.k, self.period
        if period == 0:
            if i < max(self.start, k):
                return NAN
            return self.factor * ranges[-1 - k] / self.div
        if i < self.start:
            return NAN
        if i == self.start:
            total = 0.0
            for j in range(self.start - period, self.start):
                total += ranges[-1 - (i - (j - k))]
            self.total = total
        out = self.factor * (self.total / period) / self.div
        self.total += ranges[-1 - k] - ranges[-1 - k - period]
        return out


Rule = Callable[[Bar, Bar, list[float]], float]


class _Pattern:
    """The newest two bars, the pattern's averages and its rule (0 when nothing matched)."""

    __slots__ = ("averages", "prev", "row", "rule", "start")

    def __init__(self, start: int, averages: list[tuple[tuple[int, int, float], int]],
                 rule: Rule) -> None:
        self.start = start
        self.averages = [_Average(setting, k, start) for setting, k in averages]
        self.rule = rule
        self.prev: Bar = (NAN, NAN, NAN, NAN)
        self.row = -1

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        self.row += 1
        bar = (o, h, lo, c)
        avgs = [a.update(bar) for a in self.averages]
        prev = self.prev
        self.prev = bar
        if self.row < self.start:
            return (NAN,)
        return (self.rule(bar, prev, avgs),)


def _pattern(start: int, averages: list[tuple[tuple[int, int, float], int]], rule: Rule) -> type:
    class Pattern(_Pattern):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__(start, averages, rule)

    return Pattern


def _doji(b: Bar, p: Bar, a: list[float]) -> float:
    return 100.0 if body(b) <= a[0] else 0.0


def _doji_shadows(kind: int) -> Rule:
    def rule(b: Bar, p: Bar, a: list[float]) -> float:
        doji, vshort, slong, near = a
        if body(b) > doji:
            return 0.0
        up = upper(b)
        dn = lower(b)
        if kind == 1:
            hit = up < vshort and dn > vshort
        elif kind == 2:
            hit = dn < vshort and up > vshort
        elif kind == 3:
            hit = dn > slong or up > slong
        else:
            mid = b[2] + (b[1] - b[2]) / 2.0
            hit = (dn > slong and up > slong
                   and bottom(b) <= mid + near and top(b) >= mid - near)
        return 100.0 if hit else 0.0

    return rule


_DOJI_SHADOW_AVERAGES = [(BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0), (SHADOW_LONG, 0), (NEAR, 0)]


def _one_candle(kind: int) -> Rule:
    def rule(bar: Bar, p: Bar, a: list[float]) -> float:
        bshort, blong, doji, vshort, sshort, vlong = a
        b = body(bar)
        up = upper(bar)
        dn = lower(bar)
        col = color(bar)
        if kind == 1:
            hit = b < bshort and up > b and dn > b
        elif kind == 2:
            hit = b < bshort and up > vlong and dn > vlong
        elif kind == 3:
            hit = b > blong and up < vshort and dn < vshort
        elif kind == 4:
            hit = b > blong and ((col == 1 and up < vshort) or (col == -1 and dn < vshort))
        elif kind == 5:
            hit = b > blong and up < sshort and dn < sshort
        elif kind == 6:
            hit = b < bshort and up < sshort and dn < sshort
        elif kind == 7:
            hit = b > blong and ((col == 1 and dn < vshort) or (col == -1 and up < vshort))
        else:
            hit = b <= doji and up < vshort and dn > vlong
            col = 1
        return 100.0 * col if hit else 0.0

    return rule


_ONE_CANDLE_AVERAGES = [(BODY_SHORT, 0), (BODY_LONG, 0), (BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0),
                        (SHADOW_SHORT, 0), (SHADOW_VERY_LONG, 0)]


def _hammers(kind: int) -> Rule:
    def rule(b: Bar, p: Bar, a: list[float]) -> float:
        bshort, slong, vshort, near = a
        if body(b) >= bshort:
            return 0.0
        up = upper(b)
        dn = lower(b)
        if kind == 1:
            hit = dn > slong and up < vshort and bottom(b) <= p[2] + near
            sign = 100.0
        elif kind == 2:
            hit = dn > slong and up < vshort and bottom(b) >= p[1] - near
            sign = -100.0
        elif kind == 3:
            hit = up > slong and dn < vshort and body_gap_down(b, p)
            sign = 100.0
        else:
            hit = up > slong and dn < vshort and body_gap_up(b, p)
            sign = -100.0
        return sign if hit else 0.0

    return rule


_HAMMER_AVERAGES = [(BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0), (NEAR, 1)]


def _engulfing(b: Bar, p: Bar, a: list[float]) -> float:
    o0, _, _, c0_ = b
    o1, _, _, c1_ = p
    c0 = color(b)
    c1 = color(p)
    hit = (c0 == 1 and c1 == -1 and (
        (c0_ >= o1 and o0 < c1_) or (c0_ > o1 and o0 <= c1_))) or (
        c0 == -1 and c1 == 1 and (
            (o0 >= c1_ and c0_ < o1) or (o0 > c1_ and c0_ <= o1)))
    if not hit:
        return 0.0
    full = o0 != c1_ and c0_ != o1
    return (100.0 if full else 80.0) * c0


def _harami(b: Bar, p: Bar, a: list[float]) -> float:
    blong, small = a
    if body(p) > blong and body(b) <= small:
        sign = -color(p)
        if top(b) < top(p) and bottom(b) > bottom(p):
            return 100.0 * sign
        if top(b) <= top(p) and bottom(b) >= bottom(p):
            return 80.0 * sign
    return 0.0


def _dojistar(b: Bar, p: Bar, a: list[float]) -> float:
    blong, doji = a
    c1 = color(p)
    if body(p) > blong and body(b) <= doji and (
            (c1 == 1 and body_gap_up(b, p)) or (c1 == -1 and body_gap_down(b, p))):
        return -100.0 * c1
    return 0.0


def _two_line(kind: int) -> Rule:
    def rule(b: Bar, p: Bar, a: list[float]) -> float:
        blong, equal, bshort = a
        if color(p) != -1 or body(p) <= blong:
            return 0.0
        o, _, _, c = b
        if kind == 4:
            if color(b) == -1 and body(b) <= bshort and o < p[0] and c > p[3]:
                return 100.0
            return 0.0
        if color(b) != 1 or o >= p[2]:
            return 0.0
        if kind == 1:
            hit = c <= p[3] + equal and c >= p[3]
        elif kind == 2:
            hit = c <= p[2] + equal and c >= p[2] - equal
        else:
            hit = c > p[3] + equal and c <= p[3] + body(p) * 0.5
        return -100.0 if hit else 0.0

    return rule


def _piercing(b: Bar, p: Bar, a: list[float]) -> float:
    blong1, blong0 = a
    if (color(p) == -1 and body(p) > blong1 and color(b) == 1 and body(b) > blong0
            and b[0] < p[2] and b[3] < p[0] and b[3] > p[3] + body(p) * 0.5):
        return 100.0
    return 0.0


class Darkcloudcover(_Pattern):
    __slots__ = ("penetration",)

    def __init__(self, penetration: float) -> None:
        super().__init__(11, [(BODY_LONG, 1)], self._rule)
        self.penetration = penetration

    def _rule(self, b: Bar, p: Bar, a: list[float]) -> float:
        if (color(p) == 1 and body(p) > a[0] and color(b) == -1 and b[0] > p[1]
                and b[3] > p[0] and b[3] < p[3] - body(p) * self.penetration):
            return -100.0
        return 0.0


def _kicking(by_length: bool) -> Rule:
    def rule(b: Bar, p: Bar, a: list[float]) -> float:
        blong1, vshort1, blong0, vshort0 = a
        c1 = color(p)
        if (c1 == -color(b)
                and body(p) > blong1 and upper(p) < vshort1 and lower(p) < vshort1
                and body(b) > blong0 and upper(b) < vshort0 and lower(b) < vshort0
                and ((c1 == -1 and b[2] > p[1]) or (c1 == 1 and b[1] < p[2]))):
            if by_length:
                longer = b if body(b) > body(p) else p
                return 100.0 * color(longer)
            return 100.0 * color(b)
        return 0.0

    return rule


_KICKING_AVERAGES = [(BODY_LONG, 1), (SHADOW_VERY_SHORT, 1), (BODY_LONG, 0),
                     (SHADOW_VERY_SHORT, 0)]


def _matchinglow(b: Bar, p: Bar, a: list[float]) -> float:
    equal = a[0]
    if color(p) == -1 and color(b) == -1 and b[3] <= p[3] + equal and b[3] >= p[3] - equal:
        return 100.0
    return 0.0


def _separatinglines(b: Bar, p: Bar, a: list[float]) -> float:
    vshort, blong, equal = a
    c0 = color(b)
    if (color(p) == -c0 and b[0] <= p[0] + equal and b[0] >= p[0] - equal and body(b) > blong
            and ((c0 == 1 and lower(b) < vshort) or (c0 == -1 and upper(b) < vshort))):
        return 100.0 * c0
    return 0.0


def _counterattack(b: Bar, p: Bar, a: list[float]) -> float:
    equal, blong1, blong0 = a
    c0 = color(b)
    if (color(p) == -c0 and body(p) > blong1 and body(b) > blong0
            and b[3] <= p[3] + equal and b[3] >= p[3] - equal):
        return 100.0 * c0
    return 0.0


STREAMS: dict[str, Callable[..., _Pattern]] = {
    "cdl_doji": _pattern(10, [(BODY_DOJI, 0)], _doji),
    "cdl_dragonflydoji": _pattern(10, _DOJI_SHADOW_AVERAGES, _doji_shadows(1)),
    "cdl_gravestonedoji": _pattern(10, _DOJI_SHADOW_AVERAGES, _doji_shadows(2)),
    "cdl_longleggeddoji": _pattern(10, _DOJI_SHADOW_AVERAGES, _doji_shadows(3)),
    "cdl_rickshawman": _pattern(10, _DOJI_SHADOW_AVERAGES, _doji_shadows(4)),
    "cdl_spinningtop": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(1)),
    "cdl_highwave": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(2)),
    "cdl_marubozu": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(3)),
    "cdl_closingmarubozu": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(4)),
    "cdl_longline": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(5)),
    "cdl_shortline": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(6)),
    "cdl_belthold": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(7)),
    "cdl_takuri": _pattern(10, _ONE_CANDLE_AVERAGES, _one_candle(8)),
    "cdl_hammer": _pattern(11, _HAMMER_AVERAGES, _hammers(1)),
    "cdl_hangingman": _pattern(11, _HAMMER_AVERAGES, _hammers(2)),
    "cdl_invertedhammer": _pattern(11, _HAMMER_AVERAGES, _hammers(3)),
    "cdl_shootingstar": _pattern(11, _HAMMER_AVERAGES, _hammers(4)),
    "cdl_engulfing": _pattern(2, [], _engulfing),
    "cdl_harami": _pattern(11, [(BODY_LONG, 1), (BODY_SHORT, 0)], _harami),
    "cdl_haramicross": _pattern(11, [(BODY_LONG, 1), (BODY_DOJI, 0)], _harami),
    "cdl_dojistar": _pattern(11, [(BODY_LONG, 1), (BODY_DOJI, 0)], _dojistar),
    "cdl_inneck": _pattern(11, [(BODY_LONG, 1), (EQUAL, 1), (BODY_SHORT, 0)], _two_line(1)),
    "cdl_onneck": _pattern(11, [(BODY_LONG, 1), (EQUAL, 1), (BODY_SHORT, 0)], _two_line(2)),
    "cdl_thrusting": _pattern(11, [(BODY_LONG, 1), (EQUAL, 1), (BODY_SHORT, 0)], _two_line(3)),
    "cdl_homingpigeon": _pattern(11, [(BODY_LONG, 1), (EQUAL, 1), (BODY_SHORT, 0)],
                                 _two_line(4)),
    "cdl_piercing": _pattern(11, [(BODY_LONG, 1), (BODY_LONG, 0)], _piercing),
    "cdl_darkcloudcover": Darkcloudcover,
    "cdl_kicking": _pattern(11, _KICKING_AVERAGES, _kicking(False)),
    "cdl_kickingbylength": _pattern(11, _KICKING_AVERAGES, _kicking(True)),
    "cdl_matchinglow": _pattern(6, [(EQUAL, 1)], _matchinglow),
    "cdl_separatinglines": _pattern(11, [(SHADOW_VERY_SHORT, 0), (BODY_LONG, 0), (EQUAL, 1)],
                                    _separatinglines),
    "cdl_counterattack": _pattern(11, [(EQUAL, 1), (BODY_LONG, 1), (BODY_LONG, 0)],
                                  _counterattack),
}
