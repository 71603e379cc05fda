"""Streaming primitives, one per building block in ``kernels/_common.py``.

Why they agree with the batch kernels bit for bit: every primitive performs the same IEEE
operations, on the same operands, in the same order as the batch helper it mirrors. The places
where a batch kernel's result depends on *where* it is in the series are reproduced, not
approximated: rolling sums are re-summed from scratch at the same absolute indices (every
``w`` steps counted from the first finite value), EMAs are seeded from the same SMA at the same
index, the rolling extreme rescans its window at the same moments. Python floats are IEEE
doubles and numba compiles without fast-math, so equal operation sequences give equal bits.

A few scalar operations differ between numba's array semantics and Python's: ``x / 0.0``
raises ZeroDivisionError in Python (numpy gives inf or NaN), ``math.log(0.0)`` raises
(numpy gives -inf). ``div`` and ``log`` reproduce numpy's answers; they are used wherever the
batch kernel divides or takes logs of whole arrays.

All primitives accept NaN before their first finite value (the batch helpers skip leading NaN
via ``first_valid``), so they compose the way the batch kernels compose (an EMA of an EMA).
"""

from __future__ import annotations

import math
from collections import deque

NAN = math.nan


def div(a: float, b: float) -> float:
    """``a / b`` with numpy's answers for a zero divisor (inf with the right sign, or NaN)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def log(x: float) -> float:
    """``math.log`` with numpy's answers outside its domain (-inf at 0, NaN below)."""
    try:
        return math.log(x)
    except ValueError:
        return -math.inf if x == 0.0 else NAN


def sqrt(x: float) -> float:
    """``math.sqrt`` with numpy's NaN for a negative argument."""
    try:
        return math.sqrt(x)
    except ValueError:
        return NAN


class RollingSum:
    """Mirror of ``_common.rolling_sum``: the sum of the last ``w`` values over ``divisor``.

    The batch helper re-sums the window exactly at indices ``s + w - 1 + k*w`` (``s`` the first
    non-NaN index) and otherwise adds ``x[t] - x[t-w]``; ``due`` counts down to the next
    re-summation so the same rows get the same treatment here.
    """

    __slots__ = ("acc", "buf", "divisor", "due", "started", "w")

    def __init__(self, w: int, divisor: float = 1.0) -> None:
        self.w = w
        self.divisor = divisor
        self.buf: deque[float] = deque(maxlen=w)
        self.acc = 0.0
        self.due = w - 1  # rows until the next exact re-summation
        self.started = False

    def update(self, x: float) -> float:
        if not self.started:
            if x != x:
                return NAN
            self.started = True
        buf = self.buf
        if self.due:
            if len(buf) == self.w:
                self.acc += x - buf[0]
                buf.append(x)
                self.due -= 1
                return self.acc / self.divisor
            buf.append(x)
            self.due -= 1
            return NAN
        buf.append(x)
        acc = 0.0
        for v in buf:
            acc += v
        self.acc = acc
        self.due = self.w - 1
        return acc / self.divisor


class RollingMeanVar:
    """Mirror of ``_common.rolling_mean_var``: rolling mean and clamped population variance.

    Sums are of ``x - k`` with ``k`` the value at each re-summation row, as in the batch form.
    """

    __slots__ = ("buf", "due", "k", "s1", "s2", "started", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)
        self.k = 0.0
        self.s1 = 0.0
        self.s2 = 0.0
        self.due = w - 1
        self.started = False

    def update(self, x: float) -> tuple[float, float]:
        if not self.started:
            if x != x:
                return NAN, NAN
            self.started = True
        buf = self.buf
        w = self.w
        if self.due:
            if len(buf) < w:
                buf.append(x)
                self.due -= 1
                return NAN, NAN
            k = self.k
            d_in = x - k
            d_out = buf[0] - k
            self.s1 += d_in - d_out
            self.s2 += d_in * d_in - d_out * d_out
            buf.append(x)
            self.due -= 1
        else:
            buf.append(x)
            k = self.k = x
            s1 = 0.0
            s2 = 0.0
            for v in buf:
                d = v - k
                s1 += d
                s2 += d * d
            self.s1 = s1
            self.s2 = s2
            self.due = w - 1
        m = self.s1 / w
        v = self.s2 / w - m * m
        return k + m, (v if v > 0.0 else 0.0)


class EmaSeeded:
    """Mirror of ``_common.ema_seeded``: factor ``k``, seeded at row ``seed_end`` (counted from
    the first row this primitive sees) with the mean of the ``w`` values ending there."""

    __slots__ = ("buf", "k", "keep", "prev", "row", "seed_end", "w")

    def __init__(self, w: int, k: float, seed_end: int) -> None:
        self.w = w
        self.k = k
        self.keep = 1.0 - k  # the kernels' loop-invariant (1.0 - k): the same double
        self.seed_end = seed_end
        self.buf: deque[float] = deque(maxlen=w)
        self.row = -1
        self.prev = NAN

    def update(self, x: float) -> float:
        self.row += 1
        row = self.row
        if row > self.seed_end:
            if self.seed_end - self.w + 1 < 0:
                return NAN
            self.prev = self.prev * self.keep + x * self.k
            return self.prev
        self.buf.append(x)
        if row < self.seed_end or self.seed_end - self.w + 1 < 0:
            return NAN
        acc = 0.0
        for v in self.buf:
            acc += v
        self.prev = acc / self.w
        return self.prev


class Ema:
    """Mirror of ``_common.ema``: k = 2/(w+1) (or ``k``: Wilder's RMA passes 1/w), seeded with
    the SMA of the first ``w`` finite values (leading NaN rows are skipped, so an EMA of an EMA
    seeds where the batch one does)."""

    __slots__ = ("acc", "count", "k", "keep", "prev", "w")

    def __init__(self, w: int, k: float | None = None) -> None:
        self.w = w
        self.k = 2.0 / (w + 1.0) if k is None else k
        self.keep = 1.0 - self.k
        self.count = 0
        self.acc = 0.0
        self.prev = NAN

    def update(self, x: float) -> float:
        count = self.count
        if count >= self.w:
            self.prev = self.prev * self.keep + x * self.k
            return self.prev
        if count == 0 and x != x:
            return NAN
        self.acc += x
        self.count = count + 1
        if count + 1 == self.w:
            self.prev = self.acc / self.w
            return self.prev
        return NAN


class RollingExtreme:
    """Mirror of ``_common.rolling_extreme_index`` (+ ``take``): the max (or min) of the last
    ``w`` values and its row; ties go to the most recent row, and the window is rescanned only
    when the current extreme leaves it, exactly when the batch form rescans. With
    ``rescan_keeps_oldest`` a rescan keeps the oldest tie (``regression._extreme_index``)."""

    __slots__ = ("best", "best_i", "buf", "highest", "oldest", "row", "w")

    def __init__(self, w: int, highest: bool, rescan_keeps_oldest: bool = False) -> None:
        self.w = w
        self.highest = highest
        self.oldest = rescan_keeps_oldest
        self.buf: deque[float] = deque(maxlen=w)
        self.row = -1  # rows since the first non-NaN value
        self.best_i = -1
        self.best = 0.0

    def update(self, x: float) -> tuple[float, int]:
        """(extreme value, its row counted from the first non-NaN value) or (NaN, -1)."""
        if self.row < 0 and x != x:
            return NAN, -1
        self.row += 1
        t = self.row
        self.buf.append(x)
        w = self.w
        if t < w - 1:
            return NAN, -1
        trailing = t - w + 1
        if self.best_i < trailing:
            it = iter(self.buf)
            best = next(it)
            best_i = trailing
            i = trailing
            highest, oldest = self.highest, self.oldest
            for v in it:
                i += 1
                if highest:
                    better = v > best if oldest else v >= best
                else:
                    better = v < best if oldest else v <= best
                if better:
                    best_i = i
                    best = v
            self.best_i = best_i
            self.best = best
        elif (x >= self.best) if self.highest else (x <= self.best):
            self.best_i = t
            self.best = x
        return self.best, self.best_i


class Wma:
    """Mirror of ``overlap.wma``: weights 1..w, running sums re-summed every ``w`` rows."""

    __slots__ = ("buf", "divider", "due", "plain", "started", "w", "weighted")

    def __init__(self, w: int) -> None:
        self.w = w
        self.divider = w * (w + 1) / 2.0
        self.buf: deque[float] = deque(maxlen=w)
        self.plain = 0.0
        self.weighted = 0.0
        self.due = w - 1
        self.started = False

    def update(self, x: float) -> float:
        if not self.started:
            if x != x:
                return NAN
            self.started = True
        buf = self.buf
        w = self.w
        if self.due:
            if len(buf) == w:
                self.weighted += w * x - self.plain
                self.plain += x - buf[0]
                buf.append(x)
                self.due -= 1
                return self.weighted / self.divider
            buf.append(x)
            self.due -= 1
            return NAN
        buf.append(x)
        plain = 0.0
        weighted = 0.0
        j = 0
        for v in buf:
            plain += v
            weighted += v * (j + 1)
            j += 1
        self.plain = plain
        self.weighted = weighted
        self.due = w - 1
        return weighted / self.divider


class Lag:
    """The value ``w`` rows back (NaN until there is one)."""

    __slots__ = ("buf", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w + 1)

    def update(self, x: float) -> float:
        buf = self.buf
        buf.append(x)
        return buf[0] if len(buf) > self.w else NAN


def true_range_at(high: float, low: float, prev_close: float) -> float:
    """Mirror of ``_common.true_range_at``."""
    tr = high - low
    a = abs(high - prev_close)
    if a > tr:
        tr = a
    b = abs(low - prev_close)
    if b > tr:
        tr = b
    return tr
