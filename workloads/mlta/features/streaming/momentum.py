"""Streaming forms of ``kernels/momentum.py`` (oscillators, rates of change, DMI, Aroon)."""

from __future__ import annotations

from collections import deque

from ._base import NAN, Ema, EmaSeeded, Lag, RollingExtreme, RollingSum, div, log, true_range_at


class _WilderGainLoss:
    """Mirror of ``_wilder_gain_loss``: RSI (``cmo=False``) or CMO."""

    __slots__ = ("cmo", "gain", "loss", "prev_x", "row", "w")

    def __init__(self, w: int, cmo: bool) -> None:
        self.w = w
        self.cmo = cmo
        self.gain = 0.0
        self.loss = 0.0
        self.prev_x = NAN
        self.row = -1

    def update(self, x: float) -> tuple[float]:
        self.row += 1
        t = self.row
        w = self.w
        prev_x = self.prev_x
        self.prev_x = x
        if t == 0:
            return (NAN,)
        d = x - prev_x
        if t <= w:
            if d < 0:
                self.loss -= d
            else:
                self.gain += d
            if t < w:
                return (NAN,)
            self.gain /= w
            self.loss /= w
        else:
            keep = (w - 1) / w
            inv = 1.0 / w
            if d < 0:
                self.loss = self.loss * keep + (-d) * inv
                self.gain = self.gain * keep
            else:
                self.gain = self.gain * keep + d * inv
                self.loss = self.loss * keep
        gain = self.gain
        loss = self.loss
        total = gain + loss
        if total == 0.0:
            return (0.0,)
        if self.cmo:
            return (100.0 * ((gain - loss) / total),)
        return (100.0 * (gain / total),)


class Rsi(_WilderGainLoss):
    __slots__ = ()

    def __init__(self, w: int) -> None:
        super().__init__(w, False)


class Cmo(_WilderGainLoss):
    __slots__ = ()

    def __init__(self, w: int) -> None:
        super().__init__(w, True)


class Macd:
    __slots__ = ("fast", "row", "sig", "slow", "start")

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        seed = slow - 1
        self.slow = EmaSeeded(slow, 2.0 / (slow + 1.0), seed)
        self.fast = EmaSeeded(fast, 2.0 / (fast + 1.0), seed)
        self.sig = Ema(signal)
        self.start = seed + signal - 1
        self.row = -1

    def update(self, x: float) -> tuple[float, float, float]:
        self.row += 1
        slow = self.slow.update(x)
        line = self.fast.update(x) - slow
        sig = self.sig.update(line)
        if self.row < self.start:
            return NAN, sig, NAN
        return line, sig, line - sig


class _FastK:
    """Mirror of ``_fast_k`` (raw stochastic %K)."""

    __slots__ = ("hh", "ll")

    def __init__(self, w: int) -> None:
        self.hh = RollingExtreme(w, True)
        self.ll = RollingExtreme(w, False)

    def value(self, high: float, low: float, close: float) -> float:
        hh = self.hh.update(high)[0]
        ll = self.ll.update(low)[0]
        if hh != hh:
            return NAN
        diff = (hh - ll) / 100.0
        return (close - ll) / diff if diff != 0.0 else 0.0


class Stoch:
    __slots__ = ("d", "fk", "k", "row", "start")

    def __init__(self, fastk: int, slowk: int, slowd: int) -> None:
        self.fk = _FastK(fastk)
        self.k = RollingSum(slowk, float(slowk))
        self.d = RollingSum(slowd, float(slowd))
        self.start = fastk + slowk + slowd - 3
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        self.row += 1
        k = self.k.update(self.fk.value(high, low, close))
        d = self.d.update(k)
        return (k if self.row >= self.start else NAN), d


class Stochf:
    __slots__ = ("d", "fk", "row", "start")

    def __init__(self, fastk: int, fastd: int) -> None:
        self.fk = _FastK(fastk)
        self.d = RollingSum(fastd, float(fastd))
        self.start = fastk + fastd - 2
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        self.row += 1
        k = self.fk.value(high, low, close)
        d = self.d.update(k)
        return (k if self.row >= self.start else NAN), d


class Willr(_FastK):
    __slots__ = ()

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        hh = self.hh.update(high)[0]
        ll = self.ll.update(low)[0]
        if hh != hh:
            return (NAN,)
        diff = (hh - ll) / -100.0
        return ((hh - close) / diff if diff != 0.0 else 0.0,)


class Cci:
    """O(window) per row, as the batch kernel re-sums the mean and deviation every row."""

    __slots__ = ("tp", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.tp: deque[float] = deque(maxlen=w)

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        tp = self.tp
        tp.append((high + low + close) / 3.0)
        w = self.w
        if len(tp) < w:
            return (NAN,)
        avg = 0.0
        for v in tp:
            avg += v
        avg /= w
        dev = 0.0
        for v in tp:
            dev += abs(v - avg)
        num = tp[-1] - avg
        return (num / (0.015 * (dev / w)) if (num != 0.0 and dev != 0.0) else 0.0,)


class Roc:
    __slots__ = ("lag",)

    def __init__(self, w: int) -> None:
        self.lag = Lag(w)

    def update(self, x: float) -> tuple[float]:
        prev = self.lag.update(x)
        if prev != prev:
            return (NAN,)
        return (((x / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0,)


class Mom(Roc):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:
        return (x - self.lag.update(x),)


class Returns(Roc):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:
        return (div(x, self.lag.update(x)) - 1.0,)


class LogReturns(Roc):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:
        prev = self.lag.update(x)
        return (log(div(x, prev)) if prev == prev else NAN,)


class Trix:
    __slots__ = ("e1", "e2", "e3", "prev")

    def __init__(self, w: int) -> None:
        self.e1 = Ema(w)
        self.e2 = Ema(w)
        self.e3 = Ema(w)
        self.prev = NAN

    def update(self, x: float) -> tuple[float]:
        e3 = self.e3.update(self.e2.update(self.e1.update(x)))
        prev = self.prev
        self.prev = e3
        if prev != prev:
            return (NAN,)
        return (((e3 / prev) - 1.0) * 100.0 if prev != 0.0 else 0.0,)


class Dmi:
    """Mirror of ``dmi``: +DI, -DI, DX and ADX with Wilder sums."""

    __slots__ = ("mdm", "pdm", "prev", "prev_adx", "row", "sum_dx", "tr", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.pdm = 0.0
        self.mdm = 0.0
        self.tr = 0.0
        self.sum_dx = 0.0
        self.prev_adx = 0.0
        self.prev = (NAN, NAN, NAN)
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float, float]:
        self.row += 1
        t = self.row
        w = self.w
        ph, pl, pc = self.prev
        self.prev = (high, low, close)
        if t == 0:
            return NAN, NAN, NAN, NAN
        up = high - ph
        down = pl - low
        p = up if (up > 0 and up > down) else 0.0
        m = down if (down > 0 and down > up) else 0.0
        tr = true_range_at(high, low, pc)
        if t < w:
            self.pdm += p
            self.mdm += m
            self.tr += tr
            return NAN, NAN, NAN, NAN
        keep = 1.0 - 1.0 / w  # the kernel's factors, computed the same way
        self.pdm = self.pdm * keep + p
        self.mdm = self.mdm * keep + m
        self.tr = self.tr * keep + tr
        pdi = 0.0
        mdi = 0.0
        cur_dx = NAN
        if self.tr != 0.0:
            pdi = 100.0 * (self.pdm / self.tr)
            mdi = 100.0 * (self.mdm / self.tr)
            total = pdi + mdi
            if total != 0.0:
                cur_dx = 100.0 * (abs(mdi - pdi) / total)
        dx = 0.0 if cur_dx != cur_dx else cur_dx
        adx = NAN
        if t < 2 * w - 1:
            if cur_dx == cur_dx:
                self.sum_dx += cur_dx
        elif t == 2 * w - 1:
            if cur_dx == cur_dx:
                self.sum_dx += cur_dx
            self.prev_adx = adx = self.sum_dx / w
        else:
            if cur_dx == cur_dx:
                self.prev_adx = self.prev_adx * ((w - 1) / w) + cur_dx * (1.0 / w)
            adx = self.prev_adx
        return pdi, mdi, dx, adx


def _dmi_output(index: int) -> type:
    class Output(Dmi):
        __slots__ = ()

        def update(self, high: float, low: float, close: float) -> tuple[float]:  # type: ignore[override]
            return (Dmi.update(self, high, low, close)[index],)

    return Output


class Aroon:
    __slots__ = ("factor", "hi", "lo", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.hi = RollingExtreme(w + 1, True)
        self.lo = RollingExtreme(w + 1, False)
        self.factor = 100.0 / w

    def update(self, high: float, low: float) -> tuple[float, float]:
        _, hi = self.hi.update(high)
        _, lo = self.lo.update(low)
        if hi < 0:
            return NAN, NAN
        t = self.hi.row
        return self.factor * (self.w - (t - lo)), self.factor * (self.w - (t - hi))


class Aroonosc(Aroon):
    __slots__ = ()

    def update(self, high: float, low: float) -> tuple[float]:  # type: ignore[override]
        down, up = Aroon.update(self, high, low)
        return (up - down,)


STREAMS = {
    "rsi": Rsi,
    "cmo": Cmo,
    "macd": Macd,
    "stoch": Stoch,
    "stochf": Stochf,
    "willr": Willr,
    "cci": Cci,
    "roc": Roc,
    "mom": Mom,
    "trix": Trix,
    "returns": Returns,
    "log_returns": LogReturns,
    "dmi": Dmi,
    "plus_di": _dmi_output(0),
    "minus_di": _dmi_output(1),
    "dx": _dmi_output(2),
    "adx": _dmi_output(3),
    "aroon": Aroon,
    "aroonosc": Aroonosc,
}
