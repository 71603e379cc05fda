"""Streaming forms of ``kernels/regression.py`` (rolling regression, correlation, order
statistics). AVGDEV and BETA re-sum their window every row in the batch kernels, so their
streams are O(window) per row; the linear-regression family and CORREL re-sum every w rows
at the kernel's rows and are amortised O(1)."""

from __future__ import annotations

import math
from collections import deque

from ._base import NAN, RollingExtreme, RollingSum


class RegressionSums:
    """The regression kernels' running sums (``kernels.regression._linreg``): taken afresh,
    oldest value first, at rows w-1, 2w-1, ... of the stream and moved one bar at a time in
    between with the kernel's operations, so every sum is the kernel's bit for bit."""

    __slots__ = ("buf", "row", "sum_xy", "sum_y", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)
        self.row = -1
        self.sum_y = 0.0
        self.sum_xy = 0.0

    def update(self, x: float) -> bool:
        """Take one value; True once the sums cover a full window."""
        self.row += 1
        buf = self.buf
        w = self.w
        y_out = buf[0] if len(buf) == w else NAN
        buf.append(x)
        row = self.row
        if row < w - 1:
            return False
        if (row - (w - 1)) % w == 0:
            sum_y = 0.0
            sum_xy = 0.0
            i = w - 1
            for v in buf:
                sum_y += v
                sum_xy += i * v
                i -= 1
            self.sum_y = sum_y
            self.sum_xy = sum_xy
        else:
            self.sum_xy += self.sum_y - w * y_out
            self.sum_y += x - y_out
        return True


class _Linreg:
    __slots__ = ("divisor", "sum_x", "sums", "w", "what")

    def __init__(self, w: int, what: int) -> None:
        self.w = w
        self.what = what
        self.sums = RegressionSums(w)
        self.sum_x = w * (w - 1) * 0.5
        sum_x2 = w * (w - 1) * (2.0 * w - 1.0) / 6.0
        self.divisor = self.sum_x * self.sum_x - w * sum_x2

    def value(self, x: float) -> float:
        sums = self.sums
        if not sums.update(x):
            return NAN
        w = self.w
        m = (w * sums.sum_xy - self.sum_x * sums.sum_y) / self.divisor
        what = self.what
        if what == 4:
            return m
        b = (sums.sum_y - m * self.sum_x) / w
        if what == 0:
            return b + m * (w - 1)
        if what == 1:
            return b
        if what == 2:
            return math.atan(m) * (180.0 / math.pi)
        return b + m * w

    def update(self, x: float) -> tuple[float]:
        return (self.value(x),)


def _linreg(what: int) -> type:
    class Linreg(_Linreg):
        __slots__ = ()

        def __init__(self, w: int) -> None:
            super().__init__(w, what)

    return Linreg


class Fosc(_Linreg):
    __slots__ = ("prev",)

    def __init__(self, w: int) -> None:
        super().__init__(w, 3)
        self.prev = NAN

    def update(self, x: float) -> tuple[float]:
        prev = self.prev
        self.prev = self.value(x)
        if prev != prev:
            return (NAN,)
        return (100.0 * (x - prev) / x if x != 0.0 else 0.0,)


class Beta:
    """Two-pass per window over the last w one-bar returns (O(window) per row, like the kernel)."""

    __slots__ = ("buf", "prev_x", "prev_y", "row", "w", "zero")

    def __init__(self, w: int) -> None:
        from mlta.features.kernels.regression import RETURN_VAR_ZERO

        self.zero = RETURN_VAR_ZERO
        self.w = w
        self.buf: deque[tuple[float, float]] = deque(maxlen=w)
        self.prev_x = self.prev_y = NAN
        self.row = -1

    def update(self, x: float, y: float) -> tuple[float]:
        self.row += 1
        px, py = self.prev_x, self.prev_y
        self.prev_x, self.prev_y = x, y
        if self.row == 0:
            return (NAN,)
        rx = (x - px) / px if px != 0.0 else 0.0
        ry = (y - py) / py if py != 0.0 else 0.0
        buf = self.buf
        buf.append((rx, ry))
        w = self.w
        if self.row < w:
            return (NAN,)
        mx = 0.0
        my = 0.0
        for a, b in buf:
            mx += a
            my += b
        mx /= w
        my /= w
        sxx = 0.0
        sxy = 0.0
        for a, b in buf:
            sxx += (a - mx) * (a - mx)
            sxy += (a - mx) * (b - my)
        return (sxy / sxx if w * sxx >= self.zero else 0.0,)


class Correl:
    """Sums of x - Kx and y - Ky, re-centred and re-summed at the kernel's rows (every w)."""

    __slots__ = ("buf", "due", "kx", "ky", "sx", "sxx", "sxy", "sy", "syy", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[tuple[float, float]] = deque(maxlen=w)
        self.kx = self.ky = 0.0
        self.sx = self.sy = self.sxx = self.syy = self.sxy = 0.0
        self.due = w - 1

    def update(self, x: float, y: float) -> tuple[float]:
        buf = self.buf
        w = self.w
        if self.due:
            if len(buf) < w:
                buf.append((x, y))
                self.due -= 1
                return (NAN,)
            kx, ky = self.kx, self.ky
            a = x - kx
            b = y - ky
            x0, y0 = buf[0]
            a0 = x0 - kx
            b0 = y0 - ky
            self.sx += a - a0
            self.sy += b - b0
            self.sxx += a * a - a0 * a0
            self.syy += b * b - b0 * b0
            self.sxy += a * b - a0 * b0
            buf.append((x, y))
            self.due -= 1
        else:
            buf.append((x, y))
            kx = self.kx = x
            ky = self.ky = y
            sx = sy = sxx = syy = sxy = 0.0
            for u, v in buf:
                a = u - kx
                b = v - ky
                sx += a
                sy += b
                sxx += a * a
                syy += b * b
                sxy += a * b
            self.sx, self.sy, self.sxx, self.syy, self.sxy = sx, sy, sxx, syy, sxy
            self.due = w - 1
        sx, sy = self.sx, self.sy
        vx = self.sxx - sx * sx / w
        vy = self.syy - sy * sy / w
        den = vx * vy
        return ((self.sxy - sx * sy / w) / math.sqrt(den) if (vx > 0.0 and vy > 0.0) else 0.0,)


class Avgdev:
    __slots__ = ("buf", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)

    def update(self, x: float) -> tuple[float]:
        buf = self.buf
        buf.append(x)
        w = self.w
        if len(buf) < w:
            return (NAN,)
        mean = 0.0
        for v in buf:
            mean += v
        mean /= w
        dev = 0.0
        for v in buf:
            dev += abs(v - mean)
        return (dev / w,)


class RollingTotal:
    __slots__ = ("rs",)

    def __init__(self, w: int) -> None:
        self.rs = RollingSum(w)

    def update(self, x: float) -> tuple[float]:
        return (self.rs.update(x),)


def _extreme(highest: bool, bars_since: bool) -> type:
    class Extreme:
        __slots__ = ("ex",)

        def __init__(self, w: int) -> None:
            # bars_since_* follow TA-Lib MAXINDEX/MININDEX: a rescan keeps the oldest tie
            self.ex = RollingExtreme(w, highest, rescan_keeps_oldest=bars_since)

        def update(self, x: float) -> tuple[float]:
            value, index = self.ex.update(x)
            if not bars_since:
                return (value,)
            return (float(self.ex.row - index) if index >= 0 else NAN,)

    return Extreme


STREAMS = {
    "linearreg": _linreg(0),
    "linearreg_intercept": _linreg(1),
    "linearreg_angle": _linreg(2),
    "tsf": _linreg(3),
    "fosc": Fosc,
    "beta": Beta,
    "correl": Correl,
    "avgdev": Avgdev,
    "rolling_total": RollingTotal,
    "rolling_max": _extreme(True, False),
    "rolling_min": _extreme(False, False),
    "bars_since_max": _extreme(True, True),
    "bars_since_min": _extreme(False, True),
}
