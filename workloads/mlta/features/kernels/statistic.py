"""Statistic functions over a rolling window."""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import nan_like, rolling_mean_var
from .regression import _linreg


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
    """Least-squares slope per bar of the last w values (TA-Lib LINEARREG_SLOPE); the shared
    regression loop (``regression._linreg``), same sums in the same order."""
    return _linreg(x, w, 4)


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
