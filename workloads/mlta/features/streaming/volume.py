"""Streaming forms of ``kernels/volume.py`` (cumulative flows, money flow, rolling VWAP)."""

from __future__ import annotations

from mlta.features.kernels.volume import TP_TIE

from ._base import NAN, RollingSum, div


def _ad_step(h: float, lo: float, c: float, v: float) -> float:
    rng = h - lo
    return (((c - lo) - (h - c)) / rng) * v if rng > 0.0 else 0.0


class Obv:
    __slots__ = ("acc", "prev")

    def __init__(self) -> None:
        self.acc = NAN
        self.prev = NAN

    def update(self, close: float, volume: float) -> tuple[float]:
        prev = self.prev
        self.prev = close
        if prev != prev:
            self.acc = volume
        elif close > prev:
            self.acc += volume
        elif close < prev:
            self.acc -= volume
        return (self.acc,)


class Ad:
    __slots__ = ("acc",)

    def __init__(self) -> None:
        self.acc = 0.0

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        self.acc += _ad_step(high, low, close, volume)
        return (self.acc,)


class Adosc:
    __slots__ = ("acc", "ef", "es", "kf", "ks", "row", "slow")

    def __init__(self, fast: int, slow: int) -> None:
        self.kf = 2.0 / (fast + 1.0)
        self.ks = 2.0 / (slow + 1.0)
        self.slow = slow
        self.row = -1
        self.acc = self.ef = self.es = NAN

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        self.row += 1
        step = _ad_step(high, low, close, volume)
        if self.row == 0:
            self.acc = self.ef = self.es = step
            return (0.0 if self.slow == 1 else NAN,)
        acc = self.acc = self.acc + step
        self.ef = self.kf * acc + (1.0 - self.kf) * self.ef
        self.es = self.ks * acc + (1.0 - self.ks) * self.es
        return (self.ef - self.es if self.row >= self.slow - 1 else NAN,)


class Mfi:
    """Money flow index; the batch kernel's rolling sums run over rows 1.. of the flows."""

    __slots__ = ("neg", "pos", "prev_tp", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.pos = RollingSum(w)
        self.neg = RollingSum(w)
        self.prev_tp = NAN
        self.row = -1

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        self.row += 1
        tp = (high + low + close) / 3.0
        prev = self.prev_tp
        self.prev_tp = tp
        if self.row == 0:
            return (NAN,)
        pos = neg = 0.0
        flow = tp * volume
        change = tp - prev
        if not abs(change) <= TP_TIE * abs(prev):
            if change > 0.0:
                pos = flow
            else:
                neg = flow
        sp = self.pos.update(pos)
        sn = self.neg.update(neg)
        if self.row < self.w:
            return (NAN,)
        total = sp + sn
        return (100.0 * (sp / total) if total != 0.0 else 0.0,)


class Vwap:
    __slots__ = ("den", "num", "plain", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.num = RollingSum(w)
        self.den = RollingSum(w)
        self.plain = RollingSum(w)

    def value(self, high: float, low: float, close: float, volume: float) -> float:
        tp = (high + low + close) / 3.0
        num = self.num.update(tp * volume)
        den = self.den.update(volume)
        plain = self.plain.update(tp)
        if den != den:
            return NAN
        return num / den if den > 0.0 else plain / self.w

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        return (self.value(high, low, close, volume),)


class VwapRatio(Vwap):
    __slots__ = ()

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        return (div(close, self.value(high, low, close, volume)) - 1.0,)


STREAMS = {
    "obv": Obv,
    "ad": Ad,
    "adosc": Adosc,
    "mfi": Mfi,
    "vwap": Vwap,
    "vwap_ratio": VwapRatio,
}
