"""Moving averages and bands."""

from __future__ import annotations

import math

from ..registry import Indicator, register
from ._helpers import HL, C, factor, window

_W = window(20)
_K = factor("k", 2.0)

for _name, _desc, _look, _talib in (
    ("sma", "simple moving average", lambda p: p["window"] - 1, "SMA"),
    ("ema", "exponential MA seeded with the SMA of the first window", lambda p: p["window"] - 1,
     "EMA"),
    ("wma", "linearly weighted moving average", lambda p: p["window"] - 1, "WMA"),
    ("dema", "double EMA: 2 EMA - EMA(EMA)", lambda p: 2 * (p["window"] - 1), "DEMA"),
    ("tema", "triple EMA", lambda p: 3 * (p["window"] - 1), "TEMA"),
    ("kama", "Kaufman adaptive MA (fast 2, slow 30)", lambda p: p["window"], "KAMA"),
    ("hma", "Hull MA", lambda p: p["window"] - 1 + math.isqrt(int(p["window"])) - 1, None),
    ("midpoint", "(highest + lowest close) / 2", lambda p: p["window"] - 1, "MIDPOINT"),
    ("sma_ratio", "close / SMA - 1", lambda p: p["window"] - 1, None),
    ("ema_ratio", "close / EMA - 1", lambda p: p["window"] - 1, None),
):
    register(Indicator(_name, "overlap", _desc, C, (_name,), f"overlap.{_name}", _look, (_W,),
                       talib=_talib))

register(Indicator(
    "midprice", "overlap", "(highest high + lowest low) / 2", HL, ("midprice",),
    "overlap.midprice", lambda p: p["window"] - 1, (_W,), talib="MIDPRICE",
))
register(Indicator(
    "bbands", "overlap", "Bollinger bands: SMA +- k population std", C,
    ("upper", "middle", "lower"), "overlap.bbands", lambda p: p["window"] - 1, (_W, _K),
    talib="BBANDS",
))
register(Indicator(
    "bollinger_pctb", "overlap", "position in the Bollinger bands (0 lower, 1 upper)", C,
    ("bollinger_pctb",), "overlap.bollinger_pctb", lambda p: p["window"] - 1, (_W, _K),
))
register(Indicator(
    "bollinger_width", "overlap", "(upper - lower) / middle Bollinger band", C,
    ("bollinger_width",), "overlap.bollinger_width", lambda p: p["window"] - 1, (_W, _K),
))
