"""Bronze: raw candles as received, append-only, partitioned by source/symbol/interval/date.

Each fetch becomes one batch, and a paged source (Binance) gives one batch per page, written
as the page arrives, so a job killed mid-fetch keeps every page it already received. A
batch's rows are split by UTC date into ``date=<YYYY-MM-DD>/<batch>.parquet`` files, then
the batch manifest is written to ``_batches/<batch>.json``. The manifest is the commit:
readers and the resume point only see batches with a manifest, so a fetch killed halfway is
invisible and simply redone. The batch id is the content hash, so redoing it rewrites the
same files (idempotent). Existing batches are never modified.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import mlta

from .. import storage
from ..errors import DataError, StorageError
from .lake import bronze_dir, read_table, write_parquet
from .manifest import DatasetManifest, TimeRange, content_hash, schema_of, spec_hash
from .sources.base import INTERVAL_MS, STANDARD_COLUMNS, CandleSource, PagedCandleSource

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

log = logging.getLogger(__name__)
BATCHES = "_batches"


def standardize(table: pa.Table, where: str) -> pa.Table:
    """``table`` with the standard columns cast to their types, extra columns kept as is."""
    import pyarrow as pa

    missing = [c for c in STANDARD_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"{where}: source returned no column(s) {', '.join(missing)}",
                        hint="a CandleSource must return the standard columns")
    ts = pa.timestamp("ms", tz="UTC")
    for name in STANDARD_COLUMNS:
        target = ts if name.endswith("_time") else pa.float64()
        col = table[name]
        if col.type != target:
            try:
                col = col.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataError(f"{where}: column {name!r} of type {col.type} is not {target}",
                                hint="fix the source's output types") from exc
            table = table.set_column(table.schema.get_field_index(name), name, col)
    return table


def list_batches(root: str, source: str, symbol: str, interval: str) -> list[DatasetManifest]:
    """Committed batches, oldest data first."""
    import pyarrow.fs as pafs

    fs, path = storage.resolve(storage.join(bronze_dir(root, source, symbol, interval), BATCHES))
    try:
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    except OSError as exc:
        raise StorageError(f"listing Bronze batches at {path} failed: {exc}") from exc
    out = []
    for info in infos:
        name = info.path.rsplit("/", 1)[-1]
        if info.type == pafs.FileType.File and name.endswith(".json") and not name.startswith("."):
            uri = storage.join(bronze_dir(root, source, symbol, interval), BATCHES, name)
            out.append(DatasetManifest.model_validate(storage.read_json(uri)))
    return sorted(out, key=lambda m: (m.time_range.start or datetime.min.replace(tzinfo=UTC),
                                      m.created_at, m.version))


def stored_range(root: str, source: str, symbol: str,
                 interval: str) -> tuple[datetime, datetime] | None:
    """(first, last) open time stored in Bronze for this stream, or None when empty."""
    batches = [b for b in list_batches(root, source, symbol, interval) if b.rows]
    if not batches:
        return None
    starts = [b.time_range.start for b in batches if b.time_range.start]
    ends = [b.time_range.end for b in batches if b.time_range.end]
    return min(starts), max(ends)


def covered_from(root: str, source: str, symbol: str, interval: str) -> datetime | None:
    """The earliest time already fetched: a batch's requested start, or its first candle.

    A window before the first candle that was requested and came back empty (before a
    listing date, say) is not asked for again on every run.
    """
    starts = []
    for batch in list_batches(root, source, symbol, interval):
        if batch.time_range.start is not None:
            starts.append(batch.time_range.start)
        if batch.requested_range is not None and batch.requested_range.start is not None:
            starts.append(batch.requested_range.start)
    return min(starts) if starts else None


def last_open_time(root: str, source: str, symbol: str, interval: str) -> datetime | None:
    """The last stored open time; fetching resumes at this plus one interval."""
    found = stored_range(root, source, symbol, interval)
    return found[1] if found else None


def write_batch(root: str, source: str, symbol: str, interval: str, table: pa.Table,
                requested: tuple[datetime | None, datetime | None] | None = None,
                ) -> DatasetManifest | None:
    """Append ``table`` as one batch; None when it is empty. Same rows -> same batch id."""
    import pyarrow.compute as pc

    where = f"{source}/{symbol}/{interval}"
    table = standardize(table, where)
    if table.num_rows == 0:
        return None
    table = table.take(pc.sort_indices(table, [("open_time", "ascending")]))
    digest = content_hash(table)
    batch = digest[:16]
    base = bronze_dir(root, source, symbol, interval)
    manifest_uri = storage.join(base, BATCHES, f"{batch}.json")
    if storage.exists(manifest_uri):
        return DatasetManifest.model_validate(storage.read_json(manifest_uri))
    fs, base_path = storage.resolve(base)
    import numpy as np

    days = pc.strftime(table["open_time"], format="%Y-%m-%d").to_numpy(zero_copy_only=False)
    # Rows are sorted, so each day is one contiguous slice.
    bounds = [0, *(np.flatnonzero(days[1:] != days[:-1]) + 1).tolist(), len(days)]
    files = []
    for lo, hi in itertools.pairwise(bounds):
        rel = f"date={days[lo]}/{batch}.parquet"
        tmp = f"{base_path}/date={days[lo]}/.{batch}.parquet.tmp"
        try:
            write_parquet(fs, tmp, table.slice(lo, hi - lo))
            fs.move(tmp, f"{base_path}/{rel}")
        except OSError as exc:
            raise StorageError(f"writing Bronze {base}/{rel} failed: {exc}") from exc
        files.append(rel)
    times = table["open_time"]
    manifest = DatasetManifest(
        layer="bronze", name=f"bronze/source={source}/symbol={symbol}/interval={interval}",
        version=batch, uri=manifest_uri, created_at=datetime.now(UTC),
        code_version=mlta.__version__,
        spec_hash=spec_hash({"source": source, "symbol": symbol, "interval": interval}),
        content_hash=digest, rows=table.num_rows, rows_by_symbol={symbol: table.num_rows},
        symbols=[symbol], source=source, interval=interval,
        time_range=TimeRange(start=pc.min(times).as_py(), end=pc.max(times).as_py()),
        columns=schema_of(table), files=files,
        requested_range=TimeRange(start=requested[0], end=requested[1]) if requested else None,
    )
    storage.write_json_atomic(manifest_uri, manifest.model_dump(mode="json"))
    log.info("bronze batch written", extra={"symbol": symbol, "batch": batch,
                                            "rows": table.num_rows, "files": len(files)})
    return manifest


def _utc(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def ingest(root: str, source_key: str, source: CandleSource, symbol: str, interval: str,
           start: datetime | None, end: datetime | None,
           now: datetime | None = None) -> list[DatasetManifest]:
    """Fetch what Bronze lacks for [start, end) and append it; returns the new batches.

    Resumes at the last stored open time plus one interval; backfills when ``start`` is
    earlier than what is stored. Candles not closed yet (close time after ``now``) are not
    stored, since a stored candle is never rewritten. A :class:`PagedCandleSource` is stored
    page by page: each page is committed before the next one is requested.
    """
    start, end = _utc(start), _utc(end)
    step = timedelta(milliseconds=INTERVAL_MS[interval])
    now = now or datetime.now(UTC)
    stored = stored_range(root, source_key, symbol, interval)
    windows: list[tuple[datetime | None, datetime | None]]
    if stored is None:
        windows = [(start, end)]
    else:
        first, last = stored
        covered = covered_from(root, source_key, symbol, interval) or first
        windows = []
        if start is not None and start < covered:
            windows.append((start, first if end is None else min(first, end)))
        resume = last + step
        windows.append((resume if start is None else max(start, resume), end))
    written = []
    for lo, hi in windows:
        if lo is not None and hi is not None and lo >= hi:
            continue
        requested_lo = lo
        with contextlib.closing(_pages(source, symbol, interval, lo, hi)) as pages:
            for page, paged in pages:
                table = _in_window(standardize(page, f"{source_key}/{symbol}"), lo, hi, now)
                if paged and table.num_rows:  # this page covers up to its last candle
                    import pyarrow.compute as pc

                    covered_to = pc.max(table["open_time"]).as_py() + step
                    requested = (requested_lo, covered_to)
                else:
                    requested = (requested_lo, hi)
                batch = write_batch(root, source_key, symbol, interval, table, requested)
                if batch is not None:
                    written.append(batch)
                    requested_lo = requested[1]
    return written


def _pages(source: CandleSource, symbol: str, interval: str, lo: datetime | None,
           hi: datetime | None) -> Generator[tuple[pa.Table, bool], None, None]:
    """(table, paged): a paged source's pages as they arrive, else one table from ``fetch``."""
    if isinstance(source, PagedCandleSource):
        pages = source.iter_pages(symbol, interval, lo, hi)
        try:
            for page in pages:
                yield page, True
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        return
    yield source.fetch(symbol, interval, lo, hi), False


def _in_window(table: pa.Table, lo: datetime | None, hi: datetime | None,
               now: datetime) -> pa.Table:
    """Rows with open time in [lo, hi) whose candle had closed by ``now``."""
    import pyarrow.compute as pc

    keep = pc.less_equal(table["close_time"], _ts_scalar(now))
    if lo is not None:
        keep = pc.and_(keep, pc.greater_equal(table["open_time"], _ts_scalar(lo)))
    if hi is not None:
        keep = pc.and_(keep, pc.less(table["open_time"], _ts_scalar(hi)))
    return table.filter(keep)


def _ts_scalar(ts: datetime) -> pa.Scalar:
    import pyarrow as pa

    return pa.scalar(ts, type=pa.timestamp("ms", tz="UTC"))


def read_bronze(root: str, source: str, symbol: str,
                interval: str) -> tuple[pa.Table, list[DatasetManifest]]:
    """Every committed batch's standard columns (in batch order) and the batch manifests."""
    import pyarrow as pa

    batches = list_batches(root, source, symbol, interval)
    base = bronze_dir(root, source, symbol, interval)
    tables = [read_table(storage.join(base, rel), columns=list(STANDARD_COLUMNS))
              for b in batches for rel in b.files]
    if not tables:
        return standardize(pa.table({c: pa.array([], pa.float64()) if not c.endswith("_time")
                                     else pa.array([], pa.timestamp("ms", tz="UTC"))
                                     for c in STANDARD_COLUMNS}), "empty"), batches
    return pa.concat_tables([standardize(t, base) for t in tables]), batches
