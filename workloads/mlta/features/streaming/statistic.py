"""Streaming forms of ``kernels/statistic.py`` (rolling statistics)."""

from __future__ import annotations

import math
from collections import deque

from ._base import NAN, RollingMeanVar, sqrt


class Stddev:
    __slots__ = ("k", "mv")

    def __init__(self, w: int, k: float) -> None:
        self.mv = RollingMeanVar(w)
        self.k = k

    def update(self, x: float) -> tuple[float]:
        return (sqrt(self.mv.update(x)[1]) * self.k,)


class Var:
    __slots__ = ("mv",)

    def __init__(self, w: int) -> None:
        self.mv = RollingMeanVar(w)

    def update(self, x: float) -> tuple[float]:
        return (self.mv.update(x)[1],)


class LinearregSlope:
    """O(window) per row: the batch kernel re-sums the window every row, so this does too."""

    __slots__ = ("buf", "divisor", "sum_x", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)
        self.sum_x = w * (w - 1) * 0.5
        sum_x2 = w * (w - 1) * (2.0 * w - 1.0) / 6.0
        self.divisor = self.sum_x * self.sum_x - w * sum_x2

    def update(self, x: float) -> tuple[float]:
        buf = self.buf
        buf.append(x)
        w = self.w
        if len(buf) < w:
            return (NAN,)
        sum_xy = 0.0
        sum_y = 0.0
        i = w - 1
        for v in buf:
            sum_y += v
            sum_xy += i * v
            i -= 1
        return ((w * sum_xy - self.sum_x * sum_y) / self.divisor,)


class Zscore:
    __slots__ = ("mv",)

    def __init__(self, w: int) -> None:
        self.mv = RollingMeanVar(w)

    def update(self, x: float) -> tuple[float]:
        mean, var = self.mv.update(x)
        if var != var:
            return (NAN,)
        sd = math.sqrt(var)
        return ((x - mean) / sd if sd > 0.0 else 0.0,)


STREAMS = {
    "stddev": Stddev,
    "var": Var,
    "linearreg_slope": LinearregSlope,
    "zscore": Zscore,
}
