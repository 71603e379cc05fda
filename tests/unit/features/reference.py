"""Independent references for every registered indicator.

``TALIB``: the indicator's TA-Lib function with the same parameters (outputs in our order).
``NUMPY``: a direct pandas/numpy formula for indicators TA-Lib does not have.
The tests require every registered indicator to appear in one of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _talib() -> Any:
    import talib

    return talib


def _c(f: str) -> Ref:
    return lambda d, p: (getattr(_talib(), f)(d["close"], timeperiod=p["window"]),)


def _hlc(f: str) -> Ref:
    return lambda d, p: (
        getattr(_talib(), f)(d["high"], d["low"], d["close"], timeperiod=p["window"]),
    )


TALIB: dict[str, Ref] = {
    **{name: _c(name.upper()) for name in (
        "sma", "ema", "wma", "dema", "tema", "kama", "midpoint", "rsi", "cmo", "roc", "mom",
        "trix", "linearreg_slope", "var")},
    **{name: _hlc(name.upper()) for name in (
        "willr", "cci", "plus_di", "minus_di", "dx", "adx", "atr", "natr")},
    "midprice": lambda d, p: (_talib().MIDPRICE(d["high"], d["low"], timeperiod=p["window"]),),
    "bbands": lambda d, p: _talib().BBANDS(
        d["close"], timeperiod=p["window"], nbdevup=p["k"], nbdevdn=p["k"], matype=0),
    "stddev": lambda d, p: (_talib().STDDEV(d["close"], timeperiod=p["window"], nbdev=p["k"]),),
    "macd": lambda d, p: _talib().MACD(
        d["close"], fastperiod=p["fast"], slowperiod=p["slow"], signalperiod=p["signal"]),
    "stoch": lambda d, p: _talib().STOCH(
        d["high"], d["low"], d["close"], fastk_period=p["fastk"], slowk_period=p["slowk"],
        slowk_matype=0, slowd_period=p["slowd"], slowd_matype=0),
    "stochf": lambda d, p: _talib().STOCHF(
        d["high"], d["low"], d["close"], fastk_period=p["fastk"], fastd_period=p["fastd"],
        fastd_matype=0),
    "aroon": lambda d, p: _talib().AROON(d["high"], d["low"], timeperiod=p["window"]),
    "aroonosc": lambda d, p: (
        _talib().AROONOSC(d["high"], d["low"], timeperiod=p["window"]),),
    "trange": lambda d, p: (_talib().TRANGE(d["high"], d["low"], d["close"]),),
    "obv": lambda d, p: (_talib().OBV(d["close"], d["volume"]),),
    "ad": lambda d, p: (_talib().AD(d["high"], d["low"], d["close"], d["volume"]),),
    "adosc": lambda d, p: (_talib().ADOSC(
        d["high"], d["low"], d["close"], d["volume"], fastperiod=p["fast"],
        slowperiod=p["slow"]),),
    "mfi": lambda d, p: (_talib().MFI(
        d["high"], d["low"], d["close"], d["volume"], timeperiod=p["window"]),),
}


def _roll(x: np.ndarray, w: int) -> Any:
    return pd.Series(x).rolling(w)


def _wma(x: np.ndarray, w: int) -> np.ndarray:
    weights = np.arange(1, w + 1, dtype=float)
    return pd.Series(x).rolling(w).apply(lambda v: float(np.dot(v, weights) / weights.sum()),
                                          raw=True).to_numpy()


def _ema(x: np.ndarray, w: int) -> np.ndarray:
    """Plain loop EMA seeded with the SMA of the first w finite values."""
    out = np.full(x.size, np.nan)
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size < w:
        return out
    s = valid[0]
    prev = float(np.mean(x[s:s + w]))
    out[s + w - 1] = prev
    k = 2.0 / (w + 1)
    for t in range(s + w, x.size):
        prev = prev + k * (x[t] - prev)
        out[t] = prev
    return out


def _atr(d: Data, w: int) -> np.ndarray:
    prev = np.concatenate(([np.nan], d["close"][:-1]))
    tr = np.nanmax(np.vstack([d["high"] - d["low"], np.abs(d["high"] - prev),
                              np.abs(d["low"] - prev)]), axis=0)
    tr[0] = np.nan
    out = np.full(tr.size, np.nan)
    if tr.size > w:
        out[w] = np.mean(tr[1:w + 1])
        for t in range(w + 1, tr.size):
            out[t] = (out[t - 1] * (w - 1) + tr[t]) / w
    return out


def _std(x: np.ndarray, w: int) -> np.ndarray:
    return np.asarray(_roll(x, w).std(ddof=0).to_numpy())


def _bands(x: np.ndarray, w: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mid = _roll(x, w).mean().to_numpy()
    sd = _std(x, w)
    return mid + k * sd, mid, mid - k * sd


def _pctb(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    up, _, lo = _bands(d["close"], p["window"], p["k"])
    width = up - lo
    flat = np.where(width > 0, (d["close"] - lo) / np.where(width > 0, width, 1.0), 0.5)
    return (np.where(np.isnan(width), np.nan, flat),)


def _zscore(x: np.ndarray, w: int) -> np.ndarray:
    mean = _roll(x, w).mean().to_numpy()
    sd = _std(x, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (x - mean) / sd, 0.0)
    return np.where(np.isnan(sd), np.nan, z)


def _hma(x: np.ndarray, w: int) -> np.ndarray:
    raw = 2 * _wma(x, w // 2) - _wma(x, w)
    out = np.full(x.size, np.nan)
    first = int(np.flatnonzero(~np.isnan(raw))[0]) if (~np.isnan(raw)).any() else x.size
    out[first:] = _wma(raw[first:], math.isqrt(w))
    return out


def _vwap(d: Data, w: int) -> np.ndarray:
    tp = (d["high"] + d["low"] + d["close"]) / 3
    num = _roll(tp * d["volume"], w).sum().to_numpy()
    den = _roll(d["volume"], w).sum().to_numpy()
    plain = _roll(tp, w).mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, plain)


def _keltner(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = p["window"]
    mid = _ema(d["close"], w)
    mid[:w] = np.nan
    a = _atr(d, w)
    return mid + p["k"] * a, mid, mid - p["k"] * a


LN2 = math.log(2.0)

NUMPY: dict[str, Ref] = {
    "hma": lambda d, p: (_hma(d["close"], p["window"]),),
    "sma_ratio": lambda d, p: (d["close"] / _roll(d["close"], p["window"]).mean().to_numpy()
                               - 1,),
    "ema_ratio": lambda d, p: (d["close"] / _ema(d["close"], p["window"]) - 1,),
    "bollinger_pctb": _pctb,
    "bollinger_width": lambda d, p: (
        (lambda b: (b[0] - b[2]) / b[1])(_bands(d["close"], p["window"], p["k"])),),
    "returns": lambda d, p: (pd.Series(d["close"]).pct_change(p["window"]).to_numpy(),),
    "log_returns": lambda d, p: (np.log(d["close"]) - np.log(
        pd.Series(d["close"]).shift(p["window"]).to_numpy()),),
    "keltner": _keltner,
    "donchian": lambda d, p: (
        _roll(d["high"], p["window"]).max().to_numpy(),
        (_roll(d["high"], p["window"]).max().to_numpy()
         + _roll(d["low"], p["window"]).min().to_numpy()) / 2,
        _roll(d["low"], p["window"]).min().to_numpy()),
    "realized_vol": lambda d, p: (_std(np.log(d["close"])
                                       - np.log(np.roll(d["close"], 1)), p["window"]) *
                                  np.where(np.arange(d["close"].size) >= p["window"], 1, np.nan),),
    "parkinson": lambda d, p: (np.sqrt(_roll(np.log(d["high"] / d["low"]) ** 2, p["window"])
                                       .mean().to_numpy() / (4 * LN2)),),
    "garman_klass": lambda d, p: (np.sqrt(np.clip(_roll(
        0.5 * np.log(d["high"] / d["low"]) ** 2
        - (2 * LN2 - 1) * np.log(d["close"] / d["open"]) ** 2, p["window"]).mean().to_numpy(),
        0, None)),),
    "vwap": lambda d, p: (_vwap(d, p["window"]),),
    "vwap_ratio": lambda d, p: (d["close"] / _vwap(d, p["window"]) - 1,),
    "volume_zscore": lambda d, p: (_zscore(d["volume"], p["window"]),),
    "zscore": lambda d, p: (_zscore(d["close"], p["window"]),),
}


def _merge_extensions() -> None:
    """The later catalogue's references live in their own modules (one per family)."""
    from mlta.features.registry import list_indicators

    from .reference_cycle import TALIB_CYCLE
    from .reference_extras import NUMPY_EXTRAS
    from .reference_numpy_ext import NUMPY_EXT
    from .reference_patterns import pattern_references
    from .reference_talib_ext import TALIB_EXT
    from .reference_volume_ext import TALIB_VOLUME_EXT

    TALIB_EXT.update(pattern_references(
        [(i.name, i.talib) for i in list_indicators("pattern") if i.talib]))

    for base, extra in ((TALIB, TALIB_EXT), (TALIB, TALIB_CYCLE), (TALIB, TALIB_VOLUME_EXT),
                        (NUMPY, NUMPY_EXT), (NUMPY, NUMPY_EXTRAS)):
        overlap = set(base) & set(extra)
        assert not overlap, f"references defined twice: {sorted(overlap)}"
        base.update(extra)


_merge_extensions()
