"""Price transforms: a representative price per bar, and Heikin-Ashi candles."""

from __future__ import annotations

from ..registry import Indicator, register
from ._helpers import HL, HLC, OHLC

for _name, _desc, _inputs in (
    ("avgprice", "(open + high + low + close) / 4", OHLC),
    ("medprice", "(high + low) / 2", HL),
    ("typprice", "typical price (high + low + close) / 3", HLC),
    ("wclprice", "weighted close (high + low + 2 close) / 4", HLC),
):
    register(Indicator(_name, "price", _desc, _inputs, (_name,), f"price.{_name}", lambda p: 0,
                       (), talib=_name.upper()))
register(Indicator("ha", "price", "Heikin-Ashi open, high, low and close", OHLC,
                   ("open", "high", "low", "close"), "price.ha", lambda p: 0, (), talib="HA"))
