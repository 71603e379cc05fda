"""Indicators TA-Lib does not have (kernels in ``kernels/extras.py``); each is compared with a
direct pandas formula of its published definition."""

from __future__ import annotations

from ..registry import Indicator, Param, Params, register
from ._helpers import HL, HLC, OHLC, C, window

register(Indicator("rogers_satchell", "volatility", "Rogers-Satchell volatility per bar", OHLC,
                   ("rogers_satchell",), "extras.rogers_satchell", lambda p: p["window"] - 1,
                   (window(20),)))
register(Indicator("yang_zhang", "volatility",
                   "Yang-Zhang volatility per bar (gap, open-to-close and Rogers-Satchell)",
                   OHLC, ("yang_zhang",), "extras.yang_zhang", lambda p: p["window"],
                   (window(20),)))
register(Indicator("ulcer", "volatility", "ulcer index: RMS percent drawdown from the high",
                   C, ("ulcer",), "extras.ulcer", lambda p: 2 * (p["window"] - 1),
                   (window(14),)))
register(Indicator("chop", "volatility", "choppiness index (100 choppy, 0 trending)", HLC,
                   ("chop",), "extras.chop", lambda p: p["window"], (window(14),)))
register(Indicator(
    "eom", "volume", "Ease of Movement: SMA of midpoint change * range / volume",
    ("high", "low", "volume"), ("eom",), "extras.eom", lambda p: p["window"],
    (window(14), Param("divisor", 10000.0, 1e-6, 1e12, integer=False,
                       description="scales volume so values are readable")),
))
register(Indicator("fisher", "momentum", "Ehlers' Fisher transform of the midpoint", HL,
                   ("fisher", "trigger"), "extras.fisher", lambda p: p["window"],
                   (window(9),)))


def _kst_lookback(p: Params) -> float:
    return (max(p["roc1"] + p["sma1"], p["roc2"] + p["sma2"], p["roc3"] + p["sma3"],
                p["roc4"] + p["sma4"]) - 1 + p["signal"] - 1)


register(Indicator(
    "kst", "momentum", "Pring's know-sure-thing (weighted smoothed ROCs) and its signal", C,
    ("kst", "signal"), "extras.kst", _kst_lookback,
    (window(10, 1, "roc1"), window(15, 1, "roc2"), window(20, 1, "roc3"),
     window(30, 1, "roc4"), window(10, 1, "sma1"), window(10, 1, "sma2"),
     window(10, 1, "sma3"), window(15, 1, "sma4"), window(9, 1, "signal")),
))
