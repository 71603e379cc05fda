"""Streaming forms of ``kernels/trend.py`` (parabolic SAR, Supertrend, Ichimoku)."""

from __future__ import annotations

from ._base import NAN, RollingExtreme
from .volatility import Atr


class _Sar:
    """TA-Lib's SAR loop, one bar at a time; the second bar fixes the starting direction."""

    __slots__ = ("af_long", "af_short", "ep", "first", "init_long", "init_short", "is_long",
                 "max_long", "max_short", "new_high", "new_low", "offset", "sar", "signed",
                 "step_long", "step_short")

    def __init__(self, init_long: float, step_long: float, max_long: float, init_short: float,
                 step_short: float, max_short: float, offset: float, signed: bool) -> None:
        self.init_long = max_long if init_long > max_long else init_long
        self.step_long = max_long if step_long > max_long else step_long
        self.init_short = max_short if init_short > max_short else init_short
        self.step_short = max_short if step_short > max_short else step_short
        self.max_long = max_long
        self.max_short = max_short
        self.offset = offset
        self.signed = signed
        self.af_long = self.init_long
        self.af_short = self.init_short
        self.first: tuple[float, float] | None = None
        self.is_long = True
        self.ep = self.sar = self.new_low = self.new_high = NAN

    def update(self, high: float, low: float) -> tuple[float]:
        if self.first is None:
            self.first = (high, low)
            return (NAN,)
        if self.ep != self.ep:  # the second bar: direction, first SAR and EP
            h0, l0 = self.first
            up = high - h0
            down = l0 - low
            self.is_long = not (down > 0 and down > up)
            if self.is_long:
                self.ep, self.sar = high, l0
            else:
                self.ep, self.sar = low, h0
            self.new_low, self.new_high = low, high
        prev_low, prev_high = self.new_low, self.new_high
        self.new_low = new_low = low
        self.new_high = new_high = high
        sar, ep = self.sar, self.ep
        if self.is_long:
            if new_low <= sar:
                self.is_long = False
                sar = max(ep, prev_high, new_high)
                if self.offset != 0.0:
                    sar += sar * self.offset
                out = -sar if self.signed else sar
                self.af_short = self.init_short
                ep = new_low
                sar = sar + self.af_short * (ep - sar)
                sar = max(sar, prev_high, new_high)
            else:
                out = sar
                if new_high > ep:
                    ep = new_high
                    self.af_long = min(self.af_long + self.step_long, self.max_long)
                sar = sar + self.af_long * (ep - sar)
                sar = min(sar, prev_low, new_low)
        elif new_high >= sar:
            self.is_long = True
            sar = min(ep, prev_low, new_low)
            if self.offset != 0.0:
                sar -= sar * self.offset
            out = sar
            self.af_long = self.init_long
            ep = new_high
            sar = sar + self.af_long * (ep - sar)
            sar = min(sar, prev_low, new_low)
        else:
            out = -sar if self.signed else sar
            if new_low < ep:
                ep = new_low
                self.af_short = min(self.af_short + self.step_short, self.max_short)
            sar = sar + self.af_short * (ep - sar)
            sar = max(sar, prev_high, new_high)
        self.sar, self.ep = sar, ep
        return (out,)


class Sar(_Sar):
    __slots__ = ()

    def __init__(self, acceleration: float, maximum: float) -> None:
        super().__init__(acceleration, acceleration, maximum, acceleration, acceleration,
                         maximum, 0.0, False)


class Sarext(_Sar):
    __slots__ = ()

    def __init__(self, init: float, acceleration: float, maximum: float, offset: float) -> None:
        super().__init__(init, acceleration, maximum, init, acceleration, maximum, offset, True)


class Supertrend:
    __slots__ = ("atr", "direction", "lower", "multiplier", "prev_close", "row", "upper", "w")

    def __init__(self, w: int, multiplier: float) -> None:
        self.w = w
        self.multiplier = multiplier
        self.atr = Atr(w)
        self.upper = self.lower = 0.0
        self.direction = 1.0
        self.prev_close = NAN
        self.row = -1

    def update(self, high: float, low: float, close: float) -> tuple[float, float]:
        self.row += 1
        a = self.atr.update(high, low, close)[0]
        pc = self.prev_close
        self.prev_close = close
        if self.row < self.w:
            return NAN, NAN
        mid = (high + low) / 2.0
        basic_upper = mid + self.multiplier * a
        basic_lower = mid - self.multiplier * a
        if self.row == self.w:
            self.upper = basic_upper
            self.lower = basic_lower
            self.direction = 1.0
        else:
            upper, lower = self.upper, self.lower
            self.upper = basic_upper if (basic_upper < upper or pc > upper) else upper
            self.lower = basic_lower if (basic_lower > lower or pc < lower) else lower
            if self.direction > 0.0 and close < self.lower:
                self.direction = -1.0
            elif self.direction < 0.0 and close > self.upper:
                self.direction = 1.0
        line = self.lower if self.direction > 0.0 else self.upper
        return line, self.direction


class _Mid:
    __slots__ = ("hi", "lo")

    def __init__(self, w: int) -> None:
        self.hi = RollingExtreme(w, True)
        self.lo = RollingExtreme(w, False)

    def update(self, high: float, low: float) -> float:
        return (self.hi.update(high)[0] + self.lo.update(low)[0]) / 2.0


class Ichimoku:
    __slots__ = ("base", "conv", "row", "span_b", "start")

    def __init__(self, tenkan: int, kijun: int, senkou: int) -> None:
        self.conv = _Mid(tenkan)
        self.base = _Mid(kijun)
        self.span_b = _Mid(senkou)
        self.start = max(tenkan, kijun, senkou) - 1
        self.row = -1

    def update(self, high: float, low: float) -> tuple[float, float, float, float]:
        self.row += 1
        conv = self.conv.update(high, low)
        base = self.base.update(high, low)
        span_b = self.span_b.update(high, low)
        if self.row < self.start:
            return NAN, NAN, NAN, span_b
        return conv, base, (conv + base) / 2.0, span_b


STREAMS = {
    "sar": Sar,
    "sarext": Sarext,
    "supertrend": Supertrend,
    "ichimoku": Ichimoku,
}
