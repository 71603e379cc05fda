"""The manifest every dataset version carries, and the hashes that name versions.

A version id is content-addressed: it is derived from the hash of the data and the hash of
the spec that produced it, so rerunning the same inputs with the same spec names the same
version (and finds it already written), while any change in data or spec names a new one.
The manifest records lineage (the exact input versions), the code version, the schema, the
time range and the quality summary: enough to audit or reproduce a dataset.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

MANIFEST_FILE = "_manifest.json"
FORMAT_VERSION = 1


class TimeRange(BaseModel):
    """First and last candle open time in the dataset (both inclusive), UTC."""

    model_config = ConfigDict(extra="forbid")

    start: datetime | None = None
    end: datetime | None = None


class ColumnSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: str


class InputRef(BaseModel):
    """One input dataset version this version was built from."""

    model_config = ConfigDict(extra="forbid")

    layer: Literal["bronze", "silver", "gold"]
    version: str
    uri: str
    symbol: str | None = None


class DatasetManifest(BaseModel):
    """What a Bronze batch, a Silver version or a Gold version contains and came from."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    layer: Literal["bronze", "silver", "gold"]
    name: str = Field(description="Dataset name, e.g. gold/default/btc-5m.")
    version: str
    uri: str = Field(description="Where this version lives (directory, or the batch manifest).")
    created_at: datetime
    code_version: str
    spec_hash: str
    content_hash: str
    rows: int
    rows_by_symbol: dict[str, int] = Field(default_factory=dict)
    symbols: list[str] = Field(default_factory=list)
    source: str = ""
    interval: str = ""
    time_range: TimeRange = Field(default_factory=TimeRange)
    requested_range: TimeRange | None = Field(
        default=None, description="Bronze: the [start, end) window fetched (None = open).")
    columns: list[ColumnSchema] = Field(default_factory=list, description="The data's schema.")
    files: list[str] = Field(default_factory=list, description="Data files, relative to uri.")
    quality: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputRef] = Field(default_factory=list)
    feature_columns: list[str] = Field(default_factory=list)
    features: dict[str, Any] | None = Field(
        default=None,
        description="Gold: the feature spec (indicators, transforms, exclude; wire form) that "
                    "computed feature_columns, so a service can compute the same features from "
                    "live candles. None when a custom featurizer was used.")


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def spec_hash(payload: Any) -> str:
    """SHA-256 of a JSON-able spec fragment, key order independent."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def version_id(content_hash: str, spec_digest: str) -> str:
    """The version id for this content produced under this spec (16 hex digits)."""
    return hashlib.sha256(f"{content_hash}:{spec_digest}".encode()).hexdigest()[:16]


def content_hash(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types and values, independent of chunking.

    Floats are hashed by value (NaNs canonicalised), timestamps as int64, strings as UTF-8
    with lengths, so the same logical data always hashes the same.
    """
    import numpy as np
    import pyarrow as pa

    digest = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns, strict=True):
        digest.update(f"{name}:{column.type};".encode())
        arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
        digest.update(np.packbits(valid).tobytes())
        kind = arr.type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_duration(kind):
            arr = arr.cast(pa.int64())
            kind = arr.type
        if pa.types.is_floating(kind):
            values = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
            values = np.where(np.isnan(values), np.nan, values)
            digest.update(np.ascontiguousarray(values).tobytes())
        elif pa.types.is_integer(kind) or pa.types.is_boolean(kind):
            values = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            digest.update(np.ascontiguousarray(values).tobytes())
        else:
            for item in arr.cast(pa.string()).to_pylist():
                data = b"" if item is None else str(item).encode()
                digest.update(len(data).to_bytes(8, "big") + data)
    digest.update(f"rows:{table.num_rows}".encode())
    return digest.hexdigest()


def combine_hashes(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def schema_of(table: pa.Table) -> list[ColumnSchema]:
    return [ColumnSchema(name=f.name, type=str(f.type)) for f in table.schema]
