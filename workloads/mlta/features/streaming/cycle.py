"""Streaming forms of ``kernels/cycle.py`` (TA-Lib's Hilbert-transform family and MAMA).

``_Core`` is ``cycle._core`` one bar at a time: the same WMA running sums (with the trailing
value four bars back), the same odd / even filter buffers picked by the bar's index in the
segment, the same period recursion. The phase-based forms keep the last 50 smoothed prices
(TA-Lib's circular buffer; bars before the engine started count as 0) and the last 50 raw
prices for the trendline, and evaluate the kernel's per-bar formula on them in the same order.
"""

from __future__ import annotations

import math
from collections import deque

from mlta.features.kernels.cycle import (
    HA,
    HB,
    LOOKBACK_LONG,
    LOOKBACK_SHORT,
    SKIP_LONG,
    SKIP_SHORT,
)

from ._base import NAN

_QUARTER = math.atan(1.0)
_RAD2DEG = 180.0 / (4.0 * _QUARTER)
_RAD2DEG_PHASE = 45.0 / _QUARTER
_DEG2RAD = 1.0 / _RAD2DEG_PHASE
_FULL_TURN = _QUARTER * 8.0


class _Core:
    """Mirror of ``cycle._core``: ``update`` returns (smoothed, I1, Q1, smoothed period) from
    bar ``3 + skip`` on, None before."""

    __slots__ = ("begin", "buf", "hidx", "i1_even2", "i1_even3", "i1_odd2", "i1_odd3", "im",
                 "last4", "period", "prev", "prev_i2", "prev_in", "prev_q2", "re", "row",
                 "smooth_period", "sub", "trailing", "wsum")

    def __init__(self, skip: int) -> None:
        self.begin = 3 + skip
        self.row = -1
        self.sub = self.wsum = 0.0
        self.trailing = 0.0
        self.last4: deque[float] = deque(maxlen=4)
        # [filter][parity][slot]: detrender, Q1, jI, jQ; parity 0 even, 1 odd
        self.buf = [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]] for _ in range(4)]
        self.prev = [[0.0, 0.0] for _ in range(4)]
        self.prev_in = [[0.0, 0.0] for _ in range(4)]
        self.hidx = 0
        self.period = self.smooth_period = 0.0
        self.prev_q2 = self.prev_i2 = self.re = self.im = 0.0
        self.i1_even3 = self.i1_odd3 = self.i1_even2 = self.i1_odd2 = 0.0

    def _filter(self, f: int, p: int, value: float, adj: float) -> float:
        temp = HA * value
        slot = self.buf[f][p]
        out = 0.0 - slot[self.hidx]
        slot[self.hidx] = temp
        out += temp
        prev = self.prev[f]
        out -= prev[p]
        prev[p] = HB * self.prev_in[f][p]
        out += prev[p]
        self.prev_in[f][p] = value
        out *= adj
        return out

    def update(self, v: float) -> tuple[float, float, float, float] | None:
        self.row += 1
        t = self.row
        self.last4.append(v)
        if t < 3:
            if t == 0:
                self.sub = v
                self.wsum = v
            else:
                self.sub += v
                self.wsum += v * (2.0 if t == 1 else 3.0)
            return None
        adj = 0.075 * self.period + 0.54
        sub = self.sub + v
        sub -= self.trailing
        wsum = self.wsum + v * 4.0
        self.trailing = self.last4[0]  # the value 3 bars back
        smoothed = wsum * 0.1
        wsum -= sub
        self.sub = sub
        self.wsum = wsum
        if t < self.begin:
            return None
        even = t % 2 == 0
        p = 0 if even else 1
        i1v = self.i1_even3 if even else self.i1_odd3
        det = self._filter(0, p, smoothed, adj)
        q = self._filter(1, p, det, adj)
        ji = self._filter(2, p, i1v, adj)
        jq = self._filter(3, p, q, adj)
        if even:
            self.hidx += 1
            if self.hidx == 3:
                self.hidx = 0
        q2 = 0.2 * (q + ji) + 0.8 * self.prev_q2
        i2 = 0.2 * (i1v - jq) + 0.8 * self.prev_i2
        if even:
            self.i1_odd3 = self.i1_odd2
            self.i1_odd2 = det
        else:
            self.i1_even3 = self.i1_even2
            self.i1_even2 = det
        prev_i2, prev_q2 = self.prev_i2, self.prev_q2
        self.re = re = 0.2 * (i2 * prev_i2 + q2 * prev_q2) + 0.8 * self.re
        self.im = im = 0.2 * (i2 * prev_q2 - q2 * prev_i2) + 0.8 * self.im
        self.prev_q2 = q2
        self.prev_i2 = i2
        temp = period = self.period
        if im != 0.0 and re != 0.0:
            period = 360.0 / (math.atan(im / re) * _RAD2DEG)
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
        self.period = period = 0.2 * period + 0.8 * temp
        self.smooth_period = 0.33 * period + 0.67 * self.smooth_period
        return smoothed, i1v, q, self.smooth_period


class _Phase:
    """Mirror of ``cycle._dc_phase`` over the last 50 smoothed prices (newest first)."""

    __slots__ = ("phase", "smooth")

    def __init__(self) -> None:
        self.smooth: deque[float] = deque([0.0] * 50, maxlen=50)
        self.phase = 0.0

    def update(self, smoothed: float, smooth_period: float) -> float:
        self.smooth.appendleft(smoothed)
        period_int = int(smooth_period + 0.5)
        real = 0.0
        imag = 0.0
        smooth = self.smooth
        for i in range(period_int):
            angle = float(i) * _FULL_TURN / float(period_int)
            v = smooth[i]
            real += math.sin(angle) * v
            imag += math.cos(angle) * v
        phase = self.phase
        size = abs(imag)
        if size > 0.0:
            phase = math.atan(real / imag) * _RAD2DEG_PHASE
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
        self.phase = phase
        return phase


class _Trend:
    """Mirror of ``cycle._raw_average`` plus the 4-3-2-1 weighted instantaneous trendline."""

    __slots__ = ("it1", "it2", "it3", "raw")

    def __init__(self) -> None:
        self.raw: deque[float] = deque(maxlen=51)
        self.it1 = self.it2 = self.it3 = 0.0

    def push(self, v: float) -> None:
        self.raw.appendleft(v)

    def update(self, smooth_period: float) -> float:
        period_int = int(smooth_period + 0.5)
        total = 0.0
        raw = self.raw
        for i in range(period_int):
            if i < len(raw):
                total += raw[i]
        if period_int > 0:
            total = total / float(period_int)
        line = (4.0 * total + 3.0 * self.it1 + 2.0 * self.it2 + self.it3) / 10.0
        self.it3 = self.it2
        self.it2 = self.it1
        self.it1 = total
        return line


class HtDcPeriod:
    __slots__ = ("core",)

    def __init__(self) -> None:
        self.core = _Core(SKIP_SHORT)

    def update(self, x: float) -> tuple[float]:
        got = self.core.update(x)
        if got is None or self.core.row < LOOKBACK_SHORT:
            return (NAN,)
        return (got[3],)


class HtPhasor:
    __slots__ = ("core",)

    def __init__(self) -> None:
        self.core = _Core(SKIP_SHORT)

    def update(self, x: float) -> tuple[float, float]:
        got = self.core.update(x)
        if got is None or self.core.row < LOOKBACK_SHORT:
            return (NAN, NAN)
        return (got[1], got[2])


class Mama:
    __slots__ = ("core", "f", "fast", "m", "prev_phase", "slow")

    def __init__(self, fast: float, slow: float) -> None:
        self.core = _Core(SKIP_SHORT)
        self.fast = fast
        self.slow = slow
        self.prev_phase = self.m = self.f = 0.0

    def update(self, x: float) -> tuple[float, float]:
        got = self.core.update(x)
        if got is None:
            return (NAN, NAN)
        _, i1, q1, _ = got
        phase = math.atan(q1 / i1) * _RAD2DEG if i1 != 0.0 else 0.0
        delta = self.prev_phase - phase
        self.prev_phase = phase
        if delta < 1.0:
            delta = 1.0
        if delta > 1.0:
            alpha = self.fast / delta
            if alpha < self.slow:
                alpha = self.slow
        else:
            alpha = self.fast
        self.m = m = alpha * x + (1 - alpha) * self.m
        alpha *= 0.5
        self.f = alpha * m + (1 - alpha) * self.f
        if self.core.row < LOOKBACK_SHORT:
            return (NAN, NAN)
        return (m, self.f)


class HtDcPhase:
    __slots__ = ("core", "phase")

    def __init__(self) -> None:
        self.core = _Core(SKIP_LONG)
        self.phase = _Phase()

    def update(self, x: float) -> tuple[float]:
        got = self.core.update(x)
        if got is None:
            return (NAN,)
        phase = self.phase.update(got[0], got[3])
        return (phase if self.core.row >= LOOKBACK_LONG else NAN,)


class HtSine:
    __slots__ = ("core", "phase")

    def __init__(self) -> None:
        self.core = _Core(SKIP_LONG)
        self.phase = _Phase()

    def update(self, x: float) -> tuple[float, float]:
        got = self.core.update(x)
        if got is None:
            return (NAN, NAN)
        phase = self.phase.update(got[0], got[3])
        if self.core.row < LOOKBACK_LONG:
            return (NAN, NAN)
        return (math.sin(phase * _DEG2RAD), math.sin((phase + 45) * _DEG2RAD))


class HtTrendline:
    __slots__ = ("core", "trend")

    def __init__(self) -> None:
        self.core = _Core(SKIP_LONG)
        self.trend = _Trend()

    def update(self, x: float) -> tuple[float]:
        self.trend.push(x)
        got = self.core.update(x)
        if got is None:
            return (NAN,)
        line = self.trend.update(got[3])
        return (line if self.core.row >= LOOKBACK_LONG else NAN,)


class HtTrendmode:
    __slots__ = ("core", "days", "lead", "phase", "sine", "trend")

    def __init__(self) -> None:
        self.core = _Core(SKIP_LONG)
        self.phase = _Phase()
        self.trend = _Trend()
        self.sine = self.lead = 0.0
        self.days = 0

    def update(self, x: float) -> tuple[float]:
        self.trend.push(x)
        got = self.core.update(x)
        if got is None:
            return (NAN,)
        smoothed, _, _, period = got
        prev_phase = self.phase.phase
        phase = self.phase.update(smoothed, period)
        prev_sine, prev_lead = self.sine, self.lead
        self.sine = sine = math.sin(phase * _DEG2RAD)
        self.lead = lead = math.sin((phase + 45) * _DEG2RAD)
        line = self.trend.update(period)
        trend = 1
        if ((sine > lead and prev_sine <= prev_lead)
                or (sine < lead and prev_sine >= prev_lead)):
            self.days = 0
            trend = 0
        self.days += 1
        if self.days < 0.5 * period:
            trend = 0
        change = phase - prev_phase
        if period != 0.0 and (change > 0.67 * 360.0 / period
                              and change < 1.5 * 360.0 / period):
            trend = 0
        if line != 0.0 and abs((smoothed - line) / line) >= 0.015:
            trend = 1
        return (float(trend) if self.core.row >= LOOKBACK_LONG else NAN,)


STREAMS = {
    "ht_dcperiod": HtDcPeriod,
    "ht_phasor": HtPhasor,
    "mama": Mama,
    "ht_dcphase": HtDcPhase,
    "ht_sine": HtSine,
    "ht_trendline": HtTrendline,
    "ht_trendmode": HtTrendmode,
}
