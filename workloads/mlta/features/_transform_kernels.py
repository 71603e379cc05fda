"""The numba kernel behind the rolling transforms (imported on first use: it loads numba).

``streaming/transforms.py`` mirrors this loop operation for operation; change both together
(the parity tests compare them bit for bit).
"""

from __future__ import annotations

import numpy as np

from .jit import njit


@njit(cache=True)
def rolling_moments(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling mean, population std and z-score over the last ``w`` rows.

    NaN unless all ``w`` rows are finite. Sums are of ``x - k`` with ``k`` the current value at
    each exact re-summation; the window is re-summed every ``w`` rows and whenever it becomes
    all-finite again, otherwise updated with the row entering and the row leaving. A window
    of ``w`` equal values is exactly constant (mean x, std 0, z-score 0) however the running
    sums have rounded, so a flat stretch never yields a noise z-score.
    """
    n = x.size
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    z = np.full(n, np.nan)
    bad = 0  # non-finite rows inside the window
    valid = False  # the running sums describe the current window
    since = 0  # rows since the last exact re-summation
    k = 0.0
    s1 = 0.0
    s2 = 0.0
    run = 0  # length of the current run of equal values
    for t in range(n):
        xt = x[t]
        run = run + 1 if t > 0 and xt == x[t - 1] else 1
        if not np.isfinite(xt):
            bad += 1
        if t >= w and not np.isfinite(x[t - w]):
            bad -= 1
        if t < w - 1 or bad > 0:
            valid = False
            continue
        if valid and since < w:
            d_in = xt - k
            d_out = x[t - w] - k
            s1 += d_in - d_out
            s2 += d_in * d_in - d_out * d_out
            since += 1
        else:
            k = xt
            s1 = 0.0
            s2 = 0.0
            for j in range(t - w + 1, t + 1):
                d = x[j] - k
                s1 += d
                s2 += d * d
            valid = True
            since = 1
        if run >= w:
            mean[t] = xt
            std[t] = 0.0
            z[t] = 0.0
            continue
        m = s1 / w
        v = s2 / w - m * m
        v = v if v > 0.0 else 0.0
        sd = np.sqrt(v)
        mean[t] = k + m
        std[t] = sd
        z[t] = ((xt - k) - m) / sd if sd > 0.0 else 0.0
    return mean, std, z
