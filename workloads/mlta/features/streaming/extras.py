"""Streaming forms of ``kernels/extras.py``, from the ``_base`` mirrors of the helpers the
kernels use (re-summed rolling sums, rolling mean/variance, rolling extremes)."""

from __future__ import annotations

import math
from collections import deque

from ._base import NAN, Lag, RollingExtreme, RollingMeanVar, RollingSum, true_range_at


def _rs_term(o: float, h: float, lo: float, c: float) -> float:
    return math.log(h / c) * math.log(h / o) + math.log(lo / c) * math.log(lo / o)


class RogersSatchell:
    __slots__ = ("mean",)

    def __init__(self, w: int) -> None:
        self.mean = RollingSum(w, float(w))

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        mean = self.mean.update(_rs_term(o, h, lo, c))
        if mean != mean:
            return (NAN,)
        return (math.sqrt(mean) if mean > 0.0 else 0.0,)


class YangZhang:
    __slots__ = ("bessel", "body", "gap", "k", "prev", "rs")

    def __init__(self, w: int) -> None:
        self.gap = RollingMeanVar(w)
        self.body = RollingMeanVar(w)
        self.rs = RollingSum(w, float(w))
        self.k = 0.34 / (1.34 + (w + 1.0) / (w - 1.0))
        self.bessel = w / (w - 1.0)
        self.prev = NAN

    def update(self, o: float, h: float, lo: float, c: float) -> tuple[float]:
        prev = self.prev
        self.prev = c
        if prev != prev:
            return (NAN,)
        _, var_gap = self.gap.update(math.log(o / prev))
        _, var_body = self.body.update(math.log(c / o))
        rs = self.rs.update(_rs_term(o, h, lo, c))
        if rs != rs:
            return (NAN,)
        k = self.k
        total = var_gap * self.bessel + k * (var_body * self.bessel) + (1.0 - k) * rs
        return (math.sqrt(total) if total > 0.0 else 0.0,)


class Ulcer:
    """The batch kernel sums the window's squared drawdowns afresh every bar; so does this."""

    __slots__ = ("peak", "squares", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.peak = RollingExtreme(w, True)
        self.squares: deque[float] = deque(maxlen=w)

    def update(self, c: float) -> tuple[float]:
        peak, _ = self.peak.update(c)
        if peak != peak:
            return (NAN,)
        dd = 100.0 * (c - peak) / peak if peak != 0.0 else 0.0
        self.squares.append(dd * dd)
        if len(self.squares) < self.w:
            return (NAN,)
        total = 0.0
        for v in self.squares:
            total += v
        mean = total / self.w
        return (math.sqrt(mean) if mean > 0.0 else 0.0,)


class Chop:
    __slots__ = ("hi", "low", "prev", "scale", "total")

    def __init__(self, w: int) -> None:
        self.total = RollingSum(w)
        self.hi = RollingExtreme(w, True)
        self.low = RollingExtreme(w, False)
        self.scale = math.log10(float(w))
        self.prev = NAN

    def update(self, h: float, lo: float, c: float) -> tuple[float]:
        prev = self.prev
        self.prev = c
        tr = true_range_at(h, lo, prev) if prev == prev else NAN
        total = self.total.update(tr)
        hi, _ = self.hi.update(h)
        low, _ = self.low.update(lo)
        if total != total:
            return (NAN,)
        rng = hi - low
        return (100.0 * math.log10(total / rng) / self.scale if rng > 0.0 else 100.0,)


class Eom:
    __slots__ = ("divisor", "mean", "prev_h", "prev_l")

    def __init__(self, w: int, divisor: float) -> None:
        self.mean = RollingSum(w, float(w))
        self.divisor = divisor
        self.prev_h = self.prev_l = NAN

    def update(self, h: float, lo: float, v: float) -> tuple[float]:
        ph, pl = self.prev_h, self.prev_l
        self.prev_h, self.prev_l = h, lo
        emv = NAN
        if ph == ph:
            move = (h + lo) / 2.0 - (ph + pl) / 2.0
            emv = self.divisor * move * (h - lo) / v if v > 0.0 else 0.0
        return (self.mean.update(emv),)


class Fisher:
    __slots__ = ("fish", "hi", "low", "row", "value", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.hi = RollingExtreme(w, True)
        self.low = RollingExtreme(w, False)
        self.value = self.fish = 0.0
        self.row = -1

    def update(self, h: float, lo: float) -> tuple[float, float]:
        self.row += 1
        mid = (h + lo) / 2.0
        hi, _ = self.hi.update(mid)
        low, _ = self.low.update(mid)
        if self.row < self.w - 1:
            return (NAN, NAN)
        rng = hi - low
        ratio = (mid - low) / rng if rng > 0.0 else 0.5
        value = 0.66 * (ratio - 0.5) + 0.67 * self.value
        if value > 0.99:
            value = 0.999
        elif value < -0.99:
            value = -0.999
        self.value = value
        prev = self.fish
        self.fish = fish = 0.5 * math.log((1.0 + value) / (1.0 - value)) + 0.5 * prev
        if self.row < self.w:
            return (NAN, NAN)
        return (fish, prev)


class _RocSma:
    __slots__ = ("lag", "mean")

    def __init__(self, r: int, s: int) -> None:
        self.lag = Lag(r)
        self.mean = RollingSum(s, float(s))

    def update(self, c: float) -> float:
        prev = self.lag.update(c)
        roc = NAN
        if prev == prev:
            roc = ((c / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0
        return self.mean.update(roc)


class Kst:
    __slots__ = ("parts", "row", "signal", "start")

    def __init__(self, r1: int, r2: int, r3: int, r4: int, s1: int, s2: int, s3: int, s4: int,
                 signal: int) -> None:
        self.parts = [_RocSma(r1, s1), _RocSma(r2, s2), _RocSma(r3, s3), _RocSma(r4, s4)]
        self.signal = RollingSum(signal, float(signal))
        self.start = max(max(r1 + s1, r2 + s2), max(r3 + s3, r4 + s4)) - 1 + signal - 1
        self.row = -1

    def update(self, c: float) -> tuple[float, float]:
        self.row += 1
        a, b, d, e = (p.update(c) for p in self.parts)
        line = a + 2.0 * b + 3.0 * d + 4.0 * e
        sig = self.signal.update(line)
        if self.row < self.start:
            return (NAN, NAN)
        return (line, sig)


STREAMS = {
    "rogers_satchell": RogersSatchell,
    "yang_zhang": YangZhang,
    "ulcer": Ulcer,
    "chop": Chop,
    "eom": Eom,
    "fisher": Fisher,
    "kst": Kst,
}
