"""Rolling regression, correlation and order statistics (statistic category)."""

from __future__ import annotations

from ..registry import Indicator, register
from ._helpers import C, window

for _name, _desc, _kernel, _talib in (
    ("linearreg", "least-squares fit at the newest bar", "linearreg", "LINEARREG"),
    ("linearreg_intercept", "least-squares intercept", "linearreg_intercept",
     "LINEARREG_INTERCEPT"),
    ("linearreg_angle", "least-squares slope in degrees", "linearreg_angle", "LINEARREG_ANGLE"),
    ("tsf", "time series forecast (fit extended one bar)", "tsf", "TSF"),
):
    register(Indicator(_name, "statistic", _desc, C, (_name,), f"regression.{_kernel}",
                       lambda p: p["window"] - 1, (window(14),), talib=_talib))
# TA-Lib BETA's definition and inputs; compared with TA-Lib on generated candles and with a
# two-pass numpy formula on recorded ones (TA-Lib's running sums lose digits there), so it
# is listed as a numpy-referenced indicator (talib=None).
register(Indicator("beta", "statistic", "beta of the low's returns on the high's (TA-Lib inputs)",
                   ("high", "low"), ("beta",), "regression.beta", lambda p: p["window"],
                   (window(5, 1),)))
register(Indicator("correl", "statistic", "Pearson correlation of close and volume",
                   ("close", "volume"), ("correl",), "regression.correl",
                   lambda p: p["window"] - 1, (window(30),), talib="CORREL"))
register(Indicator("avgdev", "statistic", "mean absolute deviation from the window mean", C,
                   ("avgdev",), "regression.avgdev", lambda p: p["window"] - 1, (window(14),),
                   talib="AVGDEV"))
for _name, _desc, _kernel, _talib in (
    ("sum", "sum of the last window closes", "rolling_total", "SUM"),
    ("max", "highest close of the window", "rolling_max", "MAX"),
    ("min", "lowest close of the window", "rolling_min", "MIN"),
    ("bars_since_max", "bars since the window's highest close (t - MAXINDEX)", "bars_since_max",
     "MAXINDEX"),
    ("bars_since_min", "bars since the window's lowest close (t - MININDEX)", "bars_since_min",
     "MININDEX"),
):
    register(Indicator(_name, "statistic", _desc, C, (_name,), f"regression.{_kernel}",
                       lambda p: p["window"] - 1, (window(30),), talib=_talib))
