"""Price transforms: one representative price per bar, and Heikin-Ashi candles (TA-Lib).

Explicit loops into a huge-page ``empty`` array rather than array expressions, whose result
numba allocates without the huge-page advice (see ``_common``); the arithmetic is the same.
"""

from __future__ import annotations

import numpy as np

from ..jit import njit
from ._common import empty, nan_like


@njit(cache=True)
def avgprice(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> np.ndarray:
    out = empty(close.size)
    for t in range(close.size):
        out[t] = (open_[t] + high[t] + low[t] + close[t]) / 4.0
    return out


@njit(cache=True)
def medprice(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    out = empty(high.size)
    for t in range(high.size):
        out[t] = (high[t] + low[t]) / 2.0
    return out


@njit(cache=True)
def typprice(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    out = empty(close.size)
    for t in range(close.size):
        out[t] = (high[t] + low[t] + close[t]) / 3.0
    return out


@njit(cache=True)
def wclprice(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Weighted close: (high + low + 2 close) / 4."""
    out = empty(close.size)
    for t in range(close.size):
        out[t] = (high[t] + low[t] + close[t] * 2.0) / 4.0
    return out


@njit(cache=True)
def ha(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Heikin-Ashi open, high, low, close; the first HA open is (open + close) / 2."""
    n = close.size
    ho = nan_like(close)
    hh = nan_like(close)
    hl = nan_like(close)
    hc = nan_like(close)
    for t in range(n):
        c = (open_[t] + high[t] + low[t] + close[t]) / 4.0
        o = (open_[t] + close[t]) / 2.0 if t == 0 else (ho[t - 1] + hc[t - 1]) / 2.0
        ho[t] = o
        hc[t] = c
        hh[t] = max(high[t], max(o, c))
        hl[t] = min(low[t], min(o, c))
    return ho, hh, hl, hc
