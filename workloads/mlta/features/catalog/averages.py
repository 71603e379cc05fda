"""More moving averages and trend overlays (overlap studies beyond ``overlap.py``)."""

from __future__ import annotations

from ..registry import Indicator, Param, Params, register
from ._helpers import HL, HLC, C, factor, window


def _fraction(name: str, default: float, low: float = 0.0, high: float = 1.0) -> Param:
    return Param(name, default, low, high, integer=False, description="fraction")


def _ichimoku_order(p: Params) -> str | None:
    if not p["tenkan"] <= p["kijun"] <= p["senkou"]:
        return "parameters must satisfy tenkan <= kijun <= senkou"
    return None


register(Indicator("trima", "overlap", "triangular moving average", C, ("trima",),
                   "averages.trima", lambda p: p["window"] - 1, (window(30),), talib="TRIMA"))
register(Indicator("t3", "overlap", "Tillson T3 (six EMAs, volume factor)", C, ("t3",),
                   "averages.t3", lambda p: 6 * (p["window"] - 1),
                   (window(5), _fraction("vfactor", 0.7)), talib="T3"))
register(Indicator("rma", "overlap", "Wilder's moving average (smoothing 1/window)", C, ("rma",),
                   "averages.rma", lambda p: p["window"] - 1, (window(30),), talib="RMA"))
register(Indicator("zlema", "overlap", "zero-lag EMA", C, ("zlema",), "averages.zlema",
                   lambda p: (p["window"] - 1) // 2 + p["window"] - 1, (window(30),),
                   talib="ZLEMA"))
register(Indicator("vwma", "overlap", "volume-weighted moving average of the close",
                   ("close", "volume"), ("vwma",), "averages.vwma", lambda p: p["window"] - 1,
                   (window(30),), talib="VWMA"))
register(Indicator("alma", "overlap", "Arnaud Legoux moving average (Gaussian weights)", C,
                   ("alma",), "averages.alma", lambda p: p["window"] - 1,
                   (window(9), _fraction("offset", 0.85), factor("sigma", 6.0, 0.1))))
register(Indicator("vidya", "overlap", "Chande's variable index dynamic average", C,
                   ("vidya",), "averages.vidya", lambda p: p["cmo_window"],
                   (window(14), window(9, 1, "cmo_window"))))
register(Indicator("frama", "overlap", "Ehlers' fractal adaptive moving average", HLC,
                   ("frama",), "averages.frama", lambda p: p["window"] - 1, (window(16),)))
register(Indicator("sar", "overlap", "Wilder's parabolic stop and reverse", HL, ("sar",),
                   "trend.sar", lambda p: 1,
                   (_fraction("acceleration", 0.02), _fraction("maximum", 0.2)), talib="SAR"))
register(Indicator("sarext", "overlap", "parabolic SAR, negative while short, reversal offset",
                   HL, ("sarext",), "trend.sarext", lambda p: 1,
                   (_fraction("init", 0.02), _fraction("acceleration", 0.02),
                    _fraction("maximum", 0.2), _fraction("offset", 0.0)), talib="SAREXT"))
register(Indicator("supertrend", "overlap", "Supertrend line and direction (+1 / -1)", HLC,
                   ("supertrend", "trend"), "trend.supertrend", lambda p: p["window"],
                   (window(10), factor("multiplier", 3.0, 0.0)), talib="SUPERTREND"))
register(Indicator("ichimoku", "overlap", "Ichimoku conversion, base and cloud spans (unshifted)",
                   HL, ("conversion", "base", "span_a", "span_b"), "trend.ichimoku",
                   lambda p: p["senkou"] - 1,
                   (window(9, 1, "tenkan"), window(26, 1, "kijun"), window(52, 1, "senkou")),
                   check=_ichimoku_order))
