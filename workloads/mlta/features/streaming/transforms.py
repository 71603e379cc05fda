"""Streaming forms of the column transforms (``features/transforms.py``), one value at a time.

They agree with the batch transforms bit for bit because they perform the same IEEE
operations in the same order: the lag family reads the same earlier value and applies the same
single operation; ``RollingMoments`` is ``_transform_kernels.rolling_moments`` unrolled into a
state (same running sums of ``x - k``, same re-summation rows: every ``w`` rows and whenever
the window becomes all-finite again; same exact answer for a window of equal values).
Python's ``math.isfinite``/``math.sqrt`` and float arithmetic are IEEE doubles like numba's
without fast-math.

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

    __slots__ = ("buf", "kind", "offsets", "size")

    def __init__(self, kind: str, periods: tuple[int, ...]) -> None:
        self.kind = kind
        self.offsets = tuple(-1 - p for p in periods)
        self.size = max(periods) + 1
        self.buf: deque[float] = deque(maxlen=self.size)

    def update(self, x: float) -> tuple[float, ...]:
        buf = self.buf
        buf.append(x)
        kind = self.kind
        if len(buf) == self.size:  # steady state: every period has its earlier value
            if kind == "lag":
                return tuple([buf[off] for off in self.offsets])
            if kind == "diff":
                return tuple([x - buf[off] for off in self.offsets])
            return tuple([_pct(x, buf[off]) for off in self.offsets])
        have = len(buf)
        if kind == "lag":
            return tuple([buf[off] if have >= -off else NAN for off in self.offsets])
        if kind == "diff":
            return tuple([x - buf[off] if have >= -off else NAN for off in self.offsets])
        return tuple([_pct(x, buf[off]) if have >= -off else NAN for off in self.offsets])


def _pct(x: float, prev: float) -> float:
    return x / prev - 1.0 if prev != 0.0 else NAN


class LagOne:
    """A single-period lag / diff / pct_change (the common case, without the loop)."""

    __slots__ = ("buf", "kind", "p")

    def __init__(self, kind: str, p: int) -> None:
        self.kind = kind
        self.p = p
        self.buf: deque[float] = deque(maxlen=p + 1)

    def update(self, x: float) -> tuple[float, ...]:
        buf = self.buf
        buf.append(x)
        if len(buf) <= self.p:
            return (NAN,)
        prev = buf[0]
        kind = self.kind
        if kind == "lag":
            return (prev,)
        if kind == "diff":
            return (x - prev,)
        return (_pct(x, prev),)


class RollingMoments:
    """Mirror of ``rolling_moments`` for one window; ``update`` returns the 1-tuple of the
    mean (``which`` 0), population std (1) or z-score (2)."""

    __slots__ = ("bad", "buf", "k", "prev", "run", "s1", "s2", "since", "valid", "w", "which")

    def __init__(self, w: int, which: int = 2) -> None:
        self.w = w
        self.which = which
        self.buf: deque[float] = deque(maxlen=w)
        self.bad = 0
        self.valid = False
        self.since = 0
        self.k = 0.0
        self.s1 = 0.0
        self.s2 = 0.0
        self.prev = NAN
        self.run = 0

    def update(self, x: float) -> tuple[float]:
        buf = self.buf
        w = self.w
        run = self.run = self.run + 1 if x == self.prev else 1
        self.prev = x
        full = len(buf) == w
        old = buf[0] if full else NAN
        buf.append(x)
        if not math.isfinite(x):
            self.bad += 1
        if full and not math.isfinite(old):
            self.bad -= 1
        if (not full and len(buf) < w) or self.bad > 0:
            self.valid = False
            return (NAN,)
        if self.valid and self.since < w:
            k = self.k
            d_in = x - k
            d_out = old - k
            s1 = self.s1 = self.s1 + (d_in - d_out)
            s2 = self.s2 = self.s2 + (d_in * d_in - d_out * d_out)
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
        if run >= w:
            return (x if self.which == 0 else 0.0,)
        m = s1 / w
        which = self.which
        if which == 0:
            return (k + m,)
        v = s2 / w - m * m
        sd = math.sqrt(v) if v > 0.0 else 0.0
        if which == 1:
            return (sd,)
        return (((x - k) - m) / sd if sd > 0.0 else 0.0,)


class RollingFamily:
    """One rolling kind of one input for several windows."""

    __slots__ = ("states",)

    def __init__(self, kind: str, periods: tuple[int, ...]) -> None:
        self.states = [RollingMoments(w, ROLLING[kind]) for w in periods]

    def update(self, x: float) -> tuple[float, ...]:
        return tuple(state.update(x)[0] for state in self.states)


def make_state(step: TransformStep) -> Callable[[float], tuple[float, ...]]:
    """A fresh streaming state for ``step``; call it with each new input value."""
    state: LagFamily | LagOne | RollingFamily | RollingMoments
    if step.kind in ROLLING:
        if len(step.periods) == 1:
            state = RollingMoments(step.periods[0], ROLLING[step.kind])
        else:
            state = RollingFamily(step.kind, step.periods)
    elif len(step.periods) == 1:
        state = LagOne(step.kind, step.periods[0])
    else:
        state = LagFamily(step.kind, step.periods)
    return state.update


def run(step: TransformStep, values: list[float]) -> dict[str, list[float]]:
    """Stream a whole input through a fresh state (what the parity tests compare)."""
    update = make_state(step)
    rows = [update(x) for x in values]
    return {name: [row[i] for row in rows] for i, name in enumerate(step.outputs)}
