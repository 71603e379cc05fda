"""Streaming forms of ``kernels/averages.py`` (TRIMA, T3, RMA, ZLEMA, VWMA, ALMA, VIDYA,
FRAMA) and ``Ma``, the twin of the kernels' MA-type dispatcher ``ma``."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from ._base import NAN, Ema, Lag, RollingSum, Wma
from .overlap import Dema, Kama, Tema


class Trima:
    __slots__ = ("a", "b")

    def __init__(self, w: int) -> None:
        if w % 2 == 1:
            first = second = (w + 1) // 2
        else:
            first, second = w // 2, w // 2 + 1
        self.a = RollingSum(first, float(first))
        self.b = RollingSum(second, float(second))

    def value(self, x: float) -> float:
        return self.b.update(self.a.update(x))

    def update(self, x: float) -> tuple[float]:
        return (self.value(x),)


class T3:
    __slots__ = ("c1", "c2", "c3", "c4", "emas")

    def __init__(self, w: int, vfactor: float) -> None:
        self.emas = [Ema(w) for _ in range(6)]
        a = vfactor
        a2 = a * a
        a3 = a2 * a
        self.c1 = -a3
        self.c2 = 3.0 * (a2 + a3)
        self.c3 = -6.0 * a2 - 3.0 * (a + a3)
        self.c4 = 1.0 + 3.0 * a + a3 + 3.0 * a2

    def value(self, x: float) -> float:
        e1, e2, e3, e4, e5, e6 = self.emas
        v3 = e3.update(e2.update(e1.update(x)))
        v4 = e4.update(v3)
        v5 = e5.update(v4)
        v6 = e6.update(v5)
        return self.c1 * v6 + self.c2 * v5 + self.c3 * v4 + self.c4 * v3

    def update(self, x: float) -> tuple[float]:
        return (self.value(x),)


def ma_lookback(w: int, matype: int) -> int:
    """Twin of ``kernels.averages.ma_lookback``."""
    if w == 1:
        return 0
    return {3: 2 * (w - 1), 4: 3 * (w - 1), 6: w, 8: 6 * (w - 1)}.get(matype, w - 1)


class Ma:
    """Twin of ``kernels.averages.ma``: the chosen MA on the stream after its leading NaNs."""

    __slots__ = ("inner", "started")

    def __init__(self, w: int, matype: int) -> None:
        self.started = False
        inner: Any
        if w == 1:
            inner = None
        elif matype == 0:
            inner = RollingSum(w, float(w))
        elif matype == 1:
            inner = Ema(w)
        elif matype == 2:
            inner = Wma(w)
        elif matype == 3:
            inner = Dema(w)
        elif matype == 4:
            inner = Tema(w)
        elif matype == 5:
            inner = Trima(w)
        elif matype == 6:
            inner = Kama(w)
        else:
            inner = T3(w, 0.7)
        self.inner = inner

    def value(self, x: float) -> float:
        if not self.started:
            if x != x:
                return NAN
            self.started = True
        inner = self.inner
        if inner is None:
            return x
        out = inner.update(x)
        return out[0] if isinstance(out, tuple) else out  # type: ignore[no-any-return]


class Rma:
    __slots__ = ("e",)

    def __init__(self, w: int) -> None:
        self.e = Ema(w, 1.0 / w)

    def update(self, x: float) -> tuple[float]:
        return (self.e.update(x),)


class Zlema:
    __slots__ = ("e", "lag")

    def __init__(self, w: int) -> None:
        self.lag = Lag((w - 1) // 2)
        self.e = Ema(w)

    def update(self, x: float) -> tuple[float]:
        old = self.lag.update(x)
        src = NAN if old != old else 2.0 * x - old
        return (self.e.update(src),)


class Vwma:
    __slots__ = ("den", "num", "plain", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.num = RollingSum(w)
        self.den = RollingSum(w)
        self.plain = RollingSum(w)

    def update(self, close: float, volume: float) -> tuple[float]:
        num = self.num.update(close * volume)
        den = self.den.update(volume)
        plain = self.plain.update(close)
        if den != den:
            return (NAN,)
        return (num / den if den > 0.0 else plain / self.w,)


class Alma:
    """O(window) per row like the kernel. The weights are read off the kernel itself (its
    response to a unit impulse), so they are the kernel's bits, not a re-derivation."""

    __slots__ = ("buf", "w", "weights")

    def __init__(self, w: int, offset: float, sigma: float) -> None:
        import numpy as np

        from mlta.features.kernels.averages import alma

        impulse = np.zeros(2 * w - 1)
        impulse[w - 1] = 1.0
        response = alma(impulse, w, offset, sigma)
        self.weights = [float(response[2 * w - 2 - j]) for j in range(w)]
        self.w = w
        self.buf: deque[float] = deque(maxlen=w)

    def update(self, x: float) -> tuple[float]:
        buf = self.buf
        buf.append(x)
        if len(buf) < self.w:
            return (NAN,)
        acc = 0.0
        for weight, v in zip(self.weights, buf, strict=True):
            acc += weight * v
        return (acc,)


class Vidya:
    __slots__ = ("cmo_window", "down", "k", "prev", "prev_x", "row", "up")

    def __init__(self, w: int, cmo_window: int) -> None:
        self.cmo_window = cmo_window
        self.k = 2.0 / (w + 1.0)
        self.up = RollingSum(cmo_window)
        self.down = RollingSum(cmo_window)
        self.prev = NAN
        self.prev_x = NAN
        self.row = -1

    def update(self, x: float) -> tuple[float]:
        self.row += 1
        t = self.row
        px = self.prev_x
        self.prev_x = x
        if t == 0:
            return (NAN,)
        d = x - px
        gain = loss = 0.0
        if d > 0.0:
            gain = d
        else:
            loss = -d
        up = self.up.update(gain)
        down = self.down.update(loss)
        if t < self.cmo_window:
            return (NAN,)
        if t == self.cmo_window:
            self.prev = x
            return (x,)
        total = up + down
        c = abs(up - down) / total if total > 0.0 else 0.0
        k = self.k
        self.prev = k * c * x + (1.0 - k * c) * self.prev
        return (self.prev,)


class Frama:
    """O(window) per row: the kernel rescans both halves of the window every row."""

    __slots__ = ("bars", "half", "prev", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.half = w // 2
        self.bars: deque[tuple[float, float]] = deque(maxlen=w)
        self.prev = NAN

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        bars = self.bars
        bars.append((high, low))
        w = self.w
        if len(bars) < w:
            return (NAN,)
        if self.prev != self.prev:
            self.prev = close
            return (close,)
        half = self.half
        h1, l1 = bars[0]
        for j in range(w - half):
            h, lo = bars[j]
            h1 = max(h1, h)
            l1 = min(l1, lo)
        h2, l2 = bars[w - half]
        for j in range(w - half, w):
            h, lo = bars[j]
            h2 = max(h2, h)
            l2 = min(l2, lo)
        n1 = (h1 - l1) / (w - half)
        n2 = (h2 - l2) / half
        n3 = (max(h1, h2) - min(l1, l2)) / w
        alpha = 1.0
        if n1 > 0.0 and n2 > 0.0 and n3 > 0.0:
            d = (math.log(n1 + n2) - math.log(n3)) / math.log(2.0)
            alpha = math.exp(-4.6 * (d - 1.0))
        alpha = min(1.0, max(0.01, alpha))
        self.prev = alpha * close + (1.0 - alpha) * self.prev
        return (self.prev,)


class MaStream(Ma):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:
        return (self.value(x),)


STREAMS = {
    "trima": Trima,
    "t3": T3,
    "ma": MaStream,
    "rma": Rma,
    "zlema": Zlema,
    "vwma": Vwma,
    "alma": Alma,
    "vidya": Vidya,
    "frama": Frama,
}
