"""Shorthands for catalog modules."""

from __future__ import annotations

from ..registry import Param

MAX_WINDOW = 100_000


def window(default: int, low: int = 2, name: str = "window") -> Param:
    return Param(name, default, low, MAX_WINDOW, integer=True, description="bars in the window")


def factor(name: str, default: float, low: float = 0.01, high: float = 100.0) -> Param:
    return Param(name, default, low, high, integer=False, description="multiplier")


C = ("close",)
HL = ("high", "low")
HLC = ("high", "low", "close")
HLCV = ("high", "low", "close", "volume")
OHLC = ("open", "high", "low", "close")
