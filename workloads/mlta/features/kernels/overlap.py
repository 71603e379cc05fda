"""Overlap studies (moving averages and bands around price), TA-Lib definitions."""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import (
    U,
    ema,
    empty,
    first_valid,
    mask_before,
    nan_head,
    nan_like,
    rolling_mean_var,
    rolling_sum,
    window_mid,
)


@njit(cache=True)
def sma(x: np.ndarray, w: int) -> np.ndarray:
    return rolling_sum(x, w, float(w))


@njit(cache=True, inline="always")
def _mid_or_x(x: np.ndarray, y: np.ndarray, t: int, mid: bool) -> float:
    return (x[t] + y[t]) / 2.0 if mid else x[t]


@njit(cache=True)
def sma_diff(x: np.ndarray, fast: int, slow: int, start: int, percent: bool) -> np.ndarray:
    """See ``sma_diff_of``: the averages of ``x`` itself."""
    return sma_diff_of(x, x, fast, slow, start, percent, False)


@njit(cache=True)
def sma_diff_of(x: np.ndarray, y: np.ndarray, fast: int, slow: int, start: int,
                percent: bool, mid: bool) -> np.ndarray:
    """``sma(v, fast) - sma(v, slow)`` from ``start`` on, v = x or, with ``mid``, the
    median price (x + y) / 2 computed where it is read (``percent``: 100 (f - s) / s, 0
    where s is 0), in one pass with one output array.

    Each average runs on ``rolling_sum``'s own schedule (re-summed oldest first at rows
    w-1, 2w-1, ..., running in between, divided by w), kept by a countdown per window, so
    the values are those of the two ``sma`` arrays bit for bit. Needs x finite from row 0.
    """
    n = x.size
    out = nan_head(n, start)  # every row from start on is written below
    acc_f = 0.0
    acc_s = 0.0
    left_f = fast
    left_s = slow
    for t in range(n):
        left_f -= 1
        if left_f == 0:
            left_f = fast
            acc_f = 0.0
            for j in range(t - fast + 1, t + 1):
                acc_f += _mid_or_x(x, y, j, mid)
        elif t >= fast:
            acc_f += _mid_or_x(x, y, t, mid) - _mid_or_x(x, y, t - fast, mid)
        left_s -= 1
        if left_s == 0:
            left_s = slow
            acc_s = 0.0
            for j in range(t - slow + 1, t + 1):
                acc_s += _mid_or_x(x, y, j, mid)
        elif t >= slow:
            acc_s += _mid_or_x(x, y, t, mid) - _mid_or_x(x, y, t - slow, mid)
        if t >= start:
            f = acc_f / fast
            s = acc_s / slow
            if percent:
                out[t] = ((f - s) / s) * 100.0 if s != 0.0 else 0.0
            else:
                out[t] = f - s
    return out


@njit(cache=True)
def wma(x: np.ndarray, w: int) -> np.ndarray:
    """Linearly weighted MA (weights 1..w, newest heaviest), running sums re-summed every w."""
    n = x.size
    s = first_valid(x)
    if n - s < w:
        return nan_like(x)
    out = nan_head(n, s + w - 1)  # every row from there on is written below
    divider = w * (w + 1) / 2.0
    uw = U(w)
    for block in range(s + w - 1, n, w):
        plain = 0.0
        weighted = 0.0
        for j in range(w):
            v = x[block - w + 1 + j]
            plain += v
            weighted += v * (j + 1)
        out[block] = weighted / divider
        for t in range(U(block + 1), U(min(block + w, n))):
            weighted += w * x[t] - plain
            plain += x[t] - x[t - uw]
            out[t] = weighted / divider
    return out


@njit(cache=True)
def dema(x: np.ndarray, w: int) -> np.ndarray:
    """2 e1 - e2 with e2 = EMA(e1) (``ema_cascade``)."""
    return ema_cascade(x, w, DEMA, 0.0)


@njit(cache=True)
def tema(x: np.ndarray, w: int) -> np.ndarray:
    """3 e1 - 3 e2 + e3 of three chained EMAs (``ema_cascade``)."""
    return ema_cascade(x, w, TEMA, 0.0)


DEMA = 0
TEMA = 1
T3 = 2
TRIX = 3


@njit(cache=True)
def ema_cascade(x: np.ndarray, w: int, mode: int, vfactor: float) -> np.ndarray:
    """Chained EMAs (each the TA-Lib EMA of the one before, seeded with the mean of its first
    ``w`` values) combined per bar into DEMA, TEMA, T3 (six EMAs, ``vfactor``) or TRIX.

    One pass with one output array: composing ``ema(ema(...))`` cost a pass and a fresh
    million-row array per level, more than the arithmetic. Each level does exactly the
    operations ``ema`` does, in the same order (seed sum oldest first, then
    ``prev * (1 - k) + x * k``), and the combinations are the former array expressions, so the
    values are bit-identical to the composed form (and to the streaming chain of EMAs).
    """
    n = x.size
    out = nan_like(x)
    levels = 2 if mode == DEMA else (6 if mode == T3 else 3)
    k = 2.0 / (w + 1.0)
    acc = np.zeros(levels)
    count = np.zeros(levels, dtype=np.int64)
    level = np.zeros(levels)
    a = vfactor
    a2 = a * a
    a3 = a2 * a
    c1 = -a3
    c2 = 3.0 * (a2 + a3)
    c3 = -6.0 * a2 - 3.0 * (a + a3)
    c4 = 1.0 + 3.0 * a + a3 + 3.0 * a2
    last_prev = np.nan  # TRIX: the last level at the bar before
    first_ready = n
    for t in range(first_valid(x), n):
        val = x[t]
        ready = True
        for lv in range(levels):
            if count[lv] < w:
                acc[lv] += val
                count[lv] += 1
                if count[lv] < w:
                    ready = False
                    break
                level[lv] = acc[lv] / w
            else:
                level[lv] = level[lv] * (1.0 - k) + val * k
            val = level[lv]
        if not ready:
            continue
        if mode == DEMA:
            out[t] = 2.0 * level[0] - level[1]
        elif mode == TEMA:
            out[t] = 3.0 * level[0] - 3.0 * level[1] + level[2]
        elif mode == T3:
            out[t] = c1 * level[5] + c2 * level[4] + c3 * level[3] + c4 * level[2]
        else:
            if not np.isnan(last_prev):
                out[t] = ((level[2] / last_prev) - 1.0) * 100.0 if last_prev != 0.0 else 0.0
            last_prev = level[2]
        first_ready = t
        break
    # Every level is seeded from here on: the same steps on scalars, without the per-level
    # bookkeeping (a level round-tripping through memory lengthened the bar-to-bar chain).
    if mode == DEMA:
        _dema_steady(x, out, first_ready + 1, k, level[0], level[1])
    elif mode == TEMA:
        _tema_steady(x, out, first_ready + 1, k, level[0], level[1], level[2], False, 0.0)
    elif mode == TRIX:
        _tema_steady(x, out, first_ready + 1, k, level[0], level[1], level[2], True, last_prev)
    else:
        _t3_steady(x, out, first_ready + 1, k, level, c1, c2, c3, c4)
    return out


@njit(cache=True)
def _dema_steady(x: np.ndarray, out: np.ndarray, start: int, k: float, e0: float,
                 e1: float) -> None:
    for t in range(start, x.size):
        e0 = e0 * (1.0 - k) + x[t] * k
        e1 = e1 * (1.0 - k) + e0 * k
        out[t] = 2.0 * e0 - e1


@njit(cache=True)
def _tema_steady(x: np.ndarray, out: np.ndarray, start: int, k: float, e0: float, e1: float,
                 e2: float, trix: bool, last_prev: float) -> None:
    for t in range(start, x.size):
        e0 = e0 * (1.0 - k) + x[t] * k
        e1 = e1 * (1.0 - k) + e0 * k
        e2 = e2 * (1.0 - k) + e1 * k
        if trix:
            out[t] = ((e2 / last_prev) - 1.0) * 100.0 if last_prev != 0.0 else 0.0
            last_prev = e2
        else:
            out[t] = 3.0 * e0 - 3.0 * e1 + e2


@njit(cache=True)
def _t3_steady(x: np.ndarray, out: np.ndarray, start: int, k: float, level: np.ndarray,
               c1: float, c2: float, c3: float, c4: float) -> None:
    e0, e1, e2, e3, e4, e5 = level[0], level[1], level[2], level[3], level[4], level[5]
    for t in range(start, x.size):
        e0 = e0 * (1.0 - k) + x[t] * k
        e1 = e1 * (1.0 - k) + e0 * k
        e2 = e2 * (1.0 - k) + e1 * k
        e3 = e3 * (1.0 - k) + e2 * k
        e4 = e4 * (1.0 - k) + e3 * k
        e5 = e5 * (1.0 - k) + e4 * k
        out[t] = c1 * e5 + c2 * e4 + c3 * e3 + c4 * e2


@njit(cache=True)
def kama(x: np.ndarray, w: int) -> np.ndarray:
    """Kaufman adaptive MA with TA-Lib's fixed fast/slow constants (2 and 30)."""
    n = x.size
    out = nan_like(x)
    if n <= w:
        return out
    const_max = 2.0 / (30.0 + 1.0)
    const_diff = 2.0 / (2.0 + 1.0) - const_max
    noise = 0.0
    for j in range(w):
        noise += abs(x[j] - x[j + 1])
    prev = x[w - 1]
    for t in range(w, n):
        if t > w:
            noise -= abs(x[t - w - 1] - x[t - w])
            noise += abs(x[t] - x[t - 1])
        signal = x[t] - x[t - w]
        if noise <= signal or noise == 0.0:
            er = 1.0
        else:
            er = abs(signal / noise)
        sc = er * const_diff + const_max
        sc *= sc
        prev = (x[t] - prev) * sc + prev
        out[t] = prev
    return out


@njit(cache=True)
def hma(x: np.ndarray, w: int) -> np.ndarray:
    """Hull MA: WMA(2*WMA(x, w//2) - WMA(x, w), floor(sqrt(w)))."""
    half = w // 2
    root = int(math.sqrt(w))
    raw = 2.0 * wma(x, half) - wma(x, w)
    return wma(raw, root)


@njit(cache=True)
def bbands(x: np.ndarray, w: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands: SMA +- k population standard deviations (TA-Lib BBANDS, matype SMA)."""
    mean, var = rolling_mean_var(x, w)
    # The band expressions row by row, the upper band written over the variance: three
    # arrays instead of seven, the same values.
    lower = empty(x.size)
    for t in range(x.size):
        spread = k * math.sqrt(var[t]) if var[t] == var[t] else np.nan
        var[t] = mean[t] + spread
        lower[t] = mean[t] - spread
    return var, mean, lower


@njit(cache=True)
def bollinger_pctb(x: np.ndarray, w: int, k: float) -> np.ndarray:
    """Position of x inside the bands, 0 at the lower, 1 at the upper; 0.5 on a flat window."""
    upper, _, lower = bbands(x, w, k)
    out = nan_like(x)
    for t in range(x.size):
        width = upper[t] - lower[t]
        if not np.isnan(width):
            out[t] = (x[t] - lower[t]) / width if width > 0.0 else 0.5
    return out


@njit(cache=True)
def bollinger_width(x: np.ndarray, w: int, k: float) -> np.ndarray:
    """(upper - lower) / middle."""
    upper, middle, lower = bbands(x, w, k)
    return (upper - lower) / middle


@njit(cache=True)
def midpoint(x: np.ndarray, w: int) -> np.ndarray:
    return window_mid(x, x, w)


@njit(cache=True)
def midprice(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    return window_mid(high, low, w)


@njit(cache=True)
def price_ratio(x: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """x / ma - 1: a scale-free distance from a moving average."""
    out = x / ma - 1.0
    return mask_before(out, first_valid(ma))


@njit(cache=True)
def sma_ratio(x: np.ndarray, w: int) -> np.ndarray:
    return price_ratio(x, sma(x, w))


@njit(cache=True)
def ema_ratio(x: np.ndarray, w: int) -> np.ndarray:
    return price_ratio(x, ema(x, w))
