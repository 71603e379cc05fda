"""More momentum indicators: price oscillators, directional movement sums, stochastic RSI,
the ultimate oscillator and the intraday / volume-free oscillators of TA-Lib's newer releases.

As in ``momentum.py``, a denominator is tested for an exact zero rather than TA-Lib's 1e-14.
"""

from __future__ import annotations

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
    rolling_sum,
    true_range_at,
)
from .averages import ma, ma_from, ma_lookback
from .momentum import _directional, _fast_k, adx, macd_fused, rsi
from .overlap import sma, sma_diff, sma_diff_of

# RSI range (in RSI points) below which a stochastic-RSI window counts as flat.
RSI_FLAT = 1e-9


@njit(cache=True)
def _dm(high: np.ndarray, low: np.ndarray, w: int, plus: bool) -> np.ndarray:
    """Wilder-summed +DM or -DM: the raw sum of the first w-1 moves, then s - s/w + dm."""
    n = high.size
    out = nan_like(high)
    if n < w or n < 2:
        return out
    acc = 0.0
    keep = 1.0 - 1.0 / w  # Wilder's acc - acc/w without a division on the chain (see dmi)
    for t in range(1, n):
        p, m = _directional(high, low, t)
        dm = p if plus else m
        if w == 1:
            out[t] = dm
        elif t < w - 1:
            acc += dm
        elif t == w - 1:
            acc += dm
            out[t] = acc
        else:
            acc = acc * keep + dm
            out[t] = acc
    return out


@njit(cache=True)
def plus_dm(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    return _dm(high, low, w, True)


@njit(cache=True)
def minus_dm(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    return _dm(high, low, w, False)


@njit(cache=True)
def adxr(high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Average of ADX now and w-1 bars ago."""
    a = adx(high, low, close, w)
    out = nan_like(close)
    for t in range(w - 1, close.size):
        out[t] = (a[t] + a[t - (w - 1)]) / 2.0
    return out


@njit(cache=True)
def _po(x: np.ndarray, fast: int, slow: int, matype: int, percent: bool) -> np.ndarray:
    # unlike MACDEXT, TA-Lib's APO / PPO run each average over the whole series
    start = max(ma_lookback(slow, matype), ma_lookback(fast, matype))
    if matype == 0 and fast > 1 and slow > 1 and first_valid(x) == 0:
        return sma_diff(x, fast, slow, start, percent)  # the default: both SMAs in one pass
    f = ma(x, fast, matype)
    s = ma(x, slow, matype)
    out = nan_like(x)
    for t in range(start, x.size):
        if percent:
            out[t] = ((f[t] - s[t]) / s[t]) * 100.0 if s[t] != 0.0 else 0.0
        else:
            out[t] = f[t] - s[t]
    return out


@njit(cache=True)
def apo(x: np.ndarray, fast: int, slow: int, matype: int) -> np.ndarray:
    """Absolute price oscillator: MA(fast) - MA(slow)."""
    return _po(x, fast, slow, matype, False)


@njit(cache=True)
def ppo(x: np.ndarray, fast: int, slow: int, matype: int) -> np.ndarray:
    """Percentage price oscillator: 100 (MA(fast) - MA(slow)) / MA(slow)."""
    return _po(x, fast, slow, matype, True)


@njit(cache=True)
def pvo(volume: np.ndarray, fast: int, slow: int) -> np.ndarray:
    """Percentage volume oscillator: PPO of the volume with EMAs."""
    return _po(volume, fast, slow, 1, True)


@njit(cache=True)
def bop(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Balance of power: (close - open) / (high - low); 0 on a bar without range."""
    out = nan_like(close)
    for t in range(close.size):
        rng = high[t] - low[t]
        out[t] = (close[t] - open_[t]) / rng if rng > 0.0 else 0.0
    return out


@njit(cache=True)
def macdext(
    x: np.ndarray, fast: int, fast_ma: int, slow: int, slow_ma: int, signal: int, signal_ma: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD with a moving-average type per line (TA-Lib MACDEXT): both averages start at the
    slower one's first bar, so a recursive fast average is seeded there (as in MACD)."""
    start = max(ma_lookback(fast, fast_ma), ma_lookback(slow, slow_ma))
    line = ma_from(x, fast, fast_ma, start) - ma_from(x, slow, slow_ma, start)
    sig = ma(line, signal, signal_ma)
    begin = start + ma_lookback(signal, signal_ma)
    return mask_before(line, begin), mask_before(sig, begin), mask_before(line - sig, begin)


@njit(cache=True)
def macdfix(x: np.ndarray, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD 12/26 with TA-Lib's fixed factors 0.15 and 0.075 (not 2/13 and 2/27)."""
    return macd_fused(x, 12, 26, signal, 0.15, 0.075)


@njit(cache=True)
def stochrsi(
    x: np.ndarray, w: int, fastk: int, fastd: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fast stochastic of the RSI (TA-Lib STOCHRSI, SMA %D).

    An RSI window whose range is below ``RSI_FLAT`` (RSI points) is flat: the RSI of an
    unchanged price is constant only up to round-off, and a stochastic of round-off noise
    would swing between 0 and 100. Such windows give 0, as an exactly flat window does.
    """
    r = rsi(x, w)
    k = _fast_k(r, r, r, fastk)
    for t in range(fastk - 1 + w, x.size):
        lo = r[t]
        hi = r[t]
        for j in range(t - fastk + 1, t):
            lo = min(lo, r[j])
            hi = max(hi, r[j])
        if hi - lo < RSI_FLAT:
            k[t] = 0.0
    d = sma(k, fastd)
    return mask_before(k, w + fastk + fastd - 2), d


@njit(cache=True, inline="always")
def _bp_tr(high: np.ndarray, low: np.ndarray, close: np.ndarray, j: int) -> tuple[float, float]:
    """Buying pressure and true range of bar j + 1 (index j of ULTOSC's one-bar series)."""
    pc = close[j]
    return close[j + 1] - min(low[j + 1], pc), true_range_at(high[j + 1], low[j + 1], pc)


@njit(cache=True, inline="always")
def _uo_sums(
    ring_b: np.ndarray, ring_r: np.ndarray, mask: int, j: int, w: int, phase: int,
    b_new: float, r_new: float, bsum: float, tsum: float,
) -> tuple[float, float]:
    """``rolling_sum`` of buying pressure and true range at index j, on its own schedule:
    summed afresh, oldest first, where ``phase`` (j - (w-1) mod w) is 0, i.e. at j = w-1,
    2w-1, ...; moved by ``+= new - old`` between. (b_new, r_new) are the values at j; the
    older ones come from the rings (index i at ``i & mask``), as they were computed."""
    if j < w - 1:
        return np.nan, np.nan
    if phase == 0:
        bsum = 0.0
        tsum = 0.0
        for i in range(j - w + 1, j + 1):
            bsum += ring_b[i & mask]
            tsum += ring_r[i & mask]
        return bsum, tsum
    old = (j - w) & mask
    return bsum + (b_new - ring_b[old]), tsum + (r_new - ring_r[old])


@njit(cache=True)
def ultosc(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, p1: int, p2: int, p3: int
) -> np.ndarray:
    """Ultimate oscillator: buying pressure over true range on three windows, weights 4:2:1.

    One pass with no arrays but the output and two small rings: the six window sums are
    kept as scalars on ``rolling_sum``'s exact schedule (fresh sums at the same rows, the
    same ``+= new - old`` between), reading the one-bar values they need from the rings, so
    every bit is what summing the buying-pressure and true-range arrays gave (and what the
    streaming form computes).
    """
    n = close.size
    out = nan_like(close)
    if n <= p3:
        return out
    b1 = t1 = b2 = t2 = b3 = t3 = 0.0
    ph1 = 1 - p1  # j - (w-1), wrapped to [0, w) once it reaches 0 (no modulo per row)
    ph2 = 1 - p2
    ph3 = 1 - p3
    # the last max(p)+1 one-bar values, each computed once (a power-of-two ring: a mask,
    # not a modulo, finds a slot)
    size = 1
    while size < max(p1, max(p2, p3)) + 1:
        size *= 2
    mask = size - 1
    ring_b = np.empty(size)
    ring_r = np.empty(size)
    for j in range(n - 1):
        b_new, r_new = _bp_tr(high, low, close, j)
        ring_b[j & mask] = b_new
        ring_r[j & mask] = r_new
        b1, t1 = _uo_sums(ring_b, ring_r, mask, j, p1, ph1, b_new, r_new, b1, t1)
        b2, t2 = _uo_sums(ring_b, ring_r, mask, j, p2, ph2, b_new, r_new, b2, t2)
        b3, t3 = _uo_sums(ring_b, ring_r, mask, j, p3, ph3, b_new, r_new, b3, t3)
        ph1 = 0 if ph1 + 1 == p1 else ph1 + 1
        ph2 = 0 if ph2 + 1 == p2 else ph2 + 1
        ph3 = 0 if ph3 + 1 == p3 else ph3 + 1
        t = j + 1
        if t < p3:
            continue
        acc = 0.0
        if t1 != 0.0:
            acc += 4.0 * (b1 / t1)
        if t2 != 0.0:
            acc += 2.0 * (b2 / t2)
        if t3 != 0.0:
            acc += b3 / t3
        out[t] = 100.0 * (acc / 7.0)
    return out


@njit(cache=True)
def _split_sums(up: np.ndarray, down: np.ndarray, w: int, flat: float) -> np.ndarray:
    su = rolling_sum(up, w)
    sd = rolling_sum(down, w)
    out = nan_like(up)
    for t in range(up.size):
        if not np.isnan(su[t]):
            total = su[t] + sd[t]
            out[t] = 100.0 * (su[t] / total) if total != 0.0 else flat
    return out


@njit(cache=True)
def imi(open_: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Intraday momentum index: share of up-bar bodies in all bodies over w bars, percent;
    50 (neutral) when every body in the window is empty, as TA-Lib."""
    up = np.maximum(close - open_, 0.0)
    down = np.maximum(open_ - close, 0.0)
    return _split_sums(up, down, w, 50.0)


@njit(cache=True)
def ao(high: np.ndarray, low: np.ndarray, fast: int, slow: int) -> np.ndarray:
    """Awesome oscillator: SMA(median price, fast) - SMA(median price, slow)."""
    if fast <= slow and first_valid(high) == 0 and first_valid(low) == 0:
        # both SMAs of the median price in one pass, the median computed where it is read
        return sma_diff_of(high, low, fast, slow, slow - 1, False, True)
    mid = empty(high.size)
    for t in range(high.size):
        mid[t] = (high[t] + low[t]) / 2.0
    out = sma(mid, fast)
    slow_ma = sma(mid, slow)
    for t in range(out.size):  # in place: the difference needs no array of its own
        out[t] = out[t] - slow_ma[t]
    return mask_before(out, slow - 1)


@njit(cache=True)
def ac(high: np.ndarray, low: np.ndarray, fast: int, slow: int, signal: int) -> np.ndarray:
    """Accelerator oscillator: AO - SMA(AO, signal)."""
    a = ao(high, low, fast, slow)
    sig = sma(a, signal)
    for t in range(a.size):
        a[t] = a[t] - sig[t]
    return a


@njit(cache=True)
def coppock(x: np.ndarray, w: int, roc1: int, roc2: int) -> np.ndarray:
    """Coppock curve: WMA(ROC(roc1) + ROC(roc2), w).

    One pass over a ring of the last w ROC sums, on ``wma``'s exact schedule (weighted and
    plain sums taken afresh, oldest first, at rows s+w-1, s+2w-1, ... from the first ROC
    sum s, updated in between): the values of ``wma(roc(x, roc1) + roc(x, roc2), w)`` bit
    for bit, without its four million-row arrays.
    """
    n = x.size
    out = nan_like(x)
    s = max(roc1, roc2)
    if n - s < w:
        return out
    divider = w * (w + 1) / 2.0
    ring = np.empty(w)
    slot = 0
    to_block = w
    plain = 0.0
    weighted = 0.0
    for t in range(s, n):
        v = _roc_at(x, t, roc1) + _roc_at(x, t, roc2)
        old = ring[slot]
        ring[slot] = v
        slot += 1
        if slot == w:
            slot = 0
        to_block -= 1
        if to_block == 0:
            to_block = w
            plain = 0.0
            weighted = 0.0
            j = 0
            for q in range(slot, w):  # oldest first
                plain += ring[q]
                weighted += ring[q] * (j + 1)
                j += 1
            for q in range(slot):
                plain += ring[q]
                weighted += ring[q] * (j + 1)
                j += 1
            out[t] = weighted / divider
        elif t >= s + w:
            weighted += w * v - plain
            plain += v - old
            out[t] = weighted / divider
    return out


@njit(cache=True, inline="always")
def _roc_at(x: np.ndarray, t: int, w: int) -> float:
    """``roc(x, w)[t]`` for t >= w."""
    prev = x[t - w]
    return ((x[t] / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0


@njit(cache=True)
def er(x: np.ndarray, w: int) -> np.ndarray:
    """Kaufman efficiency ratio: |net change| / sum of |one-bar changes| over w bars; 1 on a
    window without any change (as TA-Lib)."""
    n = x.size
    if n <= w:
        return nan_like(x)
    out = nan_head(n, w)  # every row from w on is written below
    # The path length is ``rolling_sum`` of d[j] = |x[j+1] - x[j]| on its exact schedule
    # (re-summed oldest first at d-rows w-1, 2w-1, ..., running in between), with each d
    # recomputed where it is needed instead of stored: no temporaries, the same bits.
    uw = U(w)
    one = U(1)
    for block in range(w - 1, n - 1, w):
        acc = 0.0
        for j in range(U(block - w + 1), U(block + 1)):
            acc += abs(x[j + one] - x[j])
        out[block + 1] = _er_value(x, U(block + 1), uw, acc)
        for u in range(U(block + 1), U(min(block + w, n - 1))):
            acc += abs(x[u + one] - x[u]) - abs(x[u + one - uw] - x[u - uw])
            out[u + one] = _er_value(x, u + one, uw, acc)
    return out


@njit(cache=True, inline="always")
def _er_value(x: np.ndarray, t: np.uint64, w: np.uint64, path: float) -> float:
    return abs(x[t] - x[t - w]) / path if path != 0.0 else 1.0


@njit(cache=True)
def vhf(x: np.ndarray, w: int) -> np.ndarray:
    """Vertical horizontal filter: (max - min) of w closes over the path length."""
    n = x.size
    out = nan_like(x)
    if n <= w:
        return out
    d = np.abs(x[1:] - x[:-1])
    path = rolling_sum(d, w)
    for t in range(w, n):
        hi = x[t]
        lo = x[t]
        for j in range(t - w + 1, t):
            hi = max(hi, x[j])
            lo = min(lo, x[j])
        p = path[t - 1]
        out[t] = (hi - lo) / p if p != 0.0 else 0.0
    return out


@njit(cache=True)
def eri(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Elder ray: bull power high - EMA(close), bear power low - EMA(close)."""
    e = ema(close, w)
    bull = empty(close.size)
    for t in range(close.size):
        bull[t] = high[t] - e[t]
        e[t] = low[t] - e[t]  # bear power reuses the EMA's array
    return bull, e


@njit(cache=True)
def qstick(open_: np.ndarray, close: np.ndarray, w: int) -> np.ndarray:
    """Q-stick: SMA of close - open."""
    return sma(close - open_, w)


@njit(cache=True)
def tsi(x: np.ndarray, first: int, second: int) -> np.ndarray:
    """True strength index: 100 EMA(EMA(mom)) / EMA(EMA(|mom|)).

    One pass, no arrays but the output: the four EMAs (two chains of two) run as scalars with
    exactly ``ema``'s operations (seed = sum of the first w inputs, oldest first, / w; then
    ``prev * (1 - k) + v * k``), so the result is bit-identical to composing ``ema``.
    """
    n = x.size
    out = nan_like(x)
    k1 = 2.0 / (first + 1.0)
    k2 = 2.0 / (second + 1.0)
    c1 = 0
    c2 = 0
    acc1n = acc1d = acc2n = acc2d = 0.0
    e1n = e1d = e2n = e2d = 0.0
    for t in range(1, n):
        d = x[t] - x[t - 1]
        if c1 == 0 and np.isnan(d):
            continue  # before the momentum's first finite value
        ad = abs(d)
        if c1 < first:
            acc1n += d
            acc1d += ad
            c1 += 1
            if c1 < first:
                continue
            e1n = acc1n / first
            e1d = acc1d / first
        else:
            e1n = e1n * (1.0 - k1) + d * k1
            e1d = e1d * (1.0 - k1) + ad * k1
        if c2 < second:
            acc2n += e1n
            acc2d += e1d
            c2 += 1
            if c2 < second:
                continue
            e2n = acc2n / second
            e2d = acc2d / second
        else:
            e2n = e2n * (1.0 - k2) + e1n * k2
            e2d = e2d * (1.0 - k2) + e1d * k2
        out[t] = 100.0 * (e2n / e2d) if e2d != 0.0 else 0.0
    return out


@njit(cache=True)
def vortex(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Vortex +VI and -VI: sums of |high - prior low| and |low - prior high| over true range."""
    # The three sums over bars t-w+1..t (each bar from 1 on) on ``rolling_sum``'s schedule
    # (re-summed oldest first at bars w, 2w, ..., running in between), side by side in one
    # pass with each bar's terms recomputed where needed: the former kernel's bits without
    # its six arrays.
    n = close.size
    plus = nan_like(close)
    minus = nan_like(close)
    for block in range(w, n, w):
        sp = 0.0
        sm = 0.0
        st = 0.0
        for j in range(block - w + 1, block + 1):
            sp += abs(high[j] - low[j - 1])
            sm += abs(low[j] - high[j - 1])
            st += true_range_at(high[j], low[j], close[j - 1])
        plus[block] = sp / st if st != 0.0 else 0.0
        minus[block] = sm / st if st != 0.0 else 0.0
        for t in range(block + 1, min(block + w, n)):
            o = t - w
            sp += abs(high[t] - low[t - 1]) - abs(high[o] - low[o - 1])
            sm += abs(low[t] - high[t - 1]) - abs(low[o] - high[o - 1])
            st += (true_range_at(high[t], low[t], close[t - 1])
                   - true_range_at(high[o], low[o], close[o - 1]))
            plus[t] = sp / st if st != 0.0 else 0.0
            minus[t] = sm / st if st != 0.0 else 0.0
    return plus, minus


@njit(cache=True)
def wad(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Williams accumulation/distribution, cumulative from the second bar."""
    n = close.size
    out = nan_like(close)
    if n == 0:
        return out
    acc = 0.0
    out[0] = 0.0
    for t in range(1, n):
        pc = close[t - 1]
        if close[t] > pc:
            acc += close[t] - min(low[t], pc)
        elif close[t] < pc:
            acc += close[t] - max(high[t], pc)
        out[t] = acc
    return out


@njit(cache=True)
def _ratio(x: np.ndarray, w: int, scale: float, minus: float) -> np.ndarray:
    out = nan_like(x)
    for t in range(w, x.size):
        prev = x[t - w]
        out[t] = (x[t] / prev - minus) * scale if prev != 0.0 else 0.0
    return out


@njit(cache=True)
def rocp(x: np.ndarray, w: int) -> np.ndarray:
    """Rate of change as a fraction: (x - x[t-w]) / x[t-w]."""
    out = nan_like(x)
    for t in range(w, x.size):
        prev = x[t - w]
        out[t] = (x[t] - prev) / prev if prev != 0.0 else 0.0
    return out


@njit(cache=True)
def rocr(x: np.ndarray, w: int) -> np.ndarray:
    """Rate of change ratio: x / x[t-w]."""
    return _ratio(x, w, 1.0, 0.0)


@njit(cache=True)
def rocr100(x: np.ndarray, w: int) -> np.ndarray:
    """Rate of change ratio times 100."""
    return _ratio(x, w, 100.0, 0.0)
