"""The remaining TA-Lib candlestick patterns (kernels in ``kernels/patterns_ext.py``), same
conventions as ``patterns.py``: TA-Lib's default candle settings, its lookbacks, its outputs
(+-100; the hikkake forms +-200 on the confirmation bar)."""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Indicator, Param, Params, register
from ._helpers import OHLC

PATTERNS: dict[str, tuple[int, str]] = {
    "advanceblock": (12, "three rising white candles losing strength (bearish)"),
    "breakaway": (14, "gap away, three candles drifting on, a fifth closing into the gap"),
    "concealbabyswall": (13, "two black marubozu, a gapping black, a black engulfing it"),
    "hikkake": (5, "inside bar then a false breakout; +-200 when confirmed within 3 bars"),
    "hikkakemod": (10, "two inside bars, the first closing at its extreme, then a false "
                       "breakout; +-200 when confirmed"),
    "ladderbottom": (14, "three falling black candles, a black with an upper shadow, a white "
                         "gapping up"),
    "risefall3methods": (14, "long candle, three small counter candles inside it, a long one "
                             "closing beyond the first"),
    "stalledpattern": (12, "two long white candles then a small one riding the shoulder"),
    "3starsinsouth": (12, "three black candles shrinking into a small marubozu (bullish)"),
}


def _fixed(lookback: int) -> Callable[[Params], float]:
    return lambda p: lookback


for _name, (_look, _desc) in PATTERNS.items():
    register(Indicator(f"cdl_{_name}", "pattern", _desc, OHLC, (f"cdl_{_name}",),
                       f"patterns_ext.cdl_{_name}", _fixed(_look), (),
                       talib=f"CDL{_name.upper()}"))
register(Indicator(
    "cdl_mathold", "pattern",
    "long white, three small reaction candles holding inside it, a white closing above them",
    OHLC, ("cdl_mathold",), "patterns_ext.cdl_mathold", _fixed(14),
    (Param("penetration", 0.5, 0.0, 1.0, integer=False,
           description="fraction of the first body the reaction candles may penetrate"),),
    talib="CDLMATHOLD"))
