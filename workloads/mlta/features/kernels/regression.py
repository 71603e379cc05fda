"""Rolling regression, correlation and order statistics (TA-Lib statistic / math operators).

The linear-regression family follows TA-Lib's formulas term by term (x counts bars back from
the newest value), so results agree with it to round-off. BETA and CORREL centre their sums
first, so near-flat windows do not cancel catastrophically.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import U, nan_head, nan_like, rolling_sum, window_max, window_min

# Returns are scale-free, so TA-Lib's absolute "is zero" test (1e-14) on n*Sxx - Sx^2 of
# one-bar returns is kept for BETA.
RETURN_VAR_ZERO = 1e-14


@njit(cache=True, inline="always")
def _linreg_value(
    sum_y: float, sum_xy: float, w: int, sum_x: float, divisor: float, what: int
) -> float:
    m = (w * sum_xy - sum_x * sum_y) / divisor
    if what == 4:
        return m
    b = (sum_y - m * sum_x) / w
    if what == 0:
        return b + m * (w - 1)
    if what == 1:
        return b
    if what == 2:
        return math.atan(m) * (180.0 / math.pi)
    return b + m * w


@njit(cache=True)
def _linreg(x: np.ndarray, w: int, what: int) -> np.ndarray:
    """0: fitted value at the newest bar, 1: intercept, 2: angle in degrees, 3: forecast,
    4: slope.

    The sums (y, and x*y with x counting bars back from the newest, TA-Lib's terms) are
    running sums on ``rolling_sum``'s schedule: taken afresh, oldest value first, at rows
    w-1, 2w-1, ..., and moved one bar at a time in between, with ``Sxy += Sy - w * y_out``
    (every remaining value is one bar further back) then ``Sy += y_in - y_out``. O(1) per
    row instead of re-summing each window; the drift between two fresh sums is a few ulps
    of the sums, far inside the 1e-9 agreement with TA-Lib. The streaming forms move the
    same sums at the same rows, so they agree bit for bit.
    """
    n = x.size
    if n < w:
        return nan_like(x)
    out = nan_head(n, w - 1)  # every row from there on is written below
    sum_x = w * (w - 1) * 0.5
    sum_x2 = w * (w - 1) * (2.0 * w - 1.0) / 6.0
    divisor = sum_x * sum_x - w * sum_x2
    uw = U(w)
    for block in range(w - 1, n, w):
        sum_y = 0.0
        sum_xy = 0.0
        for i in range(w - 1, -1, -1):
            v = x[block - i]
            sum_y += v
            sum_xy += i * v
        out[block] = _linreg_value(sum_y, sum_xy, w, sum_x, divisor, what)
        for t in range(U(block + 1), U(min(block + w, n))):
            y_out = x[t - uw]
            sum_xy += sum_y - w * y_out
            sum_y += x[t] - y_out
            out[t] = _linreg_value(sum_y, sum_xy, w, sum_x, divisor, what)
    return out


@njit(cache=True)
def linearreg(x: np.ndarray, w: int) -> np.ndarray:
    return _linreg(x, w, 0)


@njit(cache=True)
def linearreg_intercept(x: np.ndarray, w: int) -> np.ndarray:
    return _linreg(x, w, 1)


@njit(cache=True)
def linearreg_angle(x: np.ndarray, w: int) -> np.ndarray:
    return _linreg(x, w, 2)


@njit(cache=True)
def tsf(x: np.ndarray, w: int) -> np.ndarray:
    """Time series forecast: the regression line extended one bar ahead."""
    return _linreg(x, w, 3)


@njit(cache=True)
def fosc(x: np.ndarray, w: int) -> np.ndarray:
    """Forecast oscillator: 100 (x - previous bar's TSF) / x."""
    f = _linreg(x, w, 3)
    # in place, newest row first: row t reads the forecast of row t-1 before it is replaced
    for t in range(x.size - 1, w - 1, -1):
        f[t] = 100.0 * (x[t] - f[t - 1]) / x[t] if x[t] != 0.0 else 0.0
    for t in range(min(w, x.size)):
        f[t] = np.nan
    return f


@njit(cache=True)
def beta(x: np.ndarray, y: np.ndarray, w: int) -> np.ndarray:
    """Beta of y's one-bar returns on x's over the last w returns (TA-Lib BETA's definition).

    Two-pass per window: TA-Lib's running sums of squared returns keep the residue of a large
    return after it left the window, which on tick-sized returns moves the result in the 9th
    digit; centring first does not. A window whose n * sum((x - mean)^2) is below TA-Lib's
    1e-14 "zero" gives 0, as in TA-Lib (returns are scale-free, so the threshold is too).
    """
    n = x.size
    out = nan_like(x)
    if n <= w:
        return out
    rx = np.zeros(n)
    ry = np.zeros(n)
    for t in range(1, n):
        rx[t] = (x[t] - x[t - 1]) / x[t - 1] if x[t - 1] != 0.0 else 0.0
        ry[t] = (y[t] - y[t - 1]) / y[t - 1] if y[t - 1] != 0.0 else 0.0
    for t in range(w, n):
        mx = 0.0
        my = 0.0
        for j in range(t - w + 1, t + 1):
            mx += rx[j]
            my += ry[j]
        mx /= w
        my /= w
        sxx = 0.0
        sxy = 0.0
        for j in range(t - w + 1, t + 1):
            sxx += (rx[j] - mx) * (rx[j] - mx)
            sxy += (rx[j] - mx) * (ry[j] - my)
        out[t] = sxy / sxx if w * sxx >= RETURN_VAR_ZERO else 0.0
    return out


@njit(cache=True)
def correl(x: np.ndarray, y: np.ndarray, w: int) -> np.ndarray:
    """Pearson correlation of x and y over w bars; 0 when either window is flat.

    TA-Lib's CORREL uses raw sums (sum x^2 - (sum x)^2 / w), which loses most digits when
    the window's spread is tiny next to its level; these sums are of x - Kx and y - Ky, with
    K re-centred at every exact re-summation (every w bars at absolute indices), as
    ``rolling_mean_var`` does (TA-Lib's current CORREL agrees with it to 1e-9 on the
    recorded candles).
    """
    n = x.size
    out = nan_like(x)
    if n < w:
        return out
    for block in range(w - 1, n, w):
        kx = x[block]
        ky = y[block]
        sx = 0.0
        sy = 0.0
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for j in range(block - w + 1, block + 1):
            a = x[j] - kx
            b = y[j] - ky
            sx += a
            sy += b
            sxx += a * a
            syy += b * b
            sxy += a * b
        for t in range(block, min(block + w, n)):
            if t > block:
                a = x[t] - kx
                b = y[t] - ky
                a0 = x[t - w] - kx
                b0 = y[t - w] - ky
                sx += a - a0
                sy += b - b0
                sxx += a * a - a0 * a0
                syy += b * b - b0 * b0
                sxy += a * b - a0 * b0
            vx = sxx - sx * sx / w
            vy = syy - sy * sy / w
            den = vx * vy
            out[t] = (sxy - sx * sy / w) / math.sqrt(den) if (vx > 0.0 and vy > 0.0) else 0.0
    return out


@njit(cache=True)
def avgdev(x: np.ndarray, w: int) -> np.ndarray:
    """Mean absolute deviation from the window's mean."""
    out = nan_like(x)
    for t in range(w - 1, x.size):
        mean = 0.0
        for j in range(t - w + 1, t + 1):
            mean += x[j]
        mean /= w
        dev = 0.0
        for j in range(t - w + 1, t + 1):
            dev += abs(x[j] - mean)
        out[t] = dev / w
    return out


@njit(cache=True)
def rolling_total(x: np.ndarray, w: int) -> np.ndarray:
    """Sum of the last w values (TA-Lib SUM)."""
    return rolling_sum(x, w)


@njit(cache=True)
def rolling_max(x: np.ndarray, w: int) -> np.ndarray:
    return window_max(x, w)


@njit(cache=True)
def rolling_min(x: np.ndarray, w: int) -> np.ndarray:
    return window_min(x, w)


@njit(cache=True)
def _bars_since(idx: np.ndarray) -> np.ndarray:
    out = np.empty(idx.size)
    for t in range(idx.size):
        out[t] = float(t - idx[t]) if idx[t] >= 0 else np.nan
    return out


@njit(cache=True)
def _extreme_index(x: np.ndarray, w: int, highest: bool) -> np.ndarray:
    """TA-Lib MAXINDEX / MININDEX: a new value that ties the extreme takes over, but a rescan
    (when the extreme left the window) keeps the oldest of tied values."""
    n = x.size
    idx = np.full(n, -1, dtype=np.int64)
    best_i = -1
    best = 0.0
    for t in range(w - 1, n):
        trailing = t - w + 1
        v = x[t]
        if best_i < trailing:
            best_i = trailing
            best = x[trailing]
            for i in range(trailing + 1, t + 1):
                if (x[i] > best) if highest else (x[i] < best):
                    best_i = i
                    best = x[i]
        elif (v >= best) if highest else (v <= best):
            best_i = t
            best = v
        idx[t] = best_i
    return idx


@njit(cache=True)
def bars_since_max(x: np.ndarray, w: int) -> np.ndarray:
    """Bars since the window's highest value (t - TA-Lib MAXINDEX): position-free."""
    return _bars_since(_extreme_index(x, w, True))


@njit(cache=True)
def bars_since_min(x: np.ndarray, w: int) -> np.ndarray:
    """Bars since the window's lowest value (t - TA-Lib MININDEX)."""
    return _bars_since(_extreme_index(x, w, False))
