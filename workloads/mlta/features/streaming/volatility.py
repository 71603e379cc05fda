"""Streaming forms of ``kernels/volatility.py`` (true range, ATR, channels, estimators)."""

from __future__ import annotations

import math

from ._base import NAN, Ema, RollingExtreme, RollingMeanVar, RollingSum, div, log, sqrt, true_range_at

LN2 = math.log(2.0)


class Trange:
    __slots__ = ("prev_close",)

    def __init__(self) -> None:
        self.prev_close = NAN

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        prev = self.prev_close
        self.prev_close = close
        if prev != prev:
            return (NAN,)
        return (true_range_at(high, low, prev),)


class Atr:
    """Wilder's ATR: the SMA of the first w true ranges, then prev * ((w-1)/w) + tr * (1/w)
    (the kernel's order, see ``kernels.volatility.atr``)."""

    __slots__ = ("acc", "prev", "prev_close", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.acc = 0.0
        self.prev = NAN
        self.prev_close = NAN
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        self.row += 1
        t = self.row
        pc = self.prev_close
        self.prev_close = close
        if t == 0:
            return (NAN,)
        tr = true_range_at(high, low, pc)
        w = self.w
        if t < w:
            self.acc += tr
            return (NAN,)
        if t == w:
            self.acc += tr
            self.prev = self.acc / w
        else:
            self.prev = self.prev * ((w - 1) / w) + tr * (1.0 / w)
        return (self.prev,)


class Natr(Atr):
    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        a = Atr.update(self, high, low, close)[0]
        if a != a:
            return (NAN,)
        return ((a / close) * 100.0 if close != 0.0 else 0.0,)


class Keltner:
    __slots__ = ("atr", "ema", "k", "row", "w")

    def __init__(self, w: int, k: float) -> None:
        self.w = w
        self.k = k
        self.ema = Ema(w)
        self.atr = Atr(w)
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        self.row += 1
        mid = self.ema.update(close)
        if self.row < self.w:
            mid = NAN
        a = self.atr.update(high, low, close)[0]
        return mid + self.k * a, mid, mid - self.k * a


class Donchian:
    __slots__ = ("hi", "lo")

    def __init__(self, w: int) -> None:
        self.hi = RollingExtreme(w, True)
        self.lo = RollingExtreme(w, False)

    def update(self, high: float, low: float) -> tuple[float, float, float]:
        upper = self.hi.update(high)[0]
        lower = self.lo.update(low)[0]
        return upper, (upper + lower) / 2.0, lower


class RealizedVol:
    __slots__ = ("mv", "prev_close")

    def __init__(self, w: int) -> None:
        self.mv = RollingMeanVar(w)
        self.prev_close = NAN

    def update(self, close: float) -> tuple[float]:
        prev = self.prev_close
        self.prev_close = close
        r = NAN if prev != prev else log(div(close, prev))
        return (sqrt(self.mv.update(r)[1]),)


class Parkinson:
    __slots__ = ("denominator", "rs")

    def __init__(self, w: int) -> None:
        self.rs = RollingSum(w)
        self.denominator = w * 4.0 * LN2

    def update(self, high: float, low: float) -> tuple[float]:
        hl = log(div(high, low))
        return (sqrt(self.rs.update(hl * hl) / self.denominator),)


class GarmanKlass:
    __slots__ = ("coef", "rs", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.rs = RollingSum(w)
        self.coef = 2.0 * LN2 - 1.0

    def update(self, open_: float, high: float, low: float, close: float) -> tuple[float]:
        hl = log(div(high, low))
        co = log(div(close, open_))
        s = self.rs.update(0.5 * hl * hl - self.coef * co * co)
        if s != s:
            return (NAN,)
        v = s / self.w
        return (math.sqrt(v) if v > 0.0 else 0.0,)


STREAMS = {
    "trange": Trange,
    "atr": Atr,
    "natr": Natr,
    "keltner": Keltner,
    "donchian": Donchian,
    "realized_vol": RealizedVol,
    "parkinson": Parkinson,
    "garman_klass": GarmanKlass,
}
