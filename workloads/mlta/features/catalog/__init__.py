"""Indicator definitions, one module per category; importing this package registers them."""

from . import (
    averages,
    cycle,
    extras,
    momentum,
    oscillators,
    overlap,
    patterns,
    patterns_ext,
    price,
    regression,
    statistic,
    volatility,
    volume,
    volume_ext,
)

__all__ = [
    "averages", "cycle", "extras", "momentum", "oscillators", "overlap", "patterns", "patterns_ext", "price",
    "regression", "statistic", "volatility", "volume", "volume_ext",
]
