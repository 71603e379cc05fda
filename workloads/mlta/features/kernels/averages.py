"""More moving averages: TRIMA, T3, Wilder's RMA, ZLEMA, VWMA, ALMA, VIDYA, FRAMA, and ``ma``,
the TA-Lib MA-type dispatcher other indicators (APO, PPO, MACDEXT) build on."""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import ema, ema_seeded, first_valid, nan_like, rolling_sum
from .overlap import T3, dema, ema_cascade, kama, sma, tema, wma

# TA-Lib's MA types; 7 (MAMA) takes no period and is not offered through ``ma``.
MA_TYPES = (0, 1, 2, 3, 4, 5, 6, 8)


@njit(cache=True)
def trima(x: np.ndarray, w: int) -> np.ndarray:
    """Triangular MA: an SMA of an SMA whose periods add up to w + 1 (TA-Lib TRIMA)."""
    if w % 2 == 1:
        a = (w + 1) // 2
        return sma(sma(x, a), a)
    return sma(sma(x, w // 2), w // 2 + 1)


@njit(cache=True)
def t3(x: np.ndarray, w: int, vfactor: float) -> np.ndarray:
    """Tillson T3: six chained EMAs combined with the volume factor's coefficients
    (one pass, ``overlap.ema_cascade``)."""
    return ema_cascade(x, w, T3, vfactor)


@njit(cache=True)
def ma(x: np.ndarray, w: int, matype: int) -> np.ndarray:
    """TA-Lib ``MA(x, w, matype)`` on the finite tail of x (leading NaNs stay NaN)."""
    s = first_valid(x)
    if s >= x.size:
        return nan_like(x)
    tail = x[s:]
    if w == 1:
        res = tail.copy()
    elif matype == 0:
        res = sma(tail, w)
    elif matype == 1:
        res = ema(tail, w)
    elif matype == 2:
        res = wma(tail, w)
    elif matype == 3:
        res = dema(tail, w)
    elif matype == 4:
        res = tema(tail, w)
    elif matype == 5:
        res = trima(tail, w)
    elif matype == 6:
        res = kama(tail, w)
    else:
        res = t3(tail, w, 0.7)
    if s == 0:
        return res  # already a fresh full-length array: no second one and no copy
    out = nan_like(x)
    out[s:] = res
    return out


@njit(cache=True)
def ma_from(x: np.ndarray, w: int, matype: int, start: int) -> np.ndarray:
    """``MA`` whose first value is at ``start``: recursive types (EMA, DEMA, ...) are seeded
    from the bars just before it, as TA-Lib does when a caller (MACDEXT, APO, PPO) asks both
    of its averages for the same first index."""
    out = nan_like(x)
    off = start - ma_lookback(w, matype)
    if off < 0 or start >= x.size:
        return out
    out[off:] = ma(x[off:], w, matype)
    return out


@njit(cache=True)
def ma_lookback(w: int, matype: int) -> int:
    if w == 1:
        return 0
    if matype == 3:
        return 2 * (w - 1)
    if matype == 4:
        return 3 * (w - 1)
    if matype == 6:
        return w
    if matype == 8:
        return 6 * (w - 1)
    return w - 1


@njit(cache=True)
def rma(x: np.ndarray, w: int) -> np.ndarray:
    """Wilder's moving average (smoothing 1/w), seeded with the SMA of the first w values."""
    s = first_valid(x)
    return ema_seeded(x, w, 1.0 / w, s + w - 1)


@njit(cache=True)
def zlema(x: np.ndarray, w: int) -> np.ndarray:
    """Zero-lag EMA: EMA of 2 x - x[t - (w-1)/2]."""
    lag = (w - 1) // 2
    src = nan_like(x)
    for t in range(lag, x.size):
        src[t] = 2.0 * x[t] - x[t - lag]
    return ema(src, w)


@njit(cache=True)
def vwma(close: np.ndarray, volume: np.ndarray, w: int) -> np.ndarray:
    """Volume-weighted MA of the close; the plain mean where the window has no volume."""
    # The three sums on ``rolling_sum``'s schedule, side by side in one pass (see ``cmf``):
    # the former kernel's bits without its four arrays.
    n = close.size
    out = nan_like(close)
    for block in range(w - 1, n, w):
        num = 0.0
        den = 0.0
        plain = 0.0
        for j in range(block - w + 1, block + 1):
            num += close[j] * volume[j]
            den += volume[j]
            plain += close[j]
        out[block] = num / den if den > 0.0 else plain / w
        for t in range(block + 1, min(block + w, n)):
            num += close[t] * volume[t] - close[t - w] * volume[t - w]
            den += volume[t] - volume[t - w]
            plain += close[t] - close[t - w]
            out[t] = num / den if den > 0.0 else plain / w
    return out


@njit(cache=True)
def alma(x: np.ndarray, w: int, offset: float, sigma: float) -> np.ndarray:
    """Arnaud Legoux MA: Gaussian weights centred at offset * (w - 1), width w / sigma."""
    m = offset * (w - 1)
    s = w / sigma
    weights = np.empty(w)
    for j in range(w):
        weights[j] = math.exp(-((j - m) ** 2) / (2.0 * s * s))
    weights /= weights.sum()
    out = nan_like(x)
    for t in range(w - 1, x.size):
        acc = 0.0
        for j in range(w):
            acc += weights[j] * x[t - w + 1 + j]
        out[t] = acc
    return out


@njit(cache=True)
def vidya(x: np.ndarray, w: int, cmo_window: int) -> np.ndarray:
    """Chande's VIDYA: an EMA(w) whose factor is scaled by |CMO| over cmo_window changes
    (plain sums of gains and losses); seeded with the close at the first defined bar."""
    n = x.size
    out = nan_like(x)
    if n <= cmo_window:
        return out
    k = 2.0 / (w + 1.0)
    gains = np.zeros(n)
    losses = np.zeros(n)
    for t in range(1, n):
        d = x[t] - x[t - 1]
        if d > 0.0:
            gains[t] = d
        else:
            losses[t] = -d
    up = rolling_sum(gains[1:], cmo_window)
    down = rolling_sum(losses[1:], cmo_window)
    prev = x[cmo_window]
    out[cmo_window] = prev
    for t in range(cmo_window + 1, n):
        total = up[t - 1] + down[t - 1]
        c = abs(up[t - 1] - down[t - 1]) / total if total > 0.0 else 0.0
        prev = k * c * x[t] + (1.0 - k * c) * prev
        out[t] = prev
    return out


@njit(cache=True)
def frama(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Ehlers' fractal adaptive MA: alpha = exp(-4.6 (D - 1)), with the fractal dimension D
    from the high-low ranges (per bar) of the window's older w - w//2 bars, its newer w//2
    bars and the whole; seeded with the close at the first full window."""
    n = close.size
    out = nan_like(close)
    if n < w:
        return out
    half = w // 2
    prev = close[w - 1]
    out[w - 1] = prev
    for t in range(w, n):
        h1 = high[t - w + 1]
        l1 = low[t - w + 1]
        for j in range(t - w + 1, t - half + 1):
            h1 = max(h1, high[j])
            l1 = min(l1, low[j])
        h2 = high[t - half + 1]
        l2 = low[t - half + 1]
        for j in range(t - half + 1, t + 1):
            h2 = max(h2, high[j])
            l2 = min(l2, low[j])
        n1 = (h1 - l1) / (w - half)
        n2 = (h2 - l2) / half
        n3 = (max(h1, h2) - min(l1, l2)) / w
        alpha = 1.0
        if n1 > 0.0 and n2 > 0.0 and n3 > 0.0:
            d = (math.log(n1 + n2) - math.log(n3)) / math.log(2.0)
            alpha = math.exp(-4.6 * (d - 1.0))
        alpha = min(1.0, max(0.01, alpha))
        prev = alpha * close[t] + (1.0 - alpha) * prev
        out[t] = prev
    return out
