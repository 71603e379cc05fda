"""Streaming forms of ``kernels/oscillators.py`` (price oscillators, DM sums, stochastic RSI,
ultimate oscillator, intraday and volume-free oscillators)."""

from __future__ import annotations

from ._base import NAN, Ema, EmaSeeded, Lag, RollingExtreme, RollingSum, Wma, true_range_at
from .averages import Ma, ma_lookback
from .momentum import Dmi, Roc, Rsi


def _directional(high: float, low: float, ph: float, pl: float) -> tuple[float, float]:
    up = high - ph
    down = pl - low
    plus = up if (up > 0 and up > down) else 0.0
    minus = down if (down > 0 and down > up) else 0.0
    return plus, minus


class _Dm:
    __slots__ = ("acc", "plus", "prev", "row", "w")

    def __init__(self, w: int, plus: bool) -> None:
        self.w = w
        self.plus = plus
        self.acc = 0.0
        self.prev = (NAN, NAN)
        self.row = -1

    def update(self, high: float, low: float) -> tuple[float]:
        self.row += 1
        t = self.row
        ph, pl = self.prev
        self.prev = (high, low)
        if t == 0:
            return (NAN,)
        p, m = _directional(high, low, ph, pl)
        dm = p if self.plus else m
        w = self.w
        if w == 1:
            return (dm,)
        if t < w - 1:
            self.acc += dm
            return (NAN,)
        if t == w - 1:
            self.acc += dm
        else:
            self.acc = self.acc * (1.0 - 1.0 / w) + dm
        return (self.acc,)


class PlusDm(_Dm):
    __slots__ = ()

    def __init__(self, w: int) -> None:
        super().__init__(w, True)


class MinusDm(_Dm):
    __slots__ = ()

    def __init__(self, w: int) -> None:
        super().__init__(w, False)


class Adxr:
    __slots__ = ("dmi", "lag", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.dmi = Dmi(w)
        self.lag = Lag(w - 1)
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        self.row += 1
        a = self.dmi.update(high, low, close)[3]
        old = self.lag.update(a)
        if self.row < self.w - 1:
            return (NAN,)
        return ((a + old) / 2.0,)


class _Po:
    __slots__ = ("fast", "percent", "row", "slow", "start")

    def __init__(self, fast: int, slow: int, matype: int, percent: bool) -> None:
        self.fast = Ma(fast, matype)
        self.slow = Ma(slow, matype)
        self.start = max(ma_lookback(slow, matype), ma_lookback(fast, matype))
        self.percent = percent
        self.row = -1

    def update(self, x: float) -> tuple[float]:
        self.row += 1
        f = self.fast.value(x)
        s = self.slow.value(x)
        if self.row < self.start:
            return (NAN,)
        if self.percent:
            return (((f - s) / s) * 100.0 if s != 0.0 else 0.0,)
        return (f - s,)


class Apo(_Po):
    __slots__ = ()

    def __init__(self, fast: int, slow: int, matype: int) -> None:
        super().__init__(fast, slow, matype, False)


class Ppo(_Po):
    __slots__ = ()

    def __init__(self, fast: int, slow: int, matype: int) -> None:
        super().__init__(fast, slow, matype, True)


class Pvo(_Po):
    __slots__ = ()

    def __init__(self, fast: int, slow: int) -> None:
        super().__init__(fast, slow, 1, True)


class Bop:
    __slots__ = ()

    def update(self, open_: float, high: float, low: float, close: float) -> tuple[float]:
        rng = high - low
        return ((close - open_) / rng if rng > 0.0 else 0.0,)


class _MaFrom:
    """Twin of ``kernels.averages.ma_from``: the MA run from row ``start - lookback`` on, so
    its first value lands on ``start`` (rows before it are not seen, as in ``x[off:]``)."""

    __slots__ = ("ma", "off", "row")

    def __init__(self, w: int, matype: int, start: int) -> None:
        self.ma = Ma(w, matype)
        self.off = start - ma_lookback(w, matype)
        self.row = -1

    def value(self, x: float) -> float:
        self.row += 1
        if self.off < 0 or self.row < self.off:
            return NAN
        return self.ma.value(x)


class Macdext:
    __slots__ = ("begin", "fast", "row", "sig", "slow")

    def __init__(self, fast: int, fast_ma: int, slow: int, slow_ma: int, signal: int,
                 signal_ma: int) -> None:
        start = max(ma_lookback(fast, fast_ma), ma_lookback(slow, slow_ma))
        self.fast = _MaFrom(fast, fast_ma, start)
        self.slow = _MaFrom(slow, slow_ma, start)
        self.sig = Ma(signal, signal_ma)
        self.begin = start + ma_lookback(signal, signal_ma)
        self.row = -1

    def update(self, x: float) -> tuple[float, float, float]:
        self.row += 1
        line = self.fast.value(x) - self.slow.value(x)
        sig = self.sig.value(line)
        if self.row < self.begin:
            return NAN, NAN, NAN
        return line, sig, line - sig


class Macdfix:
    __slots__ = ("fast", "row", "sig", "slow", "start")

    def __init__(self, signal: int) -> None:
        self.slow = EmaSeeded(26, 0.075, 25)
        self.fast = EmaSeeded(12, 0.15, 25)
        self.sig = Ema(signal)
        self.start = 25 + signal - 1
        self.row = -1

    def update(self, x: float) -> tuple[float, float, float]:
        self.row += 1
        slow = self.slow.update(x)
        line = self.fast.update(x) - slow
        sig = self.sig.update(line)
        if self.row < self.start:
            return NAN, sig, NAN
        return line, sig, line - sig


class Stochrsi:
    """%K of the RSI with the kernel's flat-window rule (range < RSI_FLAT gives 0)."""

    __slots__ = ("d", "flat", "hh", "ll", "row", "rsi", "start")

    def __init__(self, w: int, fastk: int, fastd: int) -> None:
        from mlta.features.kernels.oscillators import RSI_FLAT

        self.flat = RSI_FLAT
        self.rsi = Rsi(w)
        self.hh = RollingExtreme(fastk, True)
        self.ll = RollingExtreme(fastk, False)
        self.d = RollingSum(fastd, float(fastd))
        self.start = w + fastk + fastd - 2
        self.row = -1

    def update(self, x: float) -> tuple[float, float]:
        self.row += 1
        r = self.rsi.update(x)[0]
        hh = self.hh.update(r)[0]
        ll = self.ll.update(r)[0]
        k = NAN
        if hh == hh:
            diff = (hh - ll) / 100.0
            k = (r - ll) / diff if diff != 0.0 else 0.0
            if hh - ll < self.flat:
                k = 0.0
        d = self.d.update(k)
        return (k if self.row >= self.start else NAN), d


class Ultosc:
    __slots__ = ("b", "p3", "prev_close", "row", "tr")

    def __init__(self, p1: int, p2: int, p3: int) -> None:
        self.p3 = p3
        self.b = (RollingSum(p1), RollingSum(p2), RollingSum(p3))
        self.tr = (RollingSum(p1), RollingSum(p2), RollingSum(p3))
        self.prev_close = NAN
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        self.row += 1
        pc = self.prev_close
        self.prev_close = close
        if self.row == 0:
            return (NAN,)
        bp = close - min(low, pc)
        tr = true_range_at(high, low, pc)
        b1, b2, b3 = (s.update(bp) for s in self.b)
        t1, t2, t3 = (s.update(tr) for s in self.tr)
        if self.row < self.p3:
            return (NAN,)
        acc = 0.0
        if t1 != 0.0:
            acc += 4.0 * (b1 / t1)
        if t2 != 0.0:
            acc += 2.0 * (b2 / t2)
        if t3 != 0.0:
            acc += b3 / t3
        return (100.0 * (acc / 7.0),)


class Imi:
    __slots__ = ("sd", "su")

    def __init__(self, w: int) -> None:
        self.su = RollingSum(w)
        self.sd = RollingSum(w)

    def update(self, open_: float, close: float) -> tuple[float]:
        su = self.su.update(max(close - open_, 0.0))
        sd = self.sd.update(max(open_ - close, 0.0))
        if su != su:
            return (NAN,)
        total = su + sd
        return (100.0 * (su / total) if total != 0.0 else 50.0,)


class Ao:
    __slots__ = ("fast", "row", "slow", "start")

    def __init__(self, fast: int, slow: int) -> None:
        self.fast = RollingSum(fast, float(fast))
        self.slow = RollingSum(slow, float(slow))
        self.start = slow - 1
        self.row = -1

    def value(self, high: float, low: float) -> float:
        self.row += 1
        mid = (high + low) / 2.0
        out = self.fast.update(mid) - self.slow.update(mid)
        return out if self.row >= self.start else NAN

    def update(self, high: float, low: float) -> tuple[float]:
        return (self.value(high, low),)


class Ac(Ao):
    __slots__ = ("sig",)

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        super().__init__(fast, slow)
        self.sig = RollingSum(signal, float(signal))

    def update(self, high: float, low: float) -> tuple[float]:
        a = self.value(high, low)
        return (a - self.sig.update(a),)


class Coppock:
    __slots__ = ("r1", "r2", "wma")

    def __init__(self, w: int, roc1: int, roc2: int) -> None:
        self.r1 = Roc(roc1)
        self.r2 = Roc(roc2)
        self.wma = Wma(w)

    def update(self, x: float) -> tuple[float]:
        return (self.wma.update(self.r1.update(x)[0] + self.r2.update(x)[0]),)


class Er:
    """Efficiency ratio; the path is a rolling sum over rows 1.. of |one-bar change|."""

    __slots__ = ("lag", "path", "prev", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.path = RollingSum(w)
        self.lag = Lag(w)
        self.prev = NAN
        self.row = -1

    def _step(self, x: float) -> tuple[float, float]:
        """(path sum ending at this row, x[t-w]); path is NaN on row 0."""
        self.row += 1
        prev = self.prev
        self.prev = x
        old = self.lag.update(x)
        if self.row == 0:
            return NAN, old
        return self.path.update(abs(x - prev)), old

    def update(self, x: float) -> tuple[float]:
        p, old = self._step(x)
        if self.row < self.w:
            return (NAN,)
        return (abs(x - old) / p if p != 0.0 else 1.0,)


class Vhf(Er):
    __slots__ = ("hi", "lo")

    def __init__(self, w: int) -> None:
        super().__init__(w)
        self.hi = RollingExtreme(w, True)
        self.lo = RollingExtreme(w, False)

    def update(self, x: float) -> tuple[float]:
        p, _ = self._step(x)
        hi = self.hi.update(x)[0]
        lo = self.lo.update(x)[0]
        if self.row < self.w:
            return (NAN,)
        return ((hi - lo) / p if p != 0.0 else 0.0,)


class Eri:
    __slots__ = ("e",)

    def __init__(self, w: int) -> None:
        self.e = Ema(w)

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        e = self.e.update(close)
        return high - e, low - e


class Qstick:
    __slots__ = ("s",)

    def __init__(self, w: int) -> None:
        self.s = RollingSum(w, float(w))

    def update(self, open_: float, close: float) -> tuple[float]:
        return (self.s.update(close - open_),)


class Tsi:
    __slots__ = ("d1", "d2", "n1", "n2", "prev")

    def __init__(self, first: int, second: int) -> None:
        self.n1, self.n2 = Ema(first), Ema(second)
        self.d1, self.d2 = Ema(first), Ema(second)
        self.prev = NAN

    def update(self, x: float) -> tuple[float]:
        m = x - self.prev
        self.prev = x
        num = self.n2.update(self.n1.update(m))
        den = self.d2.update(self.d1.update(abs(m)))
        if den != den:
            return (NAN,)
        return (100.0 * (num / den) if den != 0.0 else 0.0,)


class Vortex:
    __slots__ = ("prev", "sm", "sp", "st")

    def __init__(self, w: int) -> None:
        self.sp = RollingSum(w)
        self.sm = RollingSum(w)
        self.st = RollingSum(w)
        self.prev = (NAN, NAN, NAN)

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        ph, pl, pc = self.prev
        self.prev = (high, low, close)
        if pc != pc:
            return NAN, NAN
        sp = self.sp.update(abs(high - pl))
        sm = self.sm.update(abs(low - ph))
        st = self.st.update(true_range_at(high, low, pc))
        if st != st:
            return NAN, NAN
        if st != 0.0:
            return sp / st, sm / st
        return 0.0, 0.0


class Wad:
    __slots__ = ("acc", "prev")

    def __init__(self) -> None:
        self.acc = 0.0
        self.prev = NAN

    def update(self, high: float, low: float, close: float) -> tuple[float]:
        pc = self.prev
        self.prev = close
        if pc != pc:
            return (0.0,)
        if close > pc:
            self.acc += close - min(low, pc)
        elif close < pc:
            self.acc += close - max(high, pc)
        return (self.acc,)


class Rocp(Roc):
    __slots__ = ()

    def update(self, x: float) -> tuple[float]:
        prev = self.lag.update(x)
        if prev != prev:
            return (NAN,)
        return ((x - prev) / prev if prev != 0.0 else 0.0,)


def _ratio(scale: float, minus: float) -> type:
    class Ratio(Roc):
        __slots__ = ()

        def update(self, x: float) -> tuple[float]:
            prev = self.lag.update(x)
            if prev != prev:
                return (NAN,)
            return ((x / prev - minus) * scale if prev != 0.0 else 0.0,)

    return Ratio


STREAMS = {
    "plus_dm": PlusDm,
    "minus_dm": MinusDm,
    "adxr": Adxr,
    "apo": Apo,
    "ppo": Ppo,
    "pvo": Pvo,
    "bop": Bop,
    "macdext": Macdext,
    "macdfix": Macdfix,
    "stochrsi": Stochrsi,
    "ultosc": Ultosc,
    "imi": Imi,
    "ao": Ao,
    "ac": Ac,
    "coppock": Coppock,
    "er": Er,
    "vhf": Vhf,
    "eri": Eri,
    "qstick": Qstick,
    "tsi": Tsi,
    "vortex": Vortex,
    "wad": Wad,
    "rocp": Rocp,
    "rocr": _ratio(1.0, 0.0),
    "rocr100": _ratio(100.0, 0.0),
}
