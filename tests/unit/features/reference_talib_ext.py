"""TA-Lib references for the indicators added beyond the first catalogue (merged into
``reference.TALIB``): each maps our resolved parameters onto the TA-Lib call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _talib() -> Any:
    import talib

    return talib


def _lookback(name: str, **params: Any) -> int:
    from talib import abstract

    fn = abstract.Function(name)
    fn.set_parameters(**params)
    return int(fn.lookback)


def _ints(values: np.ndarray, name: str, **params: Any) -> np.ndarray:
    """An integer TA-Lib output as float, NaN over TA-Lib's lookback (where it writes 0)."""
    out = np.asarray(values, dtype=np.float64).copy()
    out[: _lookback(name, **params)] = np.nan
    return out


def _c(f: str) -> Ref:
    return lambda d, p: (getattr(_talib(), f)(d["close"], timeperiod=p["window"]),)


def _hl(f: str) -> Ref:
    return lambda d, p: (getattr(_talib(), f)(d["high"], d["low"], timeperiod=p["window"]),)


def _hlc(f: str) -> Ref:
    return lambda d, p: (
        getattr(_talib(), f)(d["high"], d["low"], d["close"], timeperiod=p["window"]),
    )


def _oc(f: str) -> Ref:
    return lambda d, p: (getattr(_talib(), f)(d["open"], d["close"], timeperiod=p["window"]),)


def _bars_since(f: str) -> Ref:
    def ref(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
        idx = _ints(getattr(_talib(), f)(d["close"], timeperiod=p["window"]), f,
                    timeperiod=p["window"])
        return (np.arange(idx.size) - idx,)

    return ref


def _supertrend(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    line, trend = _talib().SUPERTREND(d["high"], d["low"], d["close"], timeperiod=p["window"],
                                      multiplier=p["multiplier"])
    return line, _ints(trend, "SUPERTREND", timeperiod=p["window"], multiplier=p["multiplier"])


# Compared with TA-Lib on generated candles only (see test_parity_ext).
TALIB_GENERATED_ONLY: dict[str, Ref] = {
    "beta": lambda d, p: (_talib().BETA(d["high"], d["low"], timeperiod=p["window"]),),
}

TALIB_EXT: dict[str, Ref] = {
    **{n: _c(n.upper()) for n in (
        "trima", "rma", "zlema", "rocp", "rocr", "rocr100", "er", "vhf", "fosc", "linearreg",
        "linearreg_intercept", "linearreg_angle", "tsf", "avgdev", "sum", "max", "min")},
    **{n: _hl(n.upper()) for n in ("plus_dm", "minus_dm")},
    "adxr": _hlc("ADXR"),
    "eri": lambda d, p: _talib().ERI(d["high"], d["low"], d["close"], timeperiod=p["window"]),
    "vortex": lambda d, p: _talib().VORTEX(d["high"], d["low"], d["close"],
                                           timeperiod=p["window"]),
    **{n: _oc(n.upper()) for n in ("imi", "qstick")},
    "wad": lambda d, p: (_talib().WAD(d["high"], d["low"], d["close"]),),
    "bars_since_max": _bars_since("MAXINDEX"),
    "bars_since_min": _bars_since("MININDEX"),
    "t3": lambda d, p: (_talib().T3(d["close"], timeperiod=p["window"], vfactor=p["vfactor"]),),
    "vwma": lambda d, p: (_talib().VWMA(d["close"], d["volume"], timeperiod=p["window"]),),
    "sar": lambda d, p: (_talib().SAR(d["high"], d["low"], acceleration=p["acceleration"],
                                      maximum=p["maximum"]),),
    "sarext": lambda d, p: (_talib().SAREXT(
        d["high"], d["low"], startvalue=0.0, offsetonreverse=p["offset"],
        accelerationinitlong=p["init"], accelerationlong=p["acceleration"],
        accelerationmaxlong=p["maximum"], accelerationinitshort=p["init"],
        accelerationshort=p["acceleration"], accelerationmaxshort=p["maximum"]),),
    "supertrend": _supertrend,
    "apo": lambda d, p: (_talib().APO(d["close"], fastperiod=p["fast"], slowperiod=p["slow"],
                                      matype=p["matype"]),),
    "ppo": lambda d, p: (_talib().PPO(d["close"], fastperiod=p["fast"], slowperiod=p["slow"],
                                      matype=p["matype"]),),
    "bop": lambda d, p: (_talib().BOP(d["open"], d["high"], d["low"], d["close"]),),
    "macdext": lambda d, p: _talib().MACDEXT(
        d["close"], fastperiod=p["fast"], fastmatype=p["fast_ma"], slowperiod=p["slow"],
        slowmatype=p["slow_ma"], signalperiod=p["signal"], signalmatype=p["signal_ma"]),
    "macdfix": lambda d, p: _talib().MACDFIX(d["close"], signalperiod=p["signal"]),
    "stochrsi": lambda d, p: _talib().STOCHRSI(
        d["close"], timeperiod=p["window"], fastk_period=p["fastk"], fastd_period=p["fastd"],
        fastd_matype=0),
    "ultosc": lambda d, p: (_talib().ULTOSC(
        d["high"], d["low"], d["close"], timeperiod1=p["fast"], timeperiod2=p["mid"],
        timeperiod3=p["slow"]),),
    "ao": lambda d, p: (_talib().AO(d["high"], d["low"], fastperiod=p["fast"],
                                    slowperiod=p["slow"]),),
    "ac": lambda d, p: (_talib().AC(d["high"], d["low"], fastperiod=p["fast"],
                                    slowperiod=p["slow"], signalperiod=p["signal"]),),
    "coppock": lambda d, p: (_talib().COPPOCK(d["close"], wmaperiod=p["window"],
                                              roc1period=p["roc1"], roc2period=p["roc2"]),),
    "tsi": lambda d, p: (_talib().TSI(d["close"], firstperiod=p["first"],
                                      secondperiod=p["second"]),),
    "correl": lambda d, p: (_talib().CORREL(d["close"], d["volume"], timeperiod=p["window"]),),
    "avgprice": lambda d, p: (_talib().AVGPRICE(d["open"], d["high"], d["low"], d["close"]),),
    "medprice": lambda d, p: (_talib().MEDPRICE(d["high"], d["low"]),),
    "typprice": lambda d, p: (_talib().TYPPRICE(d["high"], d["low"], d["close"]),),
    "wclprice": lambda d, p: (_talib().WCLPRICE(d["high"], d["low"], d["close"]),),
    "ha": lambda d, p: _talib().HA(d["open"], d["high"], d["low"], d["close"]),
}
