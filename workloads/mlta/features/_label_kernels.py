"""The numba kernel behind the triple-barrier label (imported on first use: it loads numba)."""

from __future__ import annotations

import numpy as np

from .jit import njit


@njit(cache=True)
def triple_barrier(
    close: np.ndarray, sigma: np.ndarray, horizon: int, upper: float, lower: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label, bars to the touch, log return at the touch) per row; see ``labels.py``.

    Row t's barriers are ``+upper * sigma[t]`` and ``-lower * sigma[t]`` in log return from
    close[t]; the path is close[t+1..t+horizon]. NaN where sigma[t] or close[t] is not
    finite, where the path hits a non-finite close before any barrier, or where the series
    ends before the vertical barrier without a touch.
    """
    n = close.size
    label = np.full(n, np.nan)
    bars = np.full(n, np.nan)
    ret = np.full(n, np.nan)
    for t in range(n):
        c0 = close[t]
        s = sigma[t]
        if not (np.isfinite(c0) and c0 > 0.0 and np.isfinite(s)):
            continue
        up = upper * s
        dn = -lower * s
        for j in range(1, horizon + 1):
            if t + j >= n:
                break
            cj = close[t + j]
            if not (np.isfinite(cj) and cj > 0.0):
                break
            r = np.log(cj / c0)
            if r >= up:
                label[t] = 1.0
            elif r <= dn:
                label[t] = -1.0
            elif j == horizon:
                label[t] = 0.0
            else:
                continue
            bars[t] = j
            ret[t] = r
            break
    return label, bars, ret
