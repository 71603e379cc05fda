"""Streaming forms of the column transforms (``features/transforms.py``), one value at a time.

They agree with the batch transforms bit for bit because they perform the same IEEE
operations in the same order: the lag family reads the same earlier value and applies the same
single operation; ``RollingMoments`` is ``_transform_kernels.rolling_moments`` unrolled into a
state (same running sums of ``x - k``, same re-summation rows: every ``w`` rows and whenever
the window becomes all-finite again). Python's ``math.isfinite``/``math.sqrt`` and float
arithmetic are IEEE doubles like numba's without fast-math.

The transforms need no reset on a gap: a NaN input flows through them exactly as it does in
the batch arrays (``StreamingFeatureSet.reset`` still clears them with the indicators).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from ..transforms import ROLLING, TransformStep

NAN = math.nan


class LagFamily:
    """lag / diff / pct_change of one input for several periods, from one history buffer."""

    __slots__ = ("buf", "kind", "nans", "offsets")

    def __init__(self, kind: str, periods: tuple[int, ...]) -> None:
        self.kind = kind
        self.offsets = tuple(-1 - p for p in periods)
        self.buf: deque[float] = deque(maxlen=max(periods) + 1)
        self.nans = (NAN,) * len(periods)

    def update(self, x: float) -> tuple[float, ...]:
        buf = self.buf
        buf.append(x)
        size = len(buf)
        kind = self.kind
        out: list[float] = []
        for off in self.offsets:
            if size < -off:
                out.append(NAN)
                continue
            prev = buf[off]
            if kind == "lag":
                out.append(prev)
            elif kind == "diff":
                out.append(x - prev)
            else:
                out.append(x / prev - 1.0 if prev != 0.0 else NAN)
        return tuple(out)


class Lag1:
    """The common single-period lag, without the loop (same values as ``LagFamily``)."""

    __slots__ = ("buf", "p")

    def __init__(self, p: int) -> None:
        self.p = p
        self.buf: deque[float] = deque(maxlen=p + 1)

    def update(self, x: float) -> tuple[float, ...]:
        buf = self.buf
        buf.append(x)
        return (buf[0],) if len(buf) > self.p else (NAN,)


class RollingMoments:
    """Mirror of ``rolling_moments``: returns (mean, population std, z-score) per row."""

    __slots__ = ("bad", "buf", "k", "s1", "s2", "since", "valid", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)
        self.bad = 0
        self.valid = False
        self.since = 0
        self.k = 0.0
        self.s1 = 0.0
        self.s2 = 0.0

    def update(self, x: float) -> tuple[float, float, float]:
        buf = self.buf
        w = self.w
        full = len(buf) == w
        old = buf[0] if full else NAN
        buf.append(x)
        if not math.isfinite(x):
            self.bad += 1
        if full and not math.isfinite(old):
            self.bad -= 1
        if len(buf) < w or self.bad > 0:
            self.valid = False
            return NAN, NAN, NAN
        if self.valid and self.since < w:
            k = self.k
            d_in = x - k
            d_out = old - k
            self.s1 += d_in - d_out
            self.s2 += d_in * d_in - d_out * d_out
            self.since += 1
        else:
            k = self.k = x
            s1 = 0.0
            s2 = 0.0
            for v in buf:
                d = v - k
                s1 += d
                s2 += d * d
            self.s1 = s1
            self.s2 = s2
            self.valid = True
            self.since = 1
        m = self.s1 / w
        v = self.s2 / w - m * m
        v = v if v > 0.0 else 0.0
        sd = math.sqrt(v)
        return k + m, sd, ((x - k) - m) / sd if sd > 0.0 else 0.0


class RollingFamily:
    """One rolling kind of one input for several windows."""

    __slots__ = ("states", "which")

    def __init__(self, kind: str, periods: tuple[int, ...]) -> None:
        self.which = ROLLING[kind]
        self.states = [RollingMoments(w) for w in periods]

    def update(self, x: float) -> tuple[float, ...]:
        which = self.which
        return tuple(state.update(x)[which] for state in self.states)


class RollingOne:
    """A single rolling window (the common case, without the loop)."""

    __slots__ = ("state", "which")

    def __init__(self, kind: str, w: int) -> None:
        self.which = ROLLING[kind]
        self.state = RollingMoments(w)

    def update(self, x: float) -> tuple[float, ...]:
        return (self.state.update(x)[self.which],)


def make_state(step: TransformStep) -> Callable[[float], tuple[float, ...]]:
    """A fresh streaming state for ``step``; call it with each new input value."""
    state: LagFamily | Lag1 | RollingFamily | RollingOne
    if step.kind in ROLLING:
        if len(step.periods) == 1:
            state = RollingOne(step.kind, step.periods[0])
        else:
            state = RollingFamily(step.kind, step.periods)
    elif step.kind == "lag" and len(step.periods) == 1:
        state = Lag1(step.periods[0])
    else:
        state = LagFamily(step.kind, step.periods)
    return state.update


def run(step: TransformStep, values: list[float]) -> dict[str, list[float]]:
    """Stream a whole input through a fresh state (what the parity tests compare)."""
    update = make_state(step)
    rows = [update(x) for x in values]
    return {name: [row[i] for row in rows] for i, name in enumerate(step.outputs)}
