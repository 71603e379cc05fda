"""Volume flows (CMF, EFI, NVI, PVI, PVT, PVO) and range-volatility extras (MASSI, CVI), all
compared with TA-Lib's functions of the same names."""

from __future__ import annotations

from ..registry import Indicator, Params, register
from ._helpers import HL, HLCV, window


def _fast_below_slow(p: Params) -> str | None:
    if p["fast"] >= p["slow"]:
        return f"parameter 'fast' ({p['fast']}) must be below 'slow' ({p['slow']})"
    return None


CV = ("close", "volume")

register(Indicator("cmf", "volume", "Chaikin money flow over the window", HLCV, ("cmf",),
                   "volume_ext.cmf", lambda p: p["window"] - 1, (window(20),), talib="CMF"))
register(Indicator("efi", "volume", "Elder's force index: EMA of price change * volume", CV,
                   ("efi",), "volume_ext.efi", lambda p: p["window"], (window(13, 1),),
                   talib="EFI"))
for _name, _desc in (("nvi", "negative volume index (moves on falling-volume bars), from 1000"),
                     ("pvi", "positive volume index (moves on rising-volume bars), from 1000"),
                     ("pvt", "price-volume trend: cumulative volume * percent change")):
    register(Indicator(_name, "volume", _desc, CV, (_name,), f"volume_ext.{_name}",
                       lambda p: 0, (), talib=_name.upper()))
register(Indicator(
    "pvo", "volume", "percentage volume oscillator: PPO of the volume with EMAs", ("volume",),
    ("pvo",), "oscillators.pvo", lambda p: p["slow"] - 1,
    (window(12, 2, "fast"), window(26, 2, "slow")), check=_fast_below_slow, talib="PVO",
))
register(Indicator(
    "massi", "volatility", "mass index: windowed sum of EMA(range) / EMA(EMA(range))", HL,
    ("massi",), "volume_ext.massi", lambda p: 2 * (p["fast"] - 1) + p["slow"] - 1,
    (window(9, 2, "fast"), window(25, 2, "slow")), talib="MASSI",
))
register(Indicator(
    "cvi", "volatility", "Chaikin volatility: percent change of EMA(high - low)", HL, ("cvi",),
    "volume_ext.cvi", lambda p: p["window"] - 1 + p["roc"],
    (window(10, 2), window(10, 1, "roc")), talib="CVI",
))
