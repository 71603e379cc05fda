"""Indicator definitions, one module per category; importing this package registers them."""

from . import (
    averages,
    momentum,
    oscillators,
    overlap,
    patterns,
    price,
    regression,
    statistic,
    volatility,
    volume,
)

__all__ = [
    "averages", "momentum", "oscillators", "overlap", "patterns", "price", "regression", "statistic",
    "volatility", "volume",
]
