"""Small building blocks shared by the kernel modules (rolling sums, true range, EMA)."""

from __future__ import annotations

import sys

import numpy as np
from numba import njit, types

# Fresh output arrays are the single largest cost of a fast kernel on a million rows: numba
# allocates with plain malloc, whose large blocks the kernel faults in 4 KiB page by page
# (about 3 ms per 8 MB array on a VM, more than the arithmetic). numpy asks the kernel for
# transparent huge pages on its own large arrays (madvise MADV_HUGEPAGE), which is what
# TA-Lib's outputs get; the kernels do the same through ``empty``.
_HUGE_BYTES = 4 << 20
_MADV_HUGEPAGE = 14
_PAGE = 4096

if sys.platform.startswith("linux"):
    _madvise = types.ExternalFunction(
        "madvise", types.intc(types.uintp, types.uintp, types.intc))

    @njit(cache=True)
    def _advise_huge(addr: int, nbytes: int) -> None:
        if nbytes >= _HUGE_BYTES:
            start = (addr + (_PAGE - 1)) // _PAGE * _PAGE  # madvise needs page alignment
            _madvise(start, addr + nbytes - start, _MADV_HUGEPAGE)
else:

    @njit(cache=True)
    def _advise_huge(addr: int, nbytes: int) -> None:
        return None


@njit(cache=True)
def empty(n: int) -> np.ndarray:
    """``np.empty(n)`` float64, backed by huge pages when large (see above)."""
    out = np.empty(n, dtype=np.float64)
    _advise_huge(out.ctypes.data, n * 8)
    return out


@njit(cache=True)
def empty_int(n: int) -> np.ndarray:
    """``np.empty(n)`` int64, backed by huge pages when large."""
    out = np.empty(n, dtype=np.int64)
    _advise_huge(out.ctypes.data, n * 8)
    return out


@njit(cache=True)
def zeros(n: int) -> np.ndarray:
    out = empty(n)
    out[:] = 0.0
    return out


@njit(cache=True)
def nan_like(x: np.ndarray) -> np.ndarray:
    out = empty(x.size)
    out[:] = np.nan
    return out


@njit(cache=True)
def first_valid(x: np.ndarray) -> int:
    """Index of the first non-NaN value (``x.size`` if there is none)."""
    for i in range(x.size):
        if not np.isnan(x[i]):
            return i
    return x.size


@njit(cache=True)
def rolling_sum(x: np.ndarray, w: int, divisor: float = 1.0) -> np.ndarray:
    """Sum of the last ``w`` values (divided by ``divisor``), re-summed exactly every ``w``
    steps (see the package doc). Blocks of ``w`` rows avoid a modulo per row."""
    n = x.size
    out = nan_like(x)
    s = first_valid(x)
    if n - s < w:
        return out
    for block in range(s + w - 1, n, w):
        acc = 0.0
        for j in range(block - w + 1, block + 1):
            acc += x[j]
        out[block] = acc / divisor
        for t in range(block + 1, min(block + w, n)):
            acc += x[t] - x[t - w]
            out[t] = acc / divisor
    return out


@njit(cache=True)
def rolling_mean_var(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling mean and population variance (TA-Lib's VAR), clamped at 0.

    The sums are of ``x - K`` with K re-centred at every exact re-summation, so the variance
    does not cancel catastrophically when it is tiny next to the mean (TA-Lib's E[x^2] - E[x]^2
    loses about half the digits of a 0.002 std on a price of 100; this does not).
    """
    n = x.size
    mean = nan_like(x)
    var = nan_like(x)
    s = first_valid(x)
    if n - s < w:
        return mean, var
    for block in range(s + w - 1, n, w):
        k = x[block]
        s1 = 0.0
        s2 = 0.0
        for j in range(block - w + 1, block + 1):
            d = x[j] - k
            s1 += d
            s2 += d * d
        for t in range(block, min(block + w, n)):
            if t > block:
                d_in = x[t] - k
                d_out = x[t - w] - k
                s1 += d_in - d_out
                s2 += d_in * d_in - d_out * d_out
            m = s1 / w
            mean[t] = k + m
            v = s2 / w - m * m
            var[t] = v if v > 0.0 else 0.0
    return mean, var


@njit(cache=True)
def ema_seeded(x: np.ndarray, w: int, k: float, seed_end: int) -> np.ndarray:
    """EMA with factor ``k``, seeded at ``seed_end`` with the mean of the ``w`` values ending there.

    TA-Lib seeds every EMA this way; MACD seeds its fast EMA at the slow EMA's first index.
    """
    n = x.size
    out = nan_like(x)
    if seed_end >= n or seed_end - w + 1 < 0:
        return out
    acc = 0.0
    for j in range(seed_end - w + 1, seed_end + 1):
        acc += x[j]
    prev = acc / w
    out[seed_end] = prev
    for t in range(seed_end + 1, n):
        prev = (x[t] - prev) * k + prev
        out[t] = prev
    return out


@njit(cache=True)
def ema(x: np.ndarray, w: int) -> np.ndarray:
    """TA-Lib EMA: k = 2/(w+1), seeded with the SMA of the first ``w`` finite values."""
    s = first_valid(x)
    return ema_seeded(x, w, 2.0 / (w + 1.0), s + w - 1)


@njit(cache=True)
def true_range_at(high: float, low: float, prev_close: float) -> float:
    tr = high - low
    a = abs(high - prev_close)
    if a > tr:
        tr = a
    b = abs(low - prev_close)
    if b > tr:
        tr = b
    return tr


@njit(cache=True)
def rolling_extreme_index(x: np.ndarray, w: int, highest: bool) -> np.ndarray:
    """Index of the max (or min) of the last ``w`` values; ties go to the most recent (TA-Lib).

    Amortised O(n): the window is rescanned only when the current extreme leaves it.
    """
    n = x.size
    idx = empty_int(n)
    idx[:] = -1
    s = first_valid(x)
    best_i = -1
    best = 0.0
    for t in range(s + w - 1, n):
        trailing = t - w + 1
        v = x[t]
        if best_i < trailing:
            best_i = trailing
            best = x[trailing]
            for i in range(trailing + 1, t + 1):
                xi = x[i]
                if (xi >= best) if highest else (xi <= best):
                    best_i = i
                    best = xi
        elif (v >= best) if highest else (v <= best):
            best_i = t
            best = v
        idx[t] = best_i
    return idx


@njit(cache=True)
def take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = nan_like(x)
    for t in range(x.size):
        if idx[t] >= 0:
            out[t] = x[idx[t]]
    return out


@njit(cache=True)
def mask_before(out: np.ndarray, start: int) -> np.ndarray:
    """NaN everything before ``start``, so all outputs of an indicator share one warm-up."""
    end = min(start, out.size)
    for t in range(end):
        out[t] = np.nan
    return out


@njit(cache=True)
def window_max(x: np.ndarray, w: int) -> np.ndarray:
    """Max of the last ``w`` values: ``take(x, rolling_extreme_index(x, w, True))`` in one
    pass without the index array (the same values; the tie rule only matters for indices)."""
    n = x.size
    out = nan_like(x)
    s = first_valid(x)
    best_i = -1
    best = 0.0
    for t in range(s + w - 1, n):
        trailing = t - w + 1
        v = x[t]
        if best_i < trailing:
            best_i = trailing
            best = x[trailing]
            for i in range(trailing + 1, t + 1):
                if x[i] >= best:
                    best_i = i
                    best = x[i]
        elif v >= best:
            best_i = t
            best = v
        out[t] = best
    return out


@njit(cache=True)
def window_min(x: np.ndarray, w: int) -> np.ndarray:
    """Min of the last ``w`` values (see ``window_max``)."""
    n = x.size
    out = nan_like(x)
    s = first_valid(x)
    best_i = -1
    best = 0.0
    for t in range(s + w - 1, n):
        trailing = t - w + 1
        v = x[t]
        if best_i < trailing:
            best_i = trailing
            best = x[trailing]
            for i in range(trailing + 1, t + 1):
                if x[i] <= best:
                    best_i = i
                    best = x[i]
        elif v <= best:
            best_i = t
            best = v
        out[t] = best
    return out


@njit(cache=True)
def window_mid(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    """(max(high) + min(low)) / 2 over the last ``w`` bars, written into the max array."""
    hi = window_max(high, w)
    lo = window_min(low, w)
    for t in range(hi.size):
        hi[t] = (hi[t] + lo[t]) / 2.0
    return hi
