"""Gold: features per symbol over Silver, one content-addressed version per pipeline run.

The Gold contract (the trainer reads it): ``gold/<namespace>/<pipeline>/<version>/`` holds
``data/symbol=<S>/part-0.parquet`` and ``_manifest.json``. Columns: ``symbol`` (string),
``open_time``, ``close_time`` (timestamp UTC), ``open, high, low, close, volume`` (float64)
and the feature columns ``f_*`` (float64, NaN during warm-up), sorted by symbol then
close_time; ``manifest.feature_columns`` lists the features in order.

Parts are written by whoever computes them (a Ray task per symbol) into the version's
temporary directory; the driver then commits the whole version at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

import mlta

from .. import storage
from ..errors import DataError
from .lake import GOLD_PART, VersionWriter, write_parquet
from .manifest import (
    ColumnSchema,
    DatasetManifest,
    InputRef,
    TimeRange,
    combine_hashes,
    content_hash,
    schema_of,
    version_id,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from ..specs.datapipeline import IndicatorSpec

    Featurizer = Callable[[pd.DataFrame, list[IndicatorSpec]], tuple[pd.DataFrame, list[str]]]

BASE_COLUMNS = ("open_time", "close_time", "open", "high", "low", "close", "volume")


class GoldPart(BaseModel):
    """One symbol's part of a Gold version, as written to the temporary directory."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    file: str
    content_hash: str
    rows: int
    start: datetime | None
    end: datetime | None
    feature_columns: list[str]
    columns: list[ColumnSchema]


def default_featurizer() -> Featurizer:
    from ..features.pipeline import build_features

    return build_features


def featurize(silver: pa.Table, symbol: str, indicators: list[IndicatorSpec],
              featurizer: Featurizer | None = None) -> tuple[pa.Table, list[str]]:
    """The Gold table for one symbol: base columns from Silver plus float64 ``f_*`` features."""
    import numpy as np
    import pyarrow as pa

    frame = silver.select(list(BASE_COLUMNS)).to_pandas()
    frame = frame.sort_values("open_time", kind="stable").reset_index(drop=True)
    build = featurizer or default_featurizer()
    out, names = build(frame, list(indicators))
    bad = [n for n in names if not n.startswith("f_") or n not in out.columns]
    if bad or len(set(names)) != len(names):
        raise DataError(f"{symbol}: feature pipeline returned bad feature columns {bad or names}",
                        hint="feature names must be unique, start with f_ and be in the frame")
    if len(out) != len(frame):
        raise DataError(f"{symbol}: feature pipeline changed the row count "
                        f"({len(frame)} -> {len(out)})", hint="features must keep every row")
    ts = pa.timestamp("ms", tz="UTC")
    cols: dict[str, Any] = {"symbol": pa.array([symbol] * len(out), type=pa.string())}
    for name in BASE_COLUMNS:
        cols[name] = pa.array(frame[name], type=ts if name.endswith("_time") else pa.float64())
    for name in names:
        cols[name] = pa.array(np.asarray(out[name], dtype=np.float64), type=pa.float64())
    table = pa.table(cols)
    return table.sort_by([("close_time", "ascending")]), list(names)


def write_part(tmp_uri: str, symbol: str, table: pa.Table, feature_columns: list[str]) -> GoldPart:
    """Write one symbol's part into a version's temporary directory."""
    import pyarrow.compute as pc

    rel = f"data/symbol={symbol}/{GOLD_PART}"
    fs, path = storage.resolve(tmp_uri)
    write_parquet(fs, f"{path}/{rel}", table)
    times = table["open_time"]
    return GoldPart(symbol=symbol, file=rel, content_hash=content_hash(table),
                    rows=table.num_rows, start=pc.min(times).as_py(), end=pc.max(times).as_py(),
                    feature_columns=feature_columns, columns=schema_of(table))


def commit_gold(writer: VersionWriter, parts: Sequence[GoldPart], *, namespace: str,
                pipeline: str, spec_digest: str, source: str, interval: str,
                inputs: list[InputRef], quality: dict[str, Any],
                features: dict[str, Any] | None = None) -> DatasetManifest:
    """Name the version from its content and spec, write the manifest, and publish it.

    ``features`` is the feature spec (``Features.to_wire()``) that computed the columns; it is
    recorded so the prediction service can rebuild the same features from live candles.
    """
    if not parts:
        raise DataError(f"gold {namespace}/{pipeline}: no symbols to write",
                        hint="source.symbols must name at least one symbol with data")
    parts = sorted(parts, key=lambda p: p.symbol)
    columns = parts[0].feature_columns
    for part in parts[1:]:
        if part.feature_columns != columns:
            raise DataError(f"{part.symbol}: feature columns differ from {parts[0].symbol}'s",
                            hint="the feature pipeline must return the same columns per symbol")
    digest = combine_hashes([f"{p.symbol}:{p.content_hash}" for p in parts])
    version = version_id(digest, spec_digest)
    starts = [p.start for p in parts if p.start]
    ends = [p.end for p in parts if p.end]
    manifest = DatasetManifest(
        layer="gold", name=f"gold/{namespace}/{pipeline}", version=version,
        uri=storage.join(writer.parent_uri, version), created_at=datetime.now(UTC),
        code_version=mlta.__version__, spec_hash=spec_digest, content_hash=digest,
        rows=sum(p.rows for p in parts), rows_by_symbol={p.symbol: p.rows for p in parts},
        symbols=[p.symbol for p in parts], source=source, interval=interval,
        time_range=TimeRange(start=min(starts) if starts else None,
                             end=max(ends) if ends else None),
        columns=parts[0].columns, files=[p.file for p in parts], quality=quality,
        inputs=inputs, feature_columns=list(columns), features=features,
    )
    return writer.commit(manifest)
