"""Oscillators, rates of change and directional movement."""

from __future__ import annotations

from ..registry import Indicator, Params, register
from ._helpers import HL, HLC, C, window


def _fast_below_slow(p: Params) -> str | None:
    if p["fast"] >= p["slow"]:
        return f"parameter 'fast' ({p['fast']}) must be below 'slow' ({p['slow']})"
    return None


_W14 = window(14)
for _name, _desc, _look, _param, _talib in (
    ("rsi", "Wilder's relative strength index", lambda p: p["window"], _W14, "RSI"),
    ("cmo", "Chande momentum oscillator", lambda p: p["window"], _W14, "CMO"),
    ("roc", "rate of change, percent", lambda p: p["window"], window(10, 1), "ROC"),
    ("mom", "momentum: close - close[t-window]", lambda p: p["window"], window(10, 1), "MOM"),
    ("trix", "one-bar ROC of a triple EMA", lambda p: 3 * (p["window"] - 1) + 1, window(30, 1),
     "TRIX"),
    ("returns", "simple return over window bars", lambda p: p["window"], window(1, 1), None),
    ("log_returns", "log return over window bars", lambda p: p["window"], window(1, 1), None),
):
    register(Indicator(_name, "momentum", _desc, C, (_name,), f"momentum.{_name}", _look,
                       (_param,), talib=_talib))

register(Indicator(
    "macd", "momentum", "MACD line, signal line and histogram", C, ("macd", "signal", "hist"),
    "momentum.macd", lambda p: p["slow"] - 1 + p["signal"] - 1,
    (window(12, 2, "fast"), window(26, 2, "slow"), window(9, 1, "signal")),
    check=_fast_below_slow, talib="MACD",
))
register(Indicator(
    "stoch", "momentum", "slow stochastic %K and %D (SMA smoothing)", HLC, ("k", "d"),
    "momentum.stoch", lambda p: p["fastk"] + p["slowk"] + p["slowd"] - 3,
    (window(14, 1, "fastk"), window(3, 1, "slowk"), window(3, 1, "slowd")), talib="STOCH",
))
register(Indicator(
    "stochf", "momentum", "fast stochastic %K and %D", HLC, ("k", "d"), "momentum.stochf",
    lambda p: p["fastk"] + p["fastd"] - 2, (window(14, 1, "fastk"), window(3, 1, "fastd")),
    talib="STOCHF",
))
for _name, _desc, _look, _talib in (
    ("willr", "Williams %R", lambda p: p["window"] - 1, "WILLR"),
    ("cci", "commodity channel index", lambda p: p["window"] - 1, "CCI"),
    ("plus_di", "plus directional indicator", lambda p: p["window"], "PLUS_DI"),
    ("minus_di", "minus directional indicator", lambda p: p["window"], "MINUS_DI"),
    ("dx", "directional movement index", lambda p: p["window"], "DX"),
    ("adx", "average directional movement index", lambda p: 2 * p["window"] - 1, "ADX"),
):
    register(Indicator(_name, "momentum", _desc, HLC, (_name,), f"momentum.{_name}", _look,
                       (_W14,), talib=_talib))
register(Indicator(
    "aroon", "momentum", "Aroon down and up", HL, ("down", "up"), "momentum.aroon",
    lambda p: p["window"], (_W14,), talib="AROON",
))
register(Indicator(
    "aroonosc", "momentum", "Aroon up - Aroon down", HL, ("aroonosc",), "momentum.aroonosc",
    lambda p: p["window"], (_W14,), talib="AROONOSC",
))
