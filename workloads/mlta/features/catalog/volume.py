"""Volume flows, money flow and VWAP."""

from __future__ import annotations

from ..registry import Indicator, Params, register
from ._helpers import HLCV, window


def _fast_below_slow(p: Params) -> str | None:
    if p["fast"] >= p["slow"]:
        return f"parameter 'fast' ({p['fast']}) must be below 'slow' ({p['slow']})"
    return None


register(Indicator("obv", "volume", "on-balance volume", ("close", "volume"), ("obv",),
                   "volume.obv", lambda p: 0, (), talib="OBV"))
register(Indicator("ad", "volume", "Chaikin accumulation/distribution line", HLCV, ("ad",),
                   "volume.ad", lambda p: 0, (), talib="AD"))
register(Indicator(
    "adosc", "volume", "Chaikin A/D oscillator", HLCV, ("adosc",), "volume.adosc",
    lambda p: p["slow"] - 1, (window(3, 1, "fast"), window(10, 1, "slow")),
    check=_fast_below_slow, talib="ADOSC",
))
register(Indicator("mfi", "volume", "money flow index", HLCV, ("mfi",), "volume.mfi",
                   lambda p: p["window"], (window(14),), talib="MFI"))
register(Indicator("vwap", "volume", "rolling volume-weighted typical price", HLCV, ("vwap",),
                   "volume.vwap", lambda p: p["window"] - 1, (window(20, 1),)))
register(Indicator("vwap_ratio", "volume", "close / rolling VWAP - 1", HLCV, ("vwap_ratio",),
                   "volume.vwap_ratio", lambda p: p["window"] - 1, (window(20, 1),)))
register(Indicator("volume_zscore", "volume", "z-score of volume in its window", ("volume",),
                   ("volume_zscore",), "statistic.zscore", lambda p: p["window"] - 1,
                   (window(30),)))
