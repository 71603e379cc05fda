"""Candles from files: one file per symbol and interval, ``<SYMBOL>-<interval>.<ext>``.

Reads parquet, CSV or feather through pyarrow filesystems (local paths, file:// or s3://).
Accepts the recorded-candle layout (``date`` = candle open time, UTC, plus open/high/low/
close/volume) or the standard columns. Every problem (missing file, missing column, a
column of the wrong type, a corrupt file) raises :class:`DataError` naming the file and the
column, because a pipeline that silently skips a symbol is worse than one that stops.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ... import storage
from ...errors import DataError, StorageError
from .base import INTERVAL_MS

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
FORMATS = ("parquet", "csv", "feather")


class FilesSource:
    """Reads ``<uri>/<SYMBOL>-<interval>.<format>``."""

    def __init__(self, uri: str, format: str = "parquet", name: str = "files") -> None:
        if format not in FORMATS:
            raise DataError(f"unknown file format {format!r}", hint=f"use one of {FORMATS}")
        self.uri = uri
        self.format = format
        self.name = name

    def path_for(self, symbol: str, interval: str) -> str:
        return storage.join(self.uri, f"{symbol}-{interval}.{self.format}")

    def fetch(self, symbol: str, interval: str, start: datetime | None,
              end: datetime | None) -> pa.Table:
        """The file's candles with open time in [start, end), standard columns, sorted."""
        import pyarrow.compute as pc

        if interval not in INTERVAL_MS:
            raise DataError(f"unknown interval {interval!r}",
                            hint=f"use one of {', '.join(INTERVAL_MS)}")
        uri = self.path_for(symbol, interval)
        raw = self._read(uri)
        table = to_standard(raw, interval, uri)
        mask = None
        if start is not None:
            mask = pc.greater_equal(table["open_time"], _scalar(start))
        if end is not None:
            upper = pc.less(table["open_time"], _scalar(end))
            mask = upper if mask is None else pc.and_(mask, upper)
        if mask is not None:
            table = table.filter(mask)
        return table.take(pc.sort_indices(table, [("open_time", "ascending")]))

    def _read(self, uri: str) -> pa.Table:
        import pyarrow as pa
        import pyarrow.csv as pcsv
        import pyarrow.feather as feather
        import pyarrow.parquet as pq

        fs, path = storage.resolve(uri)
        try:
            if self.format == "parquet":
                return pq.read_table(path, filesystem=fs)
            with fs.open_input_file(path) as handle:
                if self.format == "csv":
                    return pcsv.read_csv(handle)
                return feather.read_table(handle)
        except FileNotFoundError as exc:
            raise DataError(f"candle file {uri} does not exist",
                            hint="files are named <SYMBOL>-<interval>.<format>, "
                                 "e.g. BTCUSDT-5m.parquet; check source.files.uri and symbols",
                            reason="NotFound") from exc
        except pa.ArrowInvalid as exc:
            raise DataError(f"candle file {uri} is corrupt or not {self.format}: {exc}",
                            hint="re-export the file or fix source.files.format") from exc
        except OSError as exc:
            if "not found" in str(exc).lower() or "no such file" in str(exc).lower():
                raise DataError(f"candle file {uri} does not exist",
                                hint="check source.files.uri and symbols",
                                reason="NotFound") from exc
            raise StorageError(f"reading {uri} failed: {exc}") from exc


def _scalar(ts: datetime) -> pa.Scalar:
    import pyarrow as pa

    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return pa.scalar(ts, type=pa.timestamp("ms", tz="UTC"))


def to_standard(raw: pa.Table, interval: str, where: str) -> pa.Table:
    """``raw`` with the standard columns and types; DataError names ``where`` and the column.

    ``date`` is accepted as the open time; ``close_time`` is derived (open + interval - 1 ms,
    the exchange convention) when absent. Timestamps without a zone are taken as UTC; integer
    times are epoch milliseconds; strings are parsed as ISO-8601.
    """
    import pyarrow as pa

    names = set(raw.column_names)
    time_col = "open_time" if "open_time" in names else "date" if "date" in names else None
    missing = [c for c in PRICE_COLUMNS if c not in names]
    if time_col is None:
        missing.insert(0, "date (or open_time)")
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)}",
                        hint="candle files need date, open, high, low, close, volume")
    ts_type = pa.timestamp("ms", tz="UTC")
    assert time_col is not None
    open_time = _as_time(raw[time_col], time_col, where)
    step = INTERVAL_MS[interval]
    if "close_time" in names:
        close_time = _as_time(raw["close_time"], "close_time", where)
    else:
        close_time = pa.array(
            open_time.cast(pa.int64()).to_numpy(zero_copy_only=False) + (step - 1),
            type=pa.int64(),
        ).cast(ts_type)
    cols: dict[str, pa.Array | pa.ChunkedArray] = {"open_time": open_time}
    for name in PRICE_COLUMNS:
        col = raw[name]
        if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)
                or pa.types.is_decimal(col.type)):
            raise DataError(f"{where}: column {name!r} has type {col.type}, expected a number",
                            hint="prices and volume must be numeric (float64)")
        cols[name] = col.cast(pa.float64())
    cols["close_time"] = close_time
    return pa.table(cols)


def _as_time(col: pa.ChunkedArray, name: str, where: str) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    ts_type = pa.timestamp("ms", tz="UTC")
    kind = col.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            col = pc.assume_timezone(col, "UTC")
        return col.cast(ts_type, safe=False)
    if pa.types.is_integer(kind):
        return col.cast(pa.int64()).cast(ts_type)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        import pandas as pd

        try:
            series = pd.to_datetime(col.to_pandas(), utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(f"{where}: column {name!r} has values that are not timestamps "
                            f"({exc})", hint="use ISO-8601 times in UTC") from exc
        return pa.chunked_array([pa.array(series).cast(ts_type)])
    raise DataError(f"{where}: column {name!r} has type {kind}, expected a timestamp",
                    hint="use a UTC timestamp, epoch milliseconds or ISO-8601 strings")
