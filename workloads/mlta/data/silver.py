"""Silver: one clean candle stream per (source, symbol, interval), one version per content.

Built from every committed Bronze batch of the stream, restricted to the spec's
[start, end): typed (timestamp[ms, UTC] times, float64 OHLCV), deduplicated, sorted, checked
and repaired by :mod:`mlta.data.quality`. Columns: the standard ones plus ``is_filled``
(a forward-filled bar, repair only) and ``is_outlier`` (robust z-score flag).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import mlta

from .. import storage
from .bronze import read_bronze
from .lake import read_manifest, read_table, silver_dir, sweep_stale_temp, version_writer
from .manifest import (
    DatasetManifest,
    InputRef,
    TimeRange,
    content_hash,
    schema_of,
    spec_hash,
    version_id,
)
from .quality import QualityReport, apply_quality

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

SILVER_FILE = "part-0.parquet"
SILVER_COLUMNS = ("open_time", "close_time", "open", "high", "low", "close", "volume",
                  "is_filled", "is_outlier")


def silver_schema() -> pa.Schema:
    import pyarrow as pa

    ts = pa.timestamp("ms", tz="UTC")
    return pa.schema([("open_time", ts), ("close_time", ts), ("open", pa.float64()),
                      ("high", pa.float64()), ("low", pa.float64()), ("close", pa.float64()),
                      ("volume", pa.float64()), ("is_filled", pa.bool_()),
                      ("is_outlier", pa.bool_())])


def build_silver(bronze: pa.Table, *, symbol: str, interval: str, policy: str,
                 max_gap_ratio: float, start: datetime | None = None,
                 end: datetime | None = None) -> tuple[pa.Table, QualityReport]:
    """Clean ``bronze`` rows for [start, end) into a Silver table and its quality report."""
    import pyarrow as pa

    frame = bronze.select(["open_time", "close_time", "open", "high", "low", "close",
                           "volume"]).to_pandas()
    if start is not None:
        frame = frame[frame["open_time"] >= _utc(start)]
    if end is not None:
        frame = frame[frame["open_time"] < _utc(end)]
    frame, report = apply_quality(frame, symbol=symbol, interval=interval, policy=policy,
                                  max_gap_ratio=max_gap_ratio)
    table = pa.Table.from_pandas(frame[list(SILVER_COLUMNS)], schema=silver_schema(),
                                 preserve_index=False)
    return table.replace_schema_metadata(None), report


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def silver_spec(*, source: str, symbol: str, interval: str, policy: str,
                max_gap_ratio: float, start: datetime | None,
                end: datetime | None) -> dict[str, Any]:
    return {"layer": "silver", "source": source, "symbol": symbol, "interval": interval,
            "policy": policy, "maxGapRatio": max_gap_ratio,
            "start": _utc(start).isoformat() if start else None,
            "end": _utc(end).isoformat() if end else None}


def write_silver(root: str, *, source: str, symbol: str, interval: str, policy: str,
                 max_gap_ratio: float, start: datetime | None = None,
                 end: datetime | None = None) -> tuple[DatasetManifest, pa.Table]:
    """Build the Silver version of a stream from its Bronze batches and commit it atomically.

    Idempotent: the version id is derived from the content and the spec, and an existing
    version is returned as is.
    """
    import pyarrow.compute as pc

    bronze, batches = read_bronze(root, source, symbol, interval)
    table, report = build_silver(bronze, symbol=symbol, interval=interval, policy=policy,
                                 max_gap_ratio=max_gap_ratio, start=start, end=end)
    spec = silver_spec(source=source, symbol=symbol, interval=interval, policy=policy,
                       max_gap_ratio=max_gap_ratio, start=start, end=end)
    digest = content_hash(table)
    s_hash = spec_hash(spec)
    version = version_id(digest, s_hash)
    parent = silver_dir(root, source, symbol, interval)
    existing = read_manifest(storage.join(parent, version))
    if existing is not None:
        return existing, table
    times = table["open_time"]
    manifest = DatasetManifest(
        layer="silver", name=f"silver/source={source}/symbol={symbol}/interval={interval}",
        version=version, uri=storage.join(parent, version), created_at=datetime.now(UTC),
        code_version=mlta.__version__, spec_hash=s_hash, content_hash=digest,
        rows=table.num_rows, rows_by_symbol={symbol: table.num_rows}, symbols=[symbol],
        source=source, interval=interval,
        time_range=TimeRange(start=pc.min(times).as_py(), end=pc.max(times).as_py()),
        columns=schema_of(table), files=[SILVER_FILE],
        quality=report.model_dump(mode="json"),
        inputs=[InputRef(layer="bronze", version=b.version, uri=b.uri, symbol=symbol)
                for b in batches],
    )
    sweep_stale_temp(parent)
    with version_writer(parent) as writer:
        writer.write_table(SILVER_FILE, table)
        manifest = writer.commit(manifest)
    return manifest, table


def read_silver(version_uri: str) -> tuple[pd.DataFrame, DatasetManifest]:
    """A committed Silver version as a frame, with its manifest."""
    from ..errors import DataError

    manifest = read_manifest(version_uri)
    if manifest is None or manifest.layer != "silver":
        raise DataError(f"no committed Silver dataset at {version_uri}",
                        hint="list versions with mlta.data.catalog", reason="NotFound")
    table = read_table(storage.join(version_uri, SILVER_FILE))
    return table.to_pandas(), manifest
