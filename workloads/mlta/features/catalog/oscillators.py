"""More momentum indicators: price oscillators, directional movement, stochastic RSI and the
newer TA-Lib oscillators (awesome, Coppock, TSI, Vortex, ...)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from ..registry import Indicator, Param, Params, register
from ._helpers import HL, HLC, C, window

# TA-Lib MA types usable with a period: SMA, EMA, WMA, DEMA, TEMA, TRIMA, KAMA, T3 (not MAMA)
MA_TYPES = (0, 1, 2, 3, 4, 5, 6, 8)
_OC = ("open", "close")


def _matype(name: str = "matype", default: int = 0) -> Param:
    return Param(name, default, 0, 8, integer=True,
                 description="TA-Lib MA type: 0 SMA 1 EMA 2 WMA 3 DEMA 4 TEMA 5 TRIMA 6 KAMA 8 T3")


def _ma_lookback(w: float, matype: float) -> float:
    w, matype = int(w), int(matype)
    if w == 1:
        return 0
    return {3: 2 * (w - 1), 4: 3 * (w - 1), 6: w, 8: 6 * (w - 1)}.get(matype, w - 1)


def _check(
    fields: tuple[str, ...], ordered: tuple[str, ...] = ()
) -> Callable[[Params], str | None]:
    def check(p: Params) -> str | None:
        for name in fields:
            if int(p[name]) not in MA_TYPES:
                return f"parameter {name!r} must be one of {MA_TYPES} (7, MAMA, has no period)"
        for a, b in pairwise(ordered):
            if p[a] >= p[b]:
                return f"parameter {a!r} ({p[a]}) must be below {b!r} ({p[b]})"
        return None

    return check


for _name, _desc, _look, _w in (
    ("plus_dm", "Wilder-summed plus directional movement", lambda p: p["window"] - 1, 14),
    ("minus_dm", "Wilder-summed minus directional movement", lambda p: p["window"] - 1, 14),
):
    register(Indicator(_name, "momentum", _desc, HL, (_name,), f"oscillators.{_name}", _look,
                       (window(_w, 1),), talib=_name.upper()))
register(Indicator("adxr", "momentum", "average of ADX now and window-1 bars ago", HLC,
                   ("adxr",), "oscillators.adxr", lambda p: 3 * p["window"] - 2, (window(14),),
                   talib="ADXR"))
for _name, _desc in (("apo", "absolute price oscillator MA(fast) - MA(slow)"),
                     ("ppo", "percentage price oscillator")):
    register(Indicator(
        _name, "momentum", _desc, C, (_name,), f"oscillators.{_name}",
        lambda p: _ma_lookback(p["slow"], p["matype"]),
        (window(12, 2, "fast"), window(26, 2, "slow"), _matype()),
        check=_check(("matype",), ("fast", "slow")), talib=_name.upper()))
register(Indicator("bop", "momentum", "balance of power (close - open) / (high - low)",
                   ("open", "high", "low", "close"), ("bop",), "oscillators.bop", lambda p: 0, (),
                   talib="BOP"))
register(Indicator(
    "macdext", "momentum", "MACD with a moving-average type per line", C,
    ("macd", "signal", "hist"), "oscillators.macdext",
    lambda p: max(_ma_lookback(p["fast"], p["fast_ma"]), _ma_lookback(p["slow"], p["slow_ma"]))
    + _ma_lookback(p["signal"], p["signal_ma"]),
    (window(12, 2, "fast"), _matype("fast_ma"), window(26, 2, "slow"), _matype("slow_ma"),
     window(9, 1, "signal"), _matype("signal_ma")),
    check=_check(("fast_ma", "slow_ma", "signal_ma"), ("fast", "slow")),
    talib="MACDEXT"))
register(Indicator("macdfix", "momentum", "MACD 12/26 with fixed factors 0.15 / 0.075", C,
                   ("macd", "signal", "hist"), "oscillators.macdfix",
                   lambda p: 25 + p["signal"] - 1, (window(9, 1, "signal"),), talib="MACDFIX"))
register(Indicator(
    "stochrsi", "momentum", "fast stochastic of the RSI", C, ("k", "d"), "oscillators.stochrsi",
    lambda p: p["window"] + p["fastk"] + p["fastd"] - 2,
    (window(14), window(5, 1, "fastk"), window(3, 1, "fastd")), talib="STOCHRSI"))
register(Indicator(
    "ultosc", "momentum", "ultimate oscillator (weights 4:2:1)", HLC, ("ultosc",),
    "oscillators.ultosc", lambda p: p["slow"],
    (window(7, 1, "fast"), window(14, 1, "mid"), window(28, 1, "slow")),
    check=_check((), ("fast", "mid", "slow")), talib="ULTOSC"))
for _name, _desc in (("rocp", "rate of change as a fraction"),
                     ("rocr", "rate of change ratio x / x[t-window]"),
                     ("rocr100", "rate of change ratio times 100")):
    register(Indicator(_name, "momentum", _desc, C, (_name,), f"oscillators.{_name}",
                       lambda p: p["window"], (window(10, 1),), talib=_name.upper()))
register(Indicator("imi", "momentum", "intraday momentum index", _OC, ("imi",),
                   "oscillators.imi", lambda p: p["window"] - 1, (window(14),), talib="IMI"))
register(Indicator("qstick", "momentum", "Q-stick: SMA of close - open", _OC, ("qstick",),
                   "oscillators.qstick", lambda p: p["window"] - 1, (window(10),),
                   talib="QSTICK"))
register(Indicator(
    "ao", "momentum", "awesome oscillator on the median price", HL, ("ao",), "oscillators.ao",
    lambda p: p["slow"] - 1, (window(5, 2, "fast"), window(34, 2, "slow")),
    check=_check((), ("fast", "slow")), talib="AO"))
register(Indicator(
    "ac", "momentum", "accelerator oscillator: AO - SMA(AO)", HL, ("ac",), "oscillators.ac",
    lambda p: p["slow"] + p["signal"] - 2,
    (window(5, 2, "fast"), window(34, 2, "slow"), window(5, 1, "signal")),
    check=_check((), ("fast", "slow")), talib="AC"))
register(Indicator(
    "coppock", "momentum", "Coppock curve: WMA of two ROCs", C, ("coppock",),
    "oscillators.coppock", lambda p: max(p["roc1"], p["roc2"]) + p["window"] - 1,
    (window(10), window(11, 1, "roc1"), window(14, 1, "roc2")), talib="COPPOCK"))
register(Indicator("er", "momentum", "Kaufman efficiency ratio", C, ("er",), "oscillators.er",
                   lambda p: p["window"], (window(10, 1),), talib="ER"))
register(Indicator("vhf", "momentum", "vertical horizontal filter", C, ("vhf",),
                   "oscillators.vhf", lambda p: p["window"], (window(28),), talib="VHF"))
register(Indicator("eri", "momentum", "Elder ray bull and bear power", HLC, ("bull", "bear"),
                   "oscillators.eri", lambda p: p["window"] - 1, (window(13),), talib="ERI"))
register(Indicator(
    "tsi", "momentum", "true strength index", C, ("tsi",), "oscillators.tsi",
    lambda p: p["first"] + p["second"] - 1, (window(25, 2, "first"), window(13, 2, "second")),
    talib="TSI"))
register(Indicator("vortex", "momentum", "Vortex +VI and -VI", HLC, ("plus", "minus"),
                   "oscillators.vortex", lambda p: p["window"], (window(14),), talib="VORTEX"))
register(Indicator("wad", "momentum", "Williams accumulation/distribution", HLC, ("wad",),
                   "oscillators.wad", lambda p: 0, (), talib="WAD"))
register(Indicator("fosc", "momentum", "forecast oscillator vs the previous bar's TSF", C,
                   ("fosc",), "regression.fosc", lambda p: p["window"], (window(5),),
                   talib="FOSC"))
