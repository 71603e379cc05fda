"""Momentum indicators (oscillators and rates of change), TA-Lib definitions.

Where TA-Lib tests "is zero" with an absolute 1e-14 threshold, these kernels test for an exact
zero instead: quotes in BTC (prices near 1e-5) have legitimate values below 1e-14.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import (
    FAST_K,
    WILLR,
    mask_before,
    nan_head,
    nan_like,
    rolling_extreme_index,
    true_range_at,
    window_hl,
)
from .overlap import TRIX, ema_cascade, sma


@njit(cache=True, inline="always")
def _wilder_value(gain: float, loss: float, total: float, cmo: bool) -> float:
    if total == 0.0:
        return 0.0
    if cmo:
        return 100.0 * ((gain - loss) / total)
    return 100.0 * (gain / total)


@njit(cache=True)
def _wilder_gain_loss(x: np.ndarray, w: int, cmo: bool) -> np.ndarray:
    n = x.size
    out = nan_like(x)
    if n <= w:
        return out
    gain = 0.0
    loss = 0.0
    for t in range(1, w + 1):
        d = x[t] - x[t - 1]
        if d < 0:
            loss -= d
        else:
            gain += d
    gain /= w
    loss /= w
    # Wilder's step is TA-Lib's (s * (w-1) + move) / w; with the factors precomputed the chain
    # from bar to bar is a multiply and an add instead of ending in a ~13-cycle division
    # (round-off apart, the same value; the streaming form mirrors this order). The step is
    # branch-free: on a random walk the sign of a change is a coin flip, and a mispredicted
    # branch per bar cost more than the rest of the loop. Adding ``0.0 * inv`` to the side
    # that did not move is exact, so the values are those of the branching form bit for bit.
    keep = (w - 1) / w
    inv = 1.0 / w
    total = gain + loss
    out[w] = _wilder_value(gain, loss, total, cmo)
    for t in range(w + 1, n):
        d = x[t] - x[t - 1]
        up = d if d > 0.0 else 0.0
        down = -d if d < 0.0 else 0.0
        gain = gain * keep + up * inv
        loss = loss * keep + down * inv
        total = gain + loss
        out[t] = _wilder_value(gain, loss, total, cmo)
    return out


@njit(cache=True)
def rsi(x: np.ndarray, w: int) -> np.ndarray:
    """Wilder's RSI; 0 on a window without any change (as TA-Lib)."""
    return _wilder_gain_loss(x, w, False)


@njit(cache=True)
def cmo(x: np.ndarray, w: int) -> np.ndarray:
    """Chande momentum oscillator, Wilder-smoothed like TA-Lib's CMO."""
    return _wilder_gain_loss(x, w, True)


@njit(cache=True)
def macd(
    x: np.ndarray, fast: int, slow: int, signal: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line, signal and histogram; the fast EMA is seeded where the slow one is (TA-Lib)."""
    return macd_fused(x, fast, slow, signal, 2.0 / (fast + 1.0), 2.0 / (slow + 1.0))


@njit(cache=True)
def macd_fused(
    x: np.ndarray, fast: int, slow: int, signal: int, k_fast: float, k_slow: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD in one pass with three output arrays and no temporaries.

    The same operations, in the same order, as composing ``ema_seeded`` twice (both seeded
    at the bar ``slow - 1``, the fast one with the mean of its own ``fast`` values ending
    there), ``line = fast - slow``, ``ema(line, signal)`` (seeded with the mean of the first
    ``signal`` lines, summed oldest first as they arrive) and ``line - signal``, masked
    before the signal's seed: bit-identical to that composition and to the streaming form,
    without its seven million-row arrays.
    """
    n = x.size
    line_out = nan_like(x)
    sig_out = nan_like(x)
    hist_out = nan_like(x)
    seed = slow - 1
    start = seed + signal - 1
    if fast > slow or start >= n:
        return line_out, sig_out, hist_out
    acc_slow = 0.0
    for j in range(0, seed + 1):
        acc_slow += x[j]
    acc_fast = 0.0
    for j in range(seed - fast + 1, seed + 1):
        acc_fast += x[j]
    slow_e = acc_slow / slow
    fast_e = acc_fast / fast
    k_sig = 2.0 / (signal + 1.0)
    acc_sig = 0.0
    for t in range(seed, start):
        if t > seed:
            slow_e = slow_e * (1.0 - k_slow) + x[t] * k_slow
            fast_e = fast_e * (1.0 - k_fast) + x[t] * k_fast
        acc_sig += fast_e - slow_e
    if start > seed:
        slow_e = slow_e * (1.0 - k_slow) + x[start] * k_slow
        fast_e = fast_e * (1.0 - k_fast) + x[start] * k_fast
    line = fast_e - slow_e
    acc_sig += line
    sig = acc_sig / signal
    line_out[start] = line
    sig_out[start] = sig
    hist_out[start] = line - sig
    for t in range(start + 1, n):
        slow_e = slow_e * (1.0 - k_slow) + x[t] * k_slow
        fast_e = fast_e * (1.0 - k_fast) + x[t] * k_fast
        line = fast_e - slow_e
        sig = sig * (1.0 - k_sig) + line * k_sig
        line_out[t] = line
        sig_out[t] = sig
        hist_out[t] = line - sig
    return line_out, sig_out, hist_out


@njit(cache=True)
def _fast_k(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    return window_hl(high, low, close, w, FAST_K)


@njit(cache=True)
def stoch(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int, slowk: int, slowd: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slow stochastic (%K smoothed by an SMA, %D an SMA of that), TA-Lib STOCH with SMAs."""
    k = sma(_fast_k(high, low, close, fastk), slowk)
    d = sma(k, slowd)
    return mask_before(k, fastk + slowk + slowd - 3), d


@njit(cache=True)
def stochf(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, fastk: int, fastd: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fast stochastic: raw %K and its SMA (TA-Lib STOCHF)."""
    k = _fast_k(high, low, close, fastk)
    d = sma(k, fastd)
    return mask_before(k, fastk + fastd - 2), d


@njit(cache=True)
def willr(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Williams %R in [-100, 0]; 0 when the window's range is zero (as TA-Lib)."""
    return window_hl(high, low, close, w, WILLR)


@njit(cache=True)
def cci(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Commodity channel index on the typical price, mean absolute deviation, 0.015 factor."""
    n = close.size
    out = nan_like(close)
    tp = (high + low + close) / 3.0
    for t in range(w - 1, n):
        avg = 0.0
        for j in range(t - w + 1, t + 1):
            avg += tp[j]
        avg /= w
        dev = 0.0
        for j in range(t - w + 1, t + 1):
            dev += abs(tp[j] - avg)
        num = tp[t] - avg
        out[t] = num / (0.015 * (dev / w)) if (num != 0.0 and dev != 0.0) else 0.0
    return out


@njit(cache=True)
def roc(x: np.ndarray, w: int) -> np.ndarray:
    """Rate of change in percent: (x / x[t-w] - 1) * 100; 0 when x[t-w] is 0 (as TA-Lib)."""
    out = nan_head(x.size, w)  # every row from w on is written below
    for t in range(w, x.size):
        prev = x[t - w]
        out[t] = ((x[t] / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0
    return out


@njit(cache=True)
def mom(x: np.ndarray, w: int) -> np.ndarray:
    n = x.size
    out = nan_head(n, w)  # every row from w on is written below
    if n <= w:
        return out
    new, old, dst = x[w:], x[: n - w], out[w:]  # views indexed from 0: a vectorisable loop
    for j in range(n - w):
        dst[j] = new[j] - old[j]
    return out


@njit(cache=True)
def trix(x: np.ndarray, w: int) -> np.ndarray:
    """One-bar rate of change (percent) of a triple EMA."""
    return ema_cascade(x, w, TRIX, 0.0)


@njit(cache=True)
def _directional(
    high: np.ndarray, low: np.ndarray, i: int
) -> tuple[float, float]:
    """(+DM, -DM) of bar i: only the larger positive move counts, ties count for neither."""
    up = high[i] - high[i - 1]
    down = low[i - 1] - low[i]
    plus = up if (up > 0 and up > down) else 0.0
    minus = down if (down > 0 and down > up) else 0.0
    return plus, minus


@njit(cache=True)
def dmi(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """+DI, -DI, DX (warm-up w) and ADX (warm-up 2w-1), Wilder sums as in TA-Lib."""
    n = close.size
    plus_di = nan_like(close)
    minus_di = nan_like(close)
    dx = nan_like(close)
    adx = nan_like(close)
    if n <= w:
        return plus_di, minus_di, dx, adx
    pdm = 0.0
    mdm = 0.0
    tr = 0.0
    for t in range(1, w):
        p, m = _directional(high, low, t)
        pdm += p
        mdm += m
        tr += true_range_at(high[t], low[t], close[t - 1])
    sum_dx = 0.0
    prev_adx = 0.0
    # Wilder's steps with precomputed factors: TA-Lib's s - s/w + v and (a (w-1) + dx) / w
    # put a division on the chain from one bar to the next; s * (1 - 1/w) + v and
    # a * ((w-1)/w) + dx * (1/w) differ by round-off only (the smoothing is contractive) and
    # leave a multiply and an add on it. The streaming ``Dmi`` takes the same steps.
    keep = 1.0 - 1.0 / w
    adx_keep = (w - 1) / w
    adx_gain = 1.0 / w
    for t in range(w, n):
        p, m = _directional(high, low, t)
        pdm = pdm * keep + p
        mdm = mdm * keep + m
        tr = tr * keep + true_range_at(high[t], low[t], close[t - 1])
        pdi = 0.0
        mdi = 0.0
        cur_dx = np.nan
        if tr != 0.0:
            pdi = 100.0 * (pdm / tr)
            mdi = 100.0 * (mdm / tr)
            total = pdi + mdi
            if total != 0.0:
                cur_dx = 100.0 * (abs(mdi - pdi) / total)
        plus_di[t] = pdi
        minus_di[t] = mdi
        dx[t] = 0.0 if np.isnan(cur_dx) else cur_dx
        if t < 2 * w - 1:
            if not np.isnan(cur_dx):
                sum_dx += cur_dx
        elif t == 2 * w - 1:
            if not np.isnan(cur_dx):
                sum_dx += cur_dx
            prev_adx = sum_dx / w
            adx[t] = prev_adx
        else:
            if not np.isnan(cur_dx):
                prev_adx = prev_adx * adx_keep + cur_dx * adx_gain
            adx[t] = prev_adx
    return plus_di, minus_di, dx, adx


@njit(cache=True)
def aroon(high: np.ndarray, low: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(Aroon down, Aroon up) over the last w+1 bars; ties go to the most recent bar."""
    hi = rolling_extreme_index(high, w + 1, True)
    lo = rolling_extreme_index(low, w + 1, False)
    down = nan_like(high)
    up = nan_like(high)
    factor = 100.0 / w
    for t in range(high.size):
        if hi[t] >= 0:
            up[t] = factor * (w - (t - hi[t]))
            down[t] = factor * (w - (t - lo[t]))
    return down, up


@njit(cache=True)
def aroonosc(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    down, up = aroon(high, low, w)
    return up - down


@njit(cache=True)
def returns(x: np.ndarray, w: int) -> np.ndarray:
    """Simple return over w bars: x[t] / x[t-w] - 1."""
    out = nan_like(x)
    for t in range(w, x.size):
        out[t] = x[t] / x[t - w] - 1.0
    return out


@njit(cache=True)
def log_returns(x: np.ndarray, w: int) -> np.ndarray:
    out = nan_like(x)
    for t in range(w, x.size):
        out[t] = math.log(x[t] / x[t - w])  # libm's log, as the stream (also without the JIT)
    return out


@njit(cache=True)
def plus_di(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    return dmi(high, low, close, w)[0]


@njit(cache=True)
def minus_di(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    return dmi(high, low, close, w)[1]


@njit(cache=True)
def dx(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    return dmi(high, low, close, w)[2]


@njit(cache=True)
def adx(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    return dmi(high, low, close, w)[3]
