"""Streaming forms of ``kernels/price.py`` (price transforms, Heikin-Ashi)."""

from __future__ import annotations

from ._base import NAN


class Avgprice:
    __slots__ = ()

    def update(self, open_: float, high: float, low: float, close: float) -> tuple[float]:
        return ((open_ + high + low + close) / 4.0,)


class Medprice:
    __slots__ = ()

    def update(self, high: float, low: float) -> tuple[float]:
        return ((high + low) / 2.0,)


class Typprice:
    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        return ((high + low + close) / 3.0,)


class Wclprice:
    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        return ((high + low + close * 2.0) / 4.0,)


class Ha:
    """Heikin-Ashi: each open is the mean of the previous HA open and close."""

    __slots__ = ("hc", "ho")

    def __init__(self) -> None:
        self.ho = NAN
        self.hc = NAN

    def update(self, open_: float, high: float, low: float,
               close: float) -> tuple[float, float, float, float]:
        c = (open_ + high + low + close) / 4.0
        o = (open_ + close) / 2.0 if self.ho != self.ho else (self.ho + self.hc) / 2.0
        self.ho = o
        self.hc = c
        return o, max(high, max(o, c)), min(low, min(o, c)), c


STREAMS = {
    "avgprice": Avgprice,
    "medprice": Medprice,
    "typprice": Typprice,
    "wclprice": Wclprice,
    "ha": Ha,
}
