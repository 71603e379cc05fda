"""Small building blocks shared by the kernel modules (rolling sums, true range, EMA)."""

from __future__ import annotations

import sys

import numpy as np
from numba import types

from ..jit import njit

# Fresh output arrays are the single largest cost of a fast kernel on a million rows: numba
# allocates with plain malloc, whose large blocks the kernel faults in 4 KiB page by page
# (about 3 ms per 8 MB array on a VM, more than the arithmetic). numpy asks the kernel for
# transparent huge pages on its own large arrays (madvise MADV_HUGEPAGE), which is what
# TA-Lib's outputs get; the kernels do the same through ``empty``.
# Hot loops index with unsigned integers where every index is known to be >= 0: numba tests
# each signed index for a negative (Python's wraparound) before every read, and that test
# cost the simplest kernels a fifth of their time. Unsigned indices skip it; values are the
# same.
U = np.uint64

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
            _madvise(start, addr + nbytes - start, _MADV_HUGEPAGE)  # type: ignore[call-overload]
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


@njit(cache=True, inline="always")
def ring_total(ring: np.ndarray, slot: int) -> float:
    """Sum of a ring buffer oldest first, ``slot`` being the oldest entry (the next to be
    overwritten): the order in which ``rolling_sum`` re-sums its window."""
    total = 0.0
    for j in range(slot, ring.size):
        total += ring[j]
    for j in range(slot):
        total += ring[j]
    return total


@njit(cache=True)
def nan_head(n: int, start: int) -> np.ndarray:
    """An output array whose rows before ``start`` are NaN and the rest unset, for kernels
    that write every row from ``start`` on: filling a million rows with NaN first cost the
    cheapest kernels as much as their arithmetic."""
    out = empty(n)
    for i in range(min(start, n)):
        out[i] = np.nan
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
    s = first_valid(x)
    if n - s < w:
        return nan_like(x)
    out = nan_head(n, s + w - 1)  # every row from there on is written below
    uw = U(w)
    for block in range(s + w - 1, n, w):
        acc = 0.0
        for j in range(U(block - w + 1), U(block + 1)):
            acc += x[j]
        out[block] = acc / divisor
        for t in range(U(block + 1), U(min(block + w, n))):
            acc += x[t] - x[t - uw]
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
    s = first_valid(x)
    if n - s < w:
        return nan_like(x), nan_like(x)
    mean = nan_head(n, s + w - 1)  # every row from there on is written below
    var = nan_head(n, s + w - 1)
    uw = U(w)
    for block in range(s + w - 1, n, w):
        k = x[block]
        s1 = 0.0
        s2 = 0.0
        for j in range(U(block - w + 1), U(block + 1)):
            d = x[j] - k
            s1 += d
            s2 += d * d
        ublock = U(block)
        for t in range(ublock, U(min(block + w, n))):
            if t > ublock:
                d_in = x[t] - k
                d_out = x[t - uw] - k
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
    The step is ``prev * (1 - k) + x * k`` rather than TA-Lib's ``(x - prev) * k + prev``:
    the same value to round-off, but only a multiply and an add on the chain from one bar to
    the next (``x * k`` does not wait for ``prev``), about a quarter faster. Every EMA in the
    kernels and in the streaming forms takes this step, so batch and streaming agree bit for
    bit; TA-Lib agrees to ~1e-15.
    """
    n = x.size
    if seed_end >= n or seed_end - w + 1 < 0:
        return nan_like(x)
    out = nan_head(n, seed_end)  # every row from the seed on is written below
    acc = 0.0
    for j in range(seed_end - w + 1, seed_end + 1):
        acc += x[j]
    prev = acc / w
    out[seed_end] = prev
    for t in range(U(seed_end + 1), U(n)):
        prev = prev * (1.0 - k) + x[t] * k
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


@njit(cache=True, inline="always")
def _pick(a: float, b: float, highest: bool) -> float:
    if highest:
        return a if a > b else b
    return a if a < b else b


@njit(cache=True, inline="always")
def _window_extreme(x: np.ndarray, w: int, highest: bool) -> np.ndarray:
    """Max (or min) of the last ``w`` values by van Herk / Gil-Werman.

    Cut the series into blocks of ``w``: the window ending at t is the extreme of the suffix
    of t-w+1's block (the previous block, or t's own when t ends a block) and of the prefix of
    t's block, both of which end by t (causal). Three comparisons a row and no rescans (the
    rescanning form mispredicts its way through ~3 extra rows per row on a random walk).
    Only two blocks of suffixes are kept, so no second full-length array is allocated (a
    large temporary costs more in page faults than the whole pass). Extremes select values,
    so the order of comparisons cannot change a bit.
    """
    n = x.size
    s = first_valid(x)
    m = n - s
    if m < w:
        return nan_like(x)
    out = nan_head(n, s + w - 1)  # every row from there on is written below
    y = x[s:]
    o = out[s:]
    suffix = np.empty(2 * w)
    uw = U(w)
    for b in range(0, m, w):
        e = min(b + w, m)
        cur = U((b // w) % 2 * w)  # this block's suffixes; the previous block's at w - cur
        prev = uw - cur
        ub = U(b)
        ue = U(e)
        acc = y[ue - U(1)]
        for r in range(U(0), ue - ub):
            i = ue - U(1) - r
            acc = _pick(y[i], acc, highest)
            suffix[cur + (i - ub)] = acc
        acc = y[ub]
        for t in range(ub, ue):
            acc = _pick(y[t], acc, highest)
            if t + U(1) >= uw:
                j = t + U(1) - uw
                head = suffix[prev + (j + uw - ub)] if j < ub else suffix[cur]
                o[t] = _pick(head, acc, highest)
    return out


@njit(cache=True)
def window_max(x: np.ndarray, w: int) -> np.ndarray:
    """Max of the last ``w`` values: ``take(x, rolling_extreme_index(x, w, True))`` without
    the index array (the same values; the tie rule only matters for indices)."""
    return _window_extreme(x, w, True)


@njit(cache=True)
def window_min(x: np.ndarray, w: int) -> np.ndarray:
    """Min of the last ``w`` values (see ``window_max``)."""
    return _window_extreme(x, w, False)


MID = 0
WILLR = 1
FAST_K = 2


@njit(cache=True, inline="always")
def _hl_value(hh: float, ll: float, close: float, mode: int) -> float:
    if mode == MID:
        return (hh + ll) / 2.0
    if mode == WILLR:
        diff = (hh - ll) / -100.0
        return (hh - close) / diff if diff != 0.0 else 0.0
    diff = (hh - ll) / 100.0
    return (close - ll) / diff if diff != 0.0 else 0.0


@njit(cache=True)
def window_hl(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, w: int, mode: int
) -> np.ndarray:
    """A function of the highest high and lowest low of the last ``w`` bars, in one pass
    with one output array (``_window_extreme`` for both sides at once): ``MID`` (hh+ll)/2,
    ``WILLR`` Williams %R, ``FAST_K`` the raw stochastic %K (0 on a flat window, as TA-Lib).
    The formulas are the ones the kernels used on the two extreme arrays, bit for bit."""
    n = close.size
    s = max(first_valid(high), first_valid(low))
    m = n - s
    if m < w:
        return nan_like(close)
    out = nan_head(n, s + w - 1)  # every row from there on is written below
    yh = high[s:]
    yl = low[s:]
    yc = close[s:]
    o = out[s:]
    sh = np.empty(2 * w)
    sl = np.empty(2 * w)
    uw = U(w)
    for b in range(0, m, w):
        e = min(b + w, m)
        cur = U((b // w) % 2 * w)
        prev = uw - cur
        ub = U(b)
        ue = U(e)
        ah = yh[ue - U(1)]
        al = yl[ue - U(1)]
        for r in range(U(0), ue - ub):
            i = ue - U(1) - r
            ah = _pick(yh[i], ah, True)
            al = _pick(yl[i], al, False)
            sh[cur + (i - ub)] = ah
            sl[cur + (i - ub)] = al
        ah = yh[ub]
        al = yl[ub]
        for t in range(ub, ue):
            ah = _pick(yh[t], ah, True)
            al = _pick(yl[t], al, False)
            if t + U(1) >= uw:
                j = t + U(1) - uw
                k = prev + (j + uw - ub) if j < ub else cur
                o[t] = _hl_value(_pick(sh[k], ah, True), _pick(sl[k], al, False), yc[t], mode)
    return out


@njit(cache=True)
def window_mid(high: np.ndarray, low: np.ndarray, w: int) -> np.ndarray:
    """(max(high) + min(low)) / 2 over the last ``w`` bars."""
    return window_hl(high, low, low, w, MID)
