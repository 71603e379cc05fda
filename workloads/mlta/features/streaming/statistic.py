"""Streaming forms of ``kernels/statistic.py`` (rolling statistics)."""

from __future__ import annotations

import math

from ._base import NAN, RollingMeanVar, sqrt
from .regression import _Linreg


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


class LinearregSlope(_Linreg):
    """The slope of the linear-regression family's running sums (amortised O(1))."""

    __slots__ = ()

    def __init__(self, w: int) -> None:
        super().__init__(w, 4)


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
