"""Ehlers' Hilbert-transform indicators (TA-Lib's cycle group) and the two that TA-Lib files
under overlap studies (HT_TRENDLINE, MAMA), all on the close. Lookbacks are TA-Lib's with its
default unstable period of 0: 32 for the period / phasor / MAMA, 63 for the phase-based ones."""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Indicator, Param, Params, register
from ._helpers import C


def _fixed(lookback: int) -> Callable[[Params], float]:
    return lambda p: lookback


for _name, _desc, _outputs, _look in (
    ("ht_dcperiod", "Hilbert transform dominant cycle period (bars)", ("ht_dcperiod",), 32),
    ("ht_dcphase", "Hilbert transform dominant cycle phase (degrees)", ("ht_dcphase",), 63),
    ("ht_phasor", "Hilbert transform phasor components", ("inphase", "quadrature"), 32),
    ("ht_sine", "Hilbert transform sine wave and its 45-degree lead", ("sine", "leadsine"), 63),
    ("ht_trendmode", "Hilbert transform trend (1) vs cycle (0) mode", ("ht_trendmode",), 63),
):
    register(Indicator(_name, "cycle", _desc, C, _outputs, f"cycle.{_name}", _fixed(_look),
                       talib=_name.upper()))

register(Indicator("ht_trendline", "overlap", "Hilbert transform instantaneous trendline", C,
                   ("ht_trendline",), "cycle.ht_trendline", _fixed(63), talib="HT_TRENDLINE"))
register(Indicator(
    "mama", "overlap", "MESA adaptive moving average and its following average (FAMA)", C,
    ("mama", "fama"), "cycle.mama", _fixed(32),
    (Param("fastlimit", 0.5, 0.01, 0.99, integer=False,
           description="upper bound of the adaptive alpha"),
     Param("slowlimit", 0.05, 0.01, 0.99, integer=False,
           description="lower bound of the adaptive alpha")),
    talib="MAMA",
))
