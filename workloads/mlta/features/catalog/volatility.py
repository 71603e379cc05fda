"""True range, ATR, channels and volatility estimators."""

from __future__ import annotations

from ..registry import Indicator, register
from ._helpers import HL, HLC, OHLC, C, factor, window

register(Indicator("trange", "volatility", "true range", HLC, ("trange",),
                   "volatility.trange", lambda p: 1, (), talib="TRANGE"))
register(Indicator("atr", "volatility", "Wilder's average true range", HLC, ("atr",),
                   "volatility.atr", lambda p: p["window"], (window(14, 1),), talib="ATR"))
register(Indicator("natr", "volatility", "ATR as percent of close", HLC, ("natr",),
                   "volatility.natr", lambda p: p["window"], (window(14, 1),), talib="NATR"))
register(Indicator(
    "keltner", "volatility", "Keltner channel: EMA +- k ATR", HLC, ("upper", "middle", "lower"),
    "volatility.keltner", lambda p: p["window"], (window(20), factor("k", 2.0)),
))
register(Indicator(
    "donchian", "volatility", "Donchian channel", HL, ("upper", "middle", "lower"),
    "volatility.donchian", lambda p: p["window"] - 1, (window(20, 1),),
))
register(Indicator(
    "realized_vol", "volatility", "std of one-bar log returns", C, ("realized_vol",),
    "volatility.realized_vol", lambda p: p["window"], (window(30),),
))
register(Indicator(
    "parkinson", "volatility", "Parkinson high-low volatility", HL, ("parkinson",),
    "volatility.parkinson", lambda p: p["window"] - 1, (window(30, 1),),
))
register(Indicator(
    "garman_klass", "volatility", "Garman-Klass OHLC volatility", OHLC, ("garman_klass",),
    "volatility.garman_klass", lambda p: p["window"] - 1, (window(30, 1),),
))
