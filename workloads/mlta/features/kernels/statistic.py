"""Statistic functions over a rolling window."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._common import nan_like, rolling_mean_var


@njit(cache=True)
def stddev(x: np.ndarray, w: int, k: float) -> np.ndarray:
    """k times the rolling population standard deviation (TA-Lib STDDEV)."""
    _, var = rolling_mean_var(x, w)
    return np.sqrt(var) * k


@njit(cache=True)
def var(x: np.ndarray, w: int) -> np.ndarray:
    _, v = rolling_mean_var(x, w)
    return v


@njit(cache=True)
def linearreg_slope(x: np.ndarray, w: int) -> np.ndarray:
    """Least-squares slope per bar of the last w values (TA-Lib LINEARREG_SLOPE)."""
    n = x.size
    out = nan_like(x)
    sum_x = w * (w - 1) * 0.5
    sum_x2 = w * (w - 1) * (2.0 * w - 1.0) / 6.0
    divisor = sum_x * sum_x - w * sum_x2
    for t in range(w - 1, n):
        sum_xy = 0.0
        sum_y = 0.0
        for i in range(w - 1, -1, -1):
            v = x[t - i]
            sum_y += v
            sum_xy += i * v
        out[t] = (w * sum_xy - sum_x * sum_y) / divisor
    return out


@njit(cache=True)
def zscore(x: np.ndarray, w: int) -> np.ndarray:
    """(x - rolling mean) / rolling population std over w values incl. x; 0 on a flat window."""
    mean, var = rolling_mean_var(x, w)
    out = nan_like(x)
    for t in range(x.size):
        if not np.isnan(var[t]):
            sd = math.sqrt(var[t])
            out[t] = (x[t] - mean[t]) / sd if sd > 0.0 else 0.0
    return out
