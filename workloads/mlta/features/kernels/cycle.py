"""Ehlers' Hilbert-transform family as TA-Lib computes it (HT_* and MAMA).

All of them share one engine (``_core``): a 4-bar WMA price smoother, then four Hilbert
filters (detrender, Q1, jI, jQ) kept in separate odd / even circular buffers of 3, then the
homodyne discriminator that adapts the period. TA-Lib's arithmetic is followed operation by
operation (the 0.0962 / 0.5769 constants, ``0 - buf`` before the sums, the clamps of the
period, the 0.33 / 0.67 smoothing), because these are long recursions: a different rounding
at one bar never quite decays. Two details matter for parity:

- the odd / even choice uses the bar's index inside the (finite) series, as TA-Lib's
  ``today % 2`` does with ``startIdx = 0``;
- the engine starts at bar ``3 + skip``: 3 seed bars of the WMA and ``skip`` WMA-only bars
  (9 for the lookback-32 functions, 34 for the lookback-63 ones); the filters start at zero
  there, so HT_DCPERIOD and HT_DCPHASE differ even where both are defined, as in TA-Lib.

TA-Lib's unstable period is 0 by default and not configurable here; lookbacks are 32 / 63.
"""

from __future__ import annotations

import math

import numpy as np

from ..jit import njit
from ._common import nan_like

A = np.ndarray
HA = 0.0962
HB = 0.5769
SKIP_SHORT = 9   # lookback 32: HT_DCPERIOD, HT_PHASOR, MAMA
SKIP_LONG = 34   # lookback 63: HT_DCPHASE, HT_SINE, HT_TRENDLINE, HT_TRENDMODE
LOOKBACK_SHORT = 32
LOOKBACK_LONG = 63


@njit(cache=True)
def _filter(buf: A, prev: A, prev_in: A, f: int, p: int, idx: int, value: float,
            adj: float) -> float:
    """One Hilbert filter step (TA-Lib's DO_HILBERT_ODD / DO_HILBERT_EVEN macro)."""
    temp = HA * value
    out = 0.0 - buf[f, p, idx]
    buf[f, p, idx] = temp
    out += temp
    out -= prev[f, p]
    prev[f, p] = HB * prev_in[f, p]
    out += prev[f, p]
    prev_in[f, p] = value
    out *= adj
    return out


@njit(cache=True)
def _core(x: A, skip: int) -> tuple[A, A, A, A]:
    """Per bar from ``3 + skip`` on: smoothed price, I1 (the detrender 3 bars back of the
    same parity), Q1 and the smoothed period; NaN before."""
    n = x.size
    smooth = nan_like(x)
    i1 = nan_like(x)
    q1 = nan_like(x)
    sp_out = nan_like(x)
    begin = 3 + skip
    if n <= begin:
        return smooth, i1, q1, sp_out
    rad2deg = 180.0 / (4.0 * math.atan(1.0))
    sub = x[0]
    wsum = x[0]
    sub += x[1]
    wsum += x[1] * 2.0
    sub += x[2]
    wsum += x[2] * 3.0
    trailing = 0.0
    trail_idx = 0
    for t in range(3, begin):
        v = x[t]
        sub += v
        sub -= trailing
        wsum += v * 4.0
        trailing = x[trail_idx]
        trail_idx += 1
        wsum -= sub
    buf = np.zeros((4, 2, 3))
    prev = np.zeros((4, 2))
    prev_in = np.zeros((4, 2))
    hidx = 0
    period = 0.0
    smooth_period = 0.0
    prev_q2 = 0.0
    prev_i2 = 0.0
    re = 0.0
    im = 0.0
    i1_even3 = 0.0
    i1_odd3 = 0.0
    i1_even2 = 0.0
    i1_odd2 = 0.0
    for t in range(begin, n):
        adj = 0.075 * period + 0.54
        v = x[t]
        sub += v
        sub -= trailing
        wsum += v * 4.0
        trailing = x[trail_idx]
        trail_idx += 1
        smoothed = wsum * 0.1
        wsum -= sub
        even = t % 2 == 0
        p = 0 if even else 1
        i1v = i1_even3 if even else i1_odd3
        det = _filter(buf, prev, prev_in, 0, p, hidx, smoothed, adj)
        q = _filter(buf, prev, prev_in, 1, p, hidx, det, adj)
        ji = _filter(buf, prev, prev_in, 2, p, hidx, i1v, adj)
        jq = _filter(buf, prev, prev_in, 3, p, hidx, q, adj)
        if even:
            hidx += 1
            if hidx == 3:
                hidx = 0
        q2 = 0.2 * (q + ji) + 0.8 * prev_q2
        i2 = 0.2 * (i1v - jq) + 0.8 * prev_i2
        if even:
            i1_odd3 = i1_odd2
            i1_odd2 = det
        else:
            i1_even3 = i1_even2
            i1_even2 = det
        re = 0.2 * (i2 * prev_i2 + q2 * prev_q2) + 0.8 * re
        im = 0.2 * (i2 * prev_q2 - q2 * prev_i2) + 0.8 * im
        prev_q2 = q2
        prev_i2 = i2
        temp = period
        if im != 0.0 and re != 0.0:
            period = 360.0 / (math.atan(im / re) * rad2deg)
        temp2 = 1.5 * temp
        if period > temp2:
            period = temp2
        temp2 = 0.67 * temp
        if period < temp2:
            period = temp2
        if period < 6.0:
            period = 6.0
        elif period > 50.0:
            period = 50.0
        period = 0.2 * period + 0.8 * temp
        smooth_period = 0.33 * period + 0.67 * smooth_period
        smooth[t] = smoothed
        i1[t] = i1v
        q1[t] = q
        sp_out[t] = smooth_period
    return smooth, i1, q1, sp_out


@njit(cache=True)
def _dc_phase(smooth: A, t: int, begin: int, smooth_period: float, phase: float) -> float:
    """TA-Lib's dominant cycle phase at bar t from the previous one (kept when the DFT's
    imaginary part is exactly 0): smoothed prices before ``begin`` count as 0."""
    quarter = math.atan(1.0)
    rad2deg = 45.0 / quarter
    full_turn = quarter * 8.0
    period_int = int(smooth_period + 0.5)
    real = 0.0
    imag = 0.0
    for i in range(period_int):
        angle = float(i) * full_turn / float(period_int)
        v = smooth[t - i] if t - i >= begin else 0.0
        real += math.sin(angle) * v
        imag += math.cos(angle) * v
    size = abs(imag)
    if size > 0.0:
        phase = math.atan(real / imag) * rad2deg
    elif size <= 0.01:
        if real < 0.0:
            phase -= 90.0
        elif real > 0.0:
            phase += 90.0
    phase += 90.0
    phase += 360.0 / smooth_period
    if imag < 0.0:
        phase += 180.0
    if phase > 315.0:
        phase -= 360.0
    return phase


@njit(cache=True)
def _raw_average(x: A, t: int, smooth_period: float) -> float:
    """Mean of the raw price over the last int(period + 0.5) bars (the instantaneous trend)."""
    period_int = int(smooth_period + 0.5)
    total = 0.0
    for i in range(period_int):
        if t - i >= 0:
            total += x[t - i]
    if period_int > 0:
        total = total / float(period_int)
    return total


@njit(cache=True)
def ht_dcperiod(x: A) -> A:
    _, _, _, sp = _core(x, SKIP_SHORT)
    out = nan_like(x)
    for t in range(LOOKBACK_SHORT, x.size):
        out[t] = sp[t]
    return out


@njit(cache=True)
def ht_phasor(x: A) -> tuple[A, A]:
    _, i1, q1, _ = _core(x, SKIP_SHORT)
    inphase = nan_like(x)
    quadrature = nan_like(x)
    for t in range(LOOKBACK_SHORT, x.size):
        inphase[t] = i1[t]
        quadrature[t] = q1[t]
    return inphase, quadrature


@njit(cache=True)
def mama(x: A, fast: float, slow: float) -> tuple[A, A]:
    """MESA adaptive MA: alpha = fast / (phase change), clamped to [slow, fast]."""
    _, i1, q1, _ = _core(x, SKIP_SHORT)
    out_mama = nan_like(x)
    out_fama = nan_like(x)
    rad2deg = 180.0 / (4.0 * math.atan(1.0))
    prev_phase = 0.0
    m = 0.0
    f = 0.0
    for t in range(3 + SKIP_SHORT, x.size):
        phase = math.atan(q1[t] / i1[t]) * rad2deg if i1[t] != 0.0 else 0.0
        delta = prev_phase - phase
        prev_phase = phase
        if delta < 1.0:
            delta = 1.0
        if delta > 1.0:
            alpha = fast / delta
            if alpha < slow:
                alpha = slow
        else:
            alpha = fast
        m = alpha * x[t] + (1 - alpha) * m
        alpha *= 0.5
        f = alpha * m + (1 - alpha) * f
        if t >= LOOKBACK_SHORT:
            out_mama[t] = m
            out_fama[t] = f
    return out_mama, out_fama


@njit(cache=True)
def ht_dcphase(x: A) -> A:
    smooth, _, _, sp = _core(x, SKIP_LONG)
    out = nan_like(x)
    begin = 3 + SKIP_LONG
    phase = 0.0
    for t in range(begin, x.size):
        phase = _dc_phase(smooth, t, begin, sp[t], phase)
        if t >= LOOKBACK_LONG:
            out[t] = phase
    return out


@njit(cache=True)
def ht_sine(x: A) -> tuple[A, A]:
    smooth, _, _, sp = _core(x, SKIP_LONG)
    sine = nan_like(x)
    lead = nan_like(x)
    deg2rad = 1.0 / (45.0 / math.atan(1.0))
    begin = 3 + SKIP_LONG
    phase = 0.0
    for t in range(begin, x.size):
        phase = _dc_phase(smooth, t, begin, sp[t], phase)
        if t >= LOOKBACK_LONG:
            sine[t] = math.sin(phase * deg2rad)
            lead[t] = math.sin((phase + 45) * deg2rad)
    return sine, lead


@njit(cache=True)
def ht_trendline(x: A) -> A:
    _, _, _, sp = _core(x, SKIP_LONG)
    out = nan_like(x)
    it1 = 0.0
    it2 = 0.0
    it3 = 0.0
    for t in range(3 + SKIP_LONG, x.size):
        avg = _raw_average(x, t, sp[t])
        line = (4.0 * avg + 3.0 * it1 + 2.0 * it2 + it3) / 10.0
        it3 = it2
        it2 = it1
        it1 = avg
        if t >= LOOKBACK_LONG:
            out[t] = line
    return out


@njit(cache=True)
def ht_trendmode(x: A) -> A:
    """1 while the market trends, 0 in a cycle mode (TA-Lib's HT_TRENDMODE)."""
    smooth, _, _, sp = _core(x, SKIP_LONG)
    out = nan_like(x)
    deg2rad = 1.0 / (45.0 / math.atan(1.0))
    begin = 3 + SKIP_LONG
    phase = 0.0
    sine = 0.0
    lead = 0.0
    it1 = 0.0
    it2 = 0.0
    it3 = 0.0
    days = 0
    for t in range(begin, x.size):
        period = sp[t]
        prev_phase = phase
        phase = _dc_phase(smooth, t, begin, period, phase)
        prev_sine = sine
        prev_lead = lead
        sine = math.sin(phase * deg2rad)
        lead = math.sin((phase + 45) * deg2rad)
        avg = _raw_average(x, t, period)
        line = (4.0 * avg + 3.0 * it1 + 2.0 * it2 + it3) / 10.0
        it3 = it2
        it2 = it1
        it1 = avg
        trend = 1
        if ((sine > lead and prev_sine <= prev_lead)
                or (sine < lead and prev_sine >= prev_lead)):
            days = 0
            trend = 0
        days += 1
        if days < 0.5 * period:
            trend = 0
        change = phase - prev_phase
        if period != 0.0 and (change > 0.67 * 360.0 / period
                              and change < 1.5 * 360.0 / period):
            trend = 0
        v = smooth[t]
        if line != 0.0 and abs((v - line) / line) >= 0.015:
            trend = 1
        if t >= LOOKBACK_LONG:
            out[t] = float(trend)
    return out
