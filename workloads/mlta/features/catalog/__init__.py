"""Indicator definitions, one module per category; importing this package registers them."""

from . import momentum, overlap, statistic, volatility, volume

__all__ = ["momentum", "overlap", "statistic", "volatility", "volume"]
