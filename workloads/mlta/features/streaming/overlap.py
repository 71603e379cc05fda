"""Streaming forms of ``kernels/overlap.py`` (moving averages and bands).

Each class takes the kernel's parameters and ``update``s with the kernel's inputs for one row,
returning one value per kernel output; the arithmetic follows the kernel line by line.
"""

from __future__ import annotations

import math
from collections import deque

from ._base import NAN, Ema, RollingExtreme, RollingMeanVar, RollingSum, Wma, div, sqrt


class Sma:
    __slots__ = ("rs",)

    def __init__(self, w: int) -> None:
        self.rs = RollingSum(w, float(w))

    def update(self, x: float) -> tuple[float]:
        return (self.rs.update(x),)


class EmaStream:
    __slots__ = ("e",)

    def __init__(self, w: int) -> None:
        self.e = Ema(w)

    def update(self, x: float) -> tuple[float]:
        return (self.e.update(x),)


class WmaStream:
    __slots__ = ("m",)

    def __init__(self, w: int) -> None:
        self.m = Wma(w)

    def update(self, x: float) -> tuple[float]:
        return (self.m.update(x),)


class Dema:
    __slots__ = ("e1", "e2")

    def __init__(self, w: int) -> None:
        self.e1 = Ema(w)
        self.e2 = Ema(w)

    def update(self, x: float) -> tuple[float]:
        e1 = self.e1.update(x)
        return (2.0 * e1 - self.e2.update(e1),)


class Tema:
    __slots__ = ("e1", "e2", "e3")

    def __init__(self, w: int) -> None:
        self.e1 = Ema(w)
        self.e2 = Ema(w)
        self.e3 = Ema(w)

    def update(self, x: float) -> tuple[float]:
        e1 = self.e1.update(x)
        e2 = self.e2.update(e1)
        e3 = self.e3.update(e2)
        return (3.0 * e1 - 3.0 * e2 + e3,)


class Kama:
    """Kaufman adaptive MA; keeps the last w+1 values for the noise sum's leaving term."""

    __slots__ = ("buf", "const_diff", "const_max", "noise", "prev", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w + 2)
        self.const_max = 2.0 / (30.0 + 1.0)
        self.const_diff = 2.0 / (2.0 + 1.0) - self.const_max
        self.noise = 0.0
        self.prev = NAN
        self.row = -1

    def update(self, x: float) -> tuple[float]:
        self.row += 1
        t = self.row
        w = self.w
        buf = self.buf
        buf.append(x)
        if t < w:
            return (NAN,)
        if t == w:
            noise = 0.0
            for j in range(w):
                noise += abs(buf[j] - buf[j + 1])
            self.noise = noise
            self.prev = buf[w - 1]
        else:
            # buf holds x[t-w-1] .. x[t]
            self.noise -= abs(buf[0] - buf[1])
            self.noise += abs(x - buf[-2])
        noise = self.noise
        signal = x - buf[-1 - w]
        if noise <= signal or noise == 0.0:
            er = 1.0
        else:
            er = abs(signal / noise)
        sc = er * self.const_diff + self.const_max
        sc *= sc
        self.prev = (x - self.prev) * sc + self.prev
        return (self.prev,)


class Hma:
    __slots__ = ("full", "half", "root")

    def __init__(self, w: int) -> None:
        self.half = Wma(w // 2)
        self.full = Wma(w)
        self.root = Wma(int(math.sqrt(w)))

    def update(self, x: float) -> tuple[float]:
        raw = 2.0 * self.half.update(x) - self.full.update(x)
        return (self.root.update(raw),)


class Bbands:
    __slots__ = ("k", "mv")

    def __init__(self, w: int, k: float) -> None:
        self.mv = RollingMeanVar(w)
        self.k = k

    def update(self, x: float) -> tuple[float, float, float]:
        mean, var = self.mv.update(x)
        std = sqrt(var)
        return mean + self.k * std, mean, mean - self.k * std


class BollingerPctb(Bbands):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:  # type: ignore[override]
        upper, _, lower = Bbands.update(self, x)
        width = upper - lower
        if width != width:
            return (NAN,)
        return ((x - lower) / width if width > 0.0 else 0.5,)


class BollingerWidth(Bbands):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:  # type: ignore[override]
        upper, middle, lower = Bbands.update(self, x)
        return (div(upper - lower, middle),)


class Midpoint:
    __slots__ = ("hi", "lo")

    def __init__(self, w: int) -> None:
        self.hi = RollingExtreme(w, True)
        self.lo = RollingExtreme(w, False)

    def update(self, x: float) -> tuple[float]:
        return ((self.hi.update(x)[0] + self.lo.update(x)[0]) / 2.0,)


class Midprice(Midpoint):
    __slots__ = ()

    def update(self, high: float, low: float) -> tuple[float]:  # type: ignore[override]
        return ((self.hi.update(high)[0] + self.lo.update(low)[0]) / 2.0,)


class SmaRatio:
    """x / ma - 1 (the kernel's mask before the first MA value only repeats its NaN)."""

    __slots__ = ("rs",)

    def __init__(self, w: int) -> None:
        self.rs = RollingSum(w, float(w))

    def update(self, x: float) -> tuple[float]:
        return (div(x, self.rs.update(x)) - 1.0,)


class EmaRatio:
    __slots__ = ("e",)

    def __init__(self, w: int) -> None:
        self.e = Ema(w)

    def update(self, x: float) -> tuple[float]:
        return (div(x, self.e.update(x)) - 1.0,)


STREAMS = {
    "sma": Sma,
    "ema": EmaStream,
    "wma": WmaStream,
    "dema": Dema,
    "tema": Tema,
    "kama": Kama,
    "hma": Hma,
    "bbands": Bbands,
    "bollinger_pctb": BollingerPctb,
    "bollinger_width": BollingerWidth,
    "midpoint": Midpoint,
    "midprice": Midprice,
    "sma_ratio": SmaRatio,
    "ema_ratio": EmaRatio,
}
