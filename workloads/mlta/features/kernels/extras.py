"""Indicators TA-Lib does not have: Rogers-Satchell and Yang-Zhang volatility, the ulcer and
choppiness indices, Ease of Movement, Ehlers' Fisher transform and Pring's KST.

They are built from ``_common``'s helpers (exact re-summed rolling sums, rolling extremes), so
the streaming forms mirror them the same way the other kernels are mirrored; the tests compare
them with direct pandas formulas of the published definitions.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import (
    mask_before,
    nan_like,
    rolling_extreme_index,
    rolling_mean_var,
    rolling_sum,
    take,
    true_range_at,
)

A = np.ndarray


@njit(cache=True)
def _rs_term(o: float, h: float, lo: float, c: float) -> float:
    return math.log(h / c) * math.log(h / o) + math.log(lo / c) * math.log(lo / o)


@njit(cache=True)
def rogers_satchell(o: A, h: A, lo: A, c: A, w: int) -> A:
    """sqrt of the mean over w bars of ln(h/c) ln(h/o) + ln(l/c) ln(l/o) (drift-free)."""
    term = nan_like(c)
    for t in range(c.size):
        term[t] = _rs_term(o[t], h[t], lo[t], c[t])
    mean = rolling_sum(term, w, float(w))
    out = nan_like(c)
    for t in range(w - 1, c.size):
        out[t] = math.sqrt(mean[t]) if mean[t] > 0.0 else 0.0
    return out


@njit(cache=True)
def yang_zhang(o: A, h: A, lo: A, c: A, w: int) -> A:
    """Yang-Zhang volatility over w bars: sample variances of the open-vs-previous-close and
    close-vs-open log returns plus Rogers-Satchell, weighted with k = 0.34 / (1.34 +
    (w+1)/(w-1)); per bar, not annualised."""
    n = c.size
    gap = nan_like(c)
    body = nan_like(c)
    term = nan_like(c)
    for t in range(1, n):
        gap[t] = math.log(o[t] / c[t - 1])
        body[t] = math.log(c[t] / o[t])
        term[t] = _rs_term(o[t], h[t], lo[t], c[t])
    _, var_gap = rolling_mean_var(gap, w)
    _, var_body = rolling_mean_var(body, w)
    rs = rolling_sum(term, w, float(w))
    k = 0.34 / (1.34 + (w + 1.0) / (w - 1.0))
    bessel = w / (w - 1.0)
    out = nan_like(c)
    for t in range(w, n):
        total = var_gap[t] * bessel + k * (var_body[t] * bessel) + (1.0 - k) * rs[t]
        out[t] = math.sqrt(total) if total > 0.0 else 0.0
    return out


@njit(cache=True)
def ulcer(c: A, w: int) -> A:
    """Ulcer index: root mean square over w bars of the percent drawdown from the highest
    close of the w bars before (and including) each one."""
    peak = take(c, rolling_extreme_index(c, w, True))
    sq = nan_like(c)
    for t in range(w - 1, c.size):
        dd = 100.0 * (c[t] - peak[t]) / peak[t] if peak[t] != 0.0 else 0.0
        sq[t] = dd * dd
    # summed afresh every bar: a running sum of squares keeps a residue after a drawdown
    # leaves the window, and the square root would turn 1e-17 into a visible 3e-9
    out = nan_like(c)
    for t in range(2 * (w - 1), c.size):
        total = 0.0
        for j in range(t - w + 1, t + 1):
            total += sq[j]
        mean = total / w
        out[t] = math.sqrt(mean) if mean > 0.0 else 0.0
    return out


@njit(cache=True)
def chop(h: A, lo: A, c: A, w: int) -> A:
    """Choppiness index: 100 log10(sum of w true ranges / (highest high - lowest low)) /
    log10(w); 100 (fully choppy) for a window without range."""
    n = c.size
    tr = nan_like(c)
    for t in range(1, n):
        tr[t] = true_range_at(h[t], lo[t], c[t - 1])
    total = rolling_sum(tr, w)
    hi = take(h, rolling_extreme_index(h, w, True))
    low = take(lo, rolling_extreme_index(lo, w, False))
    scale = math.log10(float(w))
    out = nan_like(c)
    for t in range(w, n):
        rng = hi[t] - low[t]
        out[t] = 100.0 * math.log10(total[t] / rng) / scale if rng > 0.0 else 100.0
    return out


@njit(cache=True)
def eom(h: A, lo: A, v: A, w: int, divisor: float) -> A:
    """Ease of movement: SMA over w bars of divisor * (midpoint change) * (high - low) /
    volume; a bar without volume counts 0."""
    n = h.size
    emv = nan_like(h)
    for t in range(1, n):
        move = (h[t] + lo[t]) / 2.0 - (h[t - 1] + lo[t - 1]) / 2.0
        emv[t] = divisor * move * (h[t] - lo[t]) / v[t] if v[t] > 0.0 else 0.0
    return rolling_sum(emv, w, float(w))


@njit(cache=True)
def fisher(h: A, lo: A, w: int) -> tuple[A, A]:
    """Ehlers' Fisher transform of the midpoint's position in its w-bar range (smoothed
    0.66 / 0.67, clamped to +-0.999) and its trigger (the previous value)."""
    n = h.size
    mid = (h + lo) / 2.0
    hi = take(mid, rolling_extreme_index(mid, w, True))
    low = take(mid, rolling_extreme_index(mid, w, False))
    out = nan_like(h)
    trigger = nan_like(h)
    value = 0.0
    fish = 0.0
    for t in range(w - 1, n):
        rng = hi[t] - low[t]
        ratio = (mid[t] - low[t]) / rng if rng > 0.0 else 0.5
        value = 0.66 * (ratio - 0.5) + 0.67 * value
        if value > 0.99:
            value = 0.999
        elif value < -0.99:
            value = -0.999
        prev = fish
        fish = 0.5 * math.log((1.0 + value) / (1.0 - value)) + 0.5 * fish
        out[t] = fish
        trigger[t] = prev
    return mask_before(out, w), mask_before(trigger, w)


@njit(cache=True)
def _roc_sma(c: A, r: int, s: int) -> A:
    roc = nan_like(c)
    for t in range(r, c.size):
        prev = c[t - r]
        roc[t] = ((c[t] / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0
    return rolling_sum(roc, s, float(s))


@njit(cache=True)
def kst(c: A, r1: int, r2: int, r3: int, r4: int, s1: int, s2: int, s3: int, s4: int,
        signal: int) -> tuple[A, A]:
    """Pring's know-sure-thing: 1, 2, 3, 4 times the SMAs of four rates of change, and its
    SMA signal line; both start where the signal does."""
    a = _roc_sma(c, r1, s1)
    b = _roc_sma(c, r2, s2)
    d = _roc_sma(c, r3, s3)
    e = _roc_sma(c, r4, s4)
    line = a + 2.0 * b + 3.0 * d + 4.0 * e
    sig = rolling_sum(line, signal, float(signal))
    start = max(max(r1 + s1, r2 + s2), max(r3 + s3, r4 + s4)) - 1 + signal - 1
    return mask_before(line, start), mask_before(sig, start)
