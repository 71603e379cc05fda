"""Candlestick patterns (TA-Lib CDL*), with TA-Lib's default candle settings.

Each outputs +100 (bullish), -100 (bearish) or 0 per bar (+-80 for the weaker engulfing and
harami forms); the name is TA-Lib's, lower-cased, with ``cdl_`` in front.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Indicator, Param, Params, register
from ._helpers import OHLC

# name: (lookback, description); lookbacks follow from the candle settings' periods (10 for
# body and shadow averages, 5 for near / far / equal) plus the candles before the last one.
PATTERNS: dict[str, tuple[int, str]] = {
    "doji": (10, "doji: body at most 10% of the average range"),
    "dragonflydoji": (10, "doji with a long lower and no upper shadow"),
    "gravestonedoji": (10, "doji with a long upper and no lower shadow"),
    "longleggeddoji": (10, "doji with a long shadow"),
    "rickshawman": (10, "long-legged doji with the body near the middle of the range"),
    "spinningtop": (10, "small body with shadows longer than the body"),
    "highwave": (10, "small body with very long shadows"),
    "marubozu": (10, "long body without shadows"),
    "closingmarubozu": (10, "long body without a shadow on the closing side"),
    "longline": (10, "long body with short shadows"),
    "shortline": (10, "short body with short shadows"),
    "belthold": (10, "long body without a shadow on the opening side"),
    "takuri": (10, "dragonfly doji with a very long lower shadow"),
    "hammer": (11, "small body, long lower shadow, near the prior low"),
    "hangingman": (11, "small body, long lower shadow, near the prior high"),
    "invertedhammer": (11, "small body, long upper shadow, gapping down"),
    "shootingstar": (11, "small body, long upper shadow, gapping up"),
    "engulfing": (2, "body engulfing the prior opposite body"),
    "harami": (11, "small body inside the prior long body"),
    "haramicross": (11, "doji inside the prior long body"),
    "dojistar": (11, "doji gapping away from a long body"),
    "inneck": (11, "in-neck: white closing at the prior black close"),
    "onneck": (11, "on-neck: white closing at the prior black low"),
    "thrusting": (11, "white closing into the lower half of the prior black body"),
    "homingpigeon": (11, "small black body inside the prior long black body"),
    "piercing": (11, "white opening below the prior low, closing above its midpoint"),
    "kicking": (11, "two opposite marubozu with a gap"),
    "kickingbylength": (11, "kicking, signed by the longer marubozu"),
    "matchinglow": (6, "two black candles with equal closes"),
    "separatinglines": (11, "opposite candles opening at the same price"),
    "counterattack": (11, "opposite long candles closing at the same price"),
    "2crows": (12, "two black candles after a long white, the second closing in its body"),
    "upsidegap2crows": (12, "two black candles gapping up after a long white"),
    "3blackcrows": (13, "three falling black candles after a white one"),
    "identical3crows": (12, "three black candles each opening at the prior close"),
    "3whitesoldiers": (12, "three rising white candles with short upper shadows"),
    "3inside": (12, "harami confirmed by a third candle"),
    "3outside": (3, "engulfing confirmed by a third candle"),
    "tristar": (12, "three dojis, the middle one gapping"),
    "sticksandwich": (7, "two black candles with equal closes around a white one"),
    "tasukigap": (7, "gap continuation: the gap stays open after a counter candle"),
    "gapsidesidewhite": (7, "two similar white candles side by side after a gap"),
    "xsidegap3methods": (2, "counter candle closing a gap between two same-coloured ones"),
    "unique3river": (12, "long black, lower-low black hammer, small white"),
    "3linestrike": (8, "three candles in one direction struck by an opposite fourth"),
}
_PENETRATION: dict[str, tuple[int, float, str]] = {
    "darkcloudcover": (11, 0.5, "black opening above the prior high, closing into its body"),
    "morningstar": (12, 0.3, "long black, small body gapping down, white closing into it"),
    "eveningstar": (12, 0.3, "long white, small body gapping up, black closing into it"),
    "morningdojistar": (12, 0.3, "morning star with a doji in the middle"),
    "eveningdojistar": (12, 0.3, "evening star with a doji in the middle"),
    "abandonedbaby": (12, 0.3, "star doji with gaps (shadows included) on both sides"),
}
_MODULE = {name: "patterns3" for name in (
    "2crows", "upsidegap2crows", "3blackcrows", "identical3crows", "3whitesoldiers",
    "3inside", "3outside", "tristar", "sticksandwich", "tasukigap", "gapsidesidewhite",
    "xsidegap3methods", "unique3river", "3linestrike", "morningstar", "eveningstar",
    "morningdojistar", "eveningdojistar", "abandonedbaby")}



def _fixed(lookback: int) -> Callable[[Params], float]:
    return lambda p: lookback


for _name, (_look, _desc) in PATTERNS.items():
    register(Indicator(f"cdl_{_name}", "pattern", _desc, OHLC, (f"cdl_{_name}",),
                       f"{_MODULE.get(_name, 'patterns')}.cdl_{_name}",
                       _fixed(_look), (),
                       talib=f"CDL{_name.upper()}"))
for _name, (_look, _pen, _desc) in _PENETRATION.items():
    register(Indicator(
        f"cdl_{_name}", "pattern", _desc, OHLC, (f"cdl_{_name}",),
        f"{_MODULE.get(_name, 'patterns')}.cdl_{_name}",
        _fixed(_look),
        (Param("penetration", _pen, 0.0, 1.0, integer=False,
               description="fraction of the first body to penetrate"),),
        talib=f"CDL{_name.upper()}"))
