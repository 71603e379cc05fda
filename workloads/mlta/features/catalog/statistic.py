"""Rolling statistics."""

from __future__ import annotations

from ..registry import Indicator, register
from ._helpers import C, factor, window

register(Indicator("stddev", "statistic", "k population standard deviations", C, ("stddev",),
                   "statistic.stddev", lambda p: p["window"] - 1,
                   (window(20), factor("k", 1.0)), talib="STDDEV"))
register(Indicator("var", "statistic", "population variance", C, ("var",), "statistic.var",
                   lambda p: p["window"] - 1, (window(20),), talib="VAR"))
register(Indicator("linearreg_slope", "statistic", "least-squares slope per bar", C,
                   ("linearreg_slope",), "statistic.linearreg_slope",
                   lambda p: p["window"] - 1, (window(14),), talib="LINEARREG_SLOPE"))
register(Indicator("zscore", "statistic", "z-score of close in its window", C, ("zscore",),
                   "statistic.zscore", lambda p: p["window"] - 1, (window(20),)))
