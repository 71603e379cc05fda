"""Candle sources (sample, files, binance) behind one Protocol, built from the spec.

:func:`source_key` names the source in the lake's Bronze partitions. It distinguishes
configurations that produce different candles (a sample seed, a files directory, a non-default
exchange URL), so resuming never appends one stream's candles to another's.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import TYPE_CHECKING

from ...errors import SpecError
from .base import INTERVAL_MS, STANDARD_COLUMNS, CandleSource, PagedCandleSource

if TYPE_CHECKING:  # pragma: no cover
    from ...specs.datapipeline import Source

__all__ = [
    "INTERVAL_MS", "STANDARD_COLUMNS", "CandleSource", "PagedCandleSource", "enum_value",
    "make_source", "source_key",
]

_DEFAULT_BINANCE_URL = "https://api.binance.com"


def _short_hash(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def enum_value(value: object) -> str:
    """A spec enum field's wire value (specs store values, but code may pass members)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def source_key(spec: Source) -> str:
    """The ``source=<key>`` partition value for this source configuration."""
    from .sample import DEFAULT_ORIGIN

    kind = enum_value(spec.type)
    if kind == "sample":
        seed = spec.sample.seed if spec.sample else 42
        origin = (spec.start or DEFAULT_ORIGIN).isoformat()
        return f"sample-{_short_hash({'seed': seed, 'origin': origin})}"
    if kind == "files":
        if spec.files is None:
            raise SpecError("source.files is required when source.type is files",
                            hint="add source.files.uri")
        return f"files-{_short_hash({'uri': spec.files.uri.rstrip('/')})}"
    if kind == "binance":
        url = (spec.binance.base_url if spec.binance else _DEFAULT_BINANCE_URL).rstrip("/")
        return "binance" if url == _DEFAULT_BINANCE_URL else f"binance-{_short_hash(url)}"
    raise SpecError(f"unknown source type {kind!r}", hint="use sample, binance or files")


def make_source(source_spec: Source) -> CandleSource:
    """A source object for ``source_spec`` (the lake partitions by :func:`source_key`)."""
    kind = enum_value(source_spec.type)
    key = source_key(source_spec)
    if kind == "sample":
        from .sample import SampleSource

        sample = source_spec.sample
        return SampleSource(seed=sample.seed if sample else 42,
                            bars=sample.bars if sample else 5000,
                            origin=source_spec.start, name=key)
    if kind == "files":
        from .files import FilesSource

        assert source_spec.files is not None  # source_key checked it
        return FilesSource(uri=source_spec.files.uri, format=enum_value(source_spec.files.format),
                           name=key)
    from ...specs.datapipeline import BinanceSource as BinanceSettings
    from .binance import BinanceSource

    settings = source_spec.binance or BinanceSettings()
    return BinanceSource(base_url=settings.base_url,
                         max_weight_per_minute=settings.max_weight_per_minute, name=key)
