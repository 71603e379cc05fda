"""Streaming forms of ``kernels/volume_ext.py`` (CMF, EFI, NVI, PVI, PVT, MASSI, CVI), built
from the ``_base`` mirrors of the batch helpers the kernels use (rolling sums re-summed at the
same rows, EMAs seeded at the same rows)."""

from __future__ import annotations

from ._base import NAN, Ema, Lag, RollingSum


class Cmf:
    __slots__ = ("den", "num", "row", "w")

    def __init__(self, w: int) -> None:
        self.w = w
        self.num = RollingSum(w)
        self.den = RollingSum(w)
        self.row = -1

    def update(self, high: float, low: float, close: float, volume: float) -> tuple[float]:
        self.row += 1
        rng = high - low
        flow = (close - low - (high - close)) / rng * volume if rng > 0.0 else 0.0
        num = self.num.update(flow)
        den = self.den.update(volume)
        if self.row < self.w - 1:
            return (NAN,)
        return (num / den if den > 0.0 else 0.0,)


class Efi:
    __slots__ = ("ema", "prev")

    def __init__(self, w: int) -> None:
        self.ema = Ema(w)
        self.prev = NAN

    def update(self, close: float, volume: float) -> tuple[float]:
        prev = self.prev
        self.prev = close
        return (self.ema.update((close - prev) * volume if prev == prev else NAN),)


class _VolumeIndex:
    __slots__ = ("negative", "prev_close", "prev_volume", "value")

    def __init__(self, negative: bool) -> None:
        self.negative = negative
        self.value = 1000.0
        self.prev_close = self.prev_volume = NAN

    def update(self, close: float, volume: float) -> tuple[float]:
        pc, pv = self.prev_close, self.prev_volume
        self.prev_close, self.prev_volume = close, volume
        if pc == pc:
            moved = volume < pv if self.negative else volume > pv
            if moved and pc != 0.0:
                value = self.value
                self.value = value + value * ((close - pc) / pc)
        return (self.value,)


class Nvi(_VolumeIndex):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(True)


class Pvi(_VolumeIndex):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(False)


class Pvt:
    __slots__ = ("prev", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.prev = NAN

    def update(self, close: float, volume: float) -> tuple[float]:
        pc = self.prev
        self.prev = close
        if pc == pc and pc != 0.0:
            self.value += volume * ((close - pc) / pc)
        return (self.value,)


class Massi:
    __slots__ = ("double", "single", "total")

    def __init__(self, fast: int, slow: int) -> None:
        self.single = Ema(fast)
        self.double = Ema(fast)
        self.total = RollingSum(slow)

    def update(self, high: float, low: float) -> tuple[float]:
        single = self.single.update(high - low)
        double = self.double.update(single)
        ratio = NAN
        if double == double:
            ratio = single / double if double != 0.0 else 1.0
        return (self.total.update(ratio),)


class Cvi:
    __slots__ = ("ema", "lag")

    def __init__(self, w: int, roc: int) -> None:
        self.ema = Ema(w)
        self.lag = Lag(roc)

    def update(self, high: float, low: float) -> tuple[float]:
        e = self.ema.update(high - low)
        prev = self.lag.update(e)
        if prev != prev:
            return (NAN,)
        return (((e - prev) / prev) * 100.0 if prev != 0.0 else 0.0,)


STREAMS = {
    "cmf": Cmf,
    "efi": Efi,
    "nvi": Nvi,
    "pvi": Pvi,
    "pvt": Pvt,
    "massi": Massi,
    "cvi": Cvi,
}
