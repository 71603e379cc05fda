"""Bronze: partitioned, append-only, resumable without gaps or duplicates, idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlta import storage
from mlta.data import bronze
from mlta.data.lake import bronze_dir
from mlta.data.sources.sample import DEFAULT_ORIGIN, SampleSource
from mlta.errors import DataError, SourceError

from .helpers import candles, to_table


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def _files(root: str) -> dict[str, float]:
    base = _local(root) / "bronze"
    return {str(p.relative_to(base)): p.stat().st_mtime_ns for p in base.rglob("*") if p.is_file()}


def test_batch_is_partitioned_by_source_symbol_interval_and_date(lake: str) -> None:
    table = to_table(candles(600, start=datetime(2024, 3, 1, 20, tzinfo=UTC)))  # spans 3 days
    manifest = bronze.write_batch(lake, "sample-x", "BTCUSDT", "5m", table)
    assert manifest is not None
    base = _local(bronze_dir(lake, "sample-x", "BTCUSDT", "5m"))
    assert base == _local(lake) / "bronze" / "source=sample-x" / "symbol=BTCUSDT" / "interval=5m"
    dates = sorted(p.name for p in base.iterdir() if p.name.startswith("date="))
    assert dates == ["date=2024-03-01", "date=2024-03-02", "date=2024-03-03"]
    assert manifest.files == [f"{d}/{manifest.version}.parquet" for d in dates]
    day1 = pq.read_table(base / manifest.files[0])
    assert day1.num_rows == 48  # 20:00 .. 23:55
    assert sum(pq.read_table(base / f).num_rows for f in manifest.files) == 600
    assert manifest.rows == 600 and manifest.layer == "bronze"
    assert manifest.time_range.start == datetime(2024, 3, 1, 20, tzinfo=UTC)
    assert (base / "_batches" / f"{manifest.version}.json").exists()


def test_extra_columns_are_kept_as_received(lake: str) -> None:
    table = to_table(candles(10)).append_column("trades", pa.array(range(10), pa.int64()))
    manifest = bronze.write_batch(lake, "s", "X", "5m", table)
    assert manifest is not None
    stored = pq.read_table(_local(bronze_dir(lake, "s", "X", "5m")) / manifest.files[0])
    assert stored["trades"].to_pylist() == list(range(10))


def test_source_output_without_standard_columns_is_rejected(lake: str) -> None:
    table = to_table(candles(10)).drop(["close_time"])
    with pytest.raises(DataError, match=r"no column.*close_time"):
        bronze.write_batch(lake, "s", "X", "5m", table)


def test_resume_continues_after_the_last_candle_without_gaps_or_duplicates(lake: str) -> None:
    first = SampleSource(seed=1, bars=1000)
    batches = bronze.ingest(lake, "sample-k", first, "BTCUSDT", "5m", None, None)
    assert len(batches) == 1 and batches[0].rows == 1000
    last = bronze.last_open_time(lake, "sample-k", "BTCUSDT", "5m")
    assert last == DEFAULT_ORIGIN + timedelta(minutes=5 * 999)
    grown = SampleSource(seed=1, bars=1500)  # the stream has 500 more candles now
    more = bronze.ingest(lake, "sample-k", grown, "BTCUSDT", "5m", None, None)
    assert len(more) == 1 and more[0].rows == 500
    assert more[0].time_range.start == last + timedelta(minutes=5)
    table, manifests = bronze.read_bronze(lake, "sample-k", "BTCUSDT", "5m")
    assert [m.version for m in manifests] == [batches[0].version, more[0].version]
    assert table.num_rows == 1500
    assert table.select(table.column_names).equals(
        grown.fetch("BTCUSDT", "5m", None, None).select(table.column_names))


def test_rerun_is_idempotent_and_existing_files_are_never_rewritten(lake: str) -> None:
    src = SampleSource(seed=2, bars=800)
    bronze.ingest(lake, "sample-k", src, "ETHUSDT", "5m", None, None)
    before = _files(lake)
    assert bronze.ingest(lake, "sample-k", src, "ETHUSDT", "5m", None, None) == []
    assert _files(lake) == before
    bronze.ingest(lake, "sample-k", SampleSource(seed=2, bars=900), "ETHUSDT", "5m", None, None)
    after = _files(lake)
    assert {k: v for k, v in after.items() if k in before} == before  # append-only
    assert len(after) > len(before)


def test_backfills_when_start_moves_earlier(lake: str) -> None:
    src = SampleSource(seed=3, bars=1000)
    t300 = DEFAULT_ORIGIN + timedelta(minutes=5 * 300)
    bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", t300, None)
    assert bronze.stored_range(lake, "sample-k", "BTCUSDT", "5m") == (
        t300, DEFAULT_ORIGIN + timedelta(minutes=5 * 999))
    new = bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", DEFAULT_ORIGIN, None)
    assert [b.rows for b in new] == [300]
    table, _ = bronze.read_bronze(lake, "sample-k", "BTCUSDT", "5m")
    ms = sorted(table["open_time"].cast(pa.int64()).to_pylist())
    assert len(ms) == len(set(ms)) == 1000


def test_end_bounds_the_fetch_and_unclosed_candles_are_not_stored(lake: str) -> None:
    src = SampleSource(seed=4, bars=1000)
    end = DEFAULT_ORIGIN + timedelta(minutes=5 * 100)
    [batch] = bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", None, end)
    assert batch.rows == 100
    # "now" in the middle of candle 150: candles 100..149 are closed, 150 is still open.
    now = DEFAULT_ORIGIN + timedelta(minutes=5 * 150 + 2)
    [batch] = bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", None, None, now=now)
    assert batch.rows == 50
    assert bronze.last_open_time(lake, "sample-k", "BTCUSDT", "5m") == (
        DEFAULT_ORIGIN + timedelta(minutes=5 * 149))


def test_a_batch_killed_before_its_manifest_is_invisible_and_redone(lake: str,
                                                                    monkeypatch) -> None:
    table = to_table(candles(400, start=datetime(2024, 3, 1, 22, tzinfo=UTC)))

    def crash(uri: str, payload: object) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(storage, "write_json_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        bronze.write_batch(lake, "s", "X", "5m", table)
    monkeypatch.undo()
    written = [p for p in _files(lake) if p.endswith(".parquet")]
    assert written  # data files exist ...
    assert bronze.list_batches(lake, "s", "X", "5m") == []  # ... but no committed batch
    assert bronze.last_open_time(lake, "s", "X", "5m") is None
    assert bronze.read_bronze(lake, "s", "X", "5m")[0].num_rows == 0
    manifest = bronze.write_batch(lake, "s", "X", "5m", table)  # the rerun
    assert manifest is not None and sorted(manifest.files) == sorted(
        p.split("/", 3)[3] for p in written)
    assert bronze.read_bronze(lake, "s", "X", "5m")[0].num_rows == 400


def test_empty_fetch_writes_nothing(lake: str) -> None:
    assert bronze.write_batch(lake, "s", "X", "5m", to_table(candles(0))) is None
    assert not storage.exists(bronze_dir(lake, "s", "X", "5m"))


class _Counting:
    """A real SampleSource that records the windows it was asked for."""

    def __init__(self, inner: SampleSource) -> None:
        self.inner, self.name = inner, inner.name
        self.calls: list[tuple[datetime | None, datetime | None]] = []

    def fetch(self, symbol: str, interval: str, start: datetime | None,
              end: datetime | None) -> pa.Table:
        self.calls.append((start, end))
        return self.inner.fetch(symbol, interval, start, end)


def test_an_empty_head_window_is_not_fetched_again(lake: str) -> None:
    before_listing = DEFAULT_ORIGIN - timedelta(days=3)  # the stream starts at its origin
    src = _Counting(SampleSource(seed=6, bars=300))
    [batch] = bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", before_listing, None)
    assert batch.time_range.start == DEFAULT_ORIGIN
    assert batch.requested_range is not None and batch.requested_range.start == before_listing
    assert bronze.covered_from(lake, "sample-k", "BTCUSDT", "5m") == before_listing
    src.calls.clear()
    assert bronze.ingest(lake, "sample-k", src, "BTCUSDT", "5m", before_listing, None) == []
    assert src.calls == [(DEFAULT_ORIGIN + timedelta(minutes=5 * 300), None)]  # the tail only


class _Paged:
    """A real SampleSource served in pages of ``size`` rows, failing after ``fail_after``."""

    def __init__(self, inner: SampleSource, size: int, fail_after: int | None = None) -> None:
        self.inner, self.name, self.size, self.fail_after = inner, inner.name, size, fail_after
        self.starts: list[datetime | None] = []

    def fetch(self, symbol: str, interval: str, start: datetime | None,
              end: datetime | None) -> pa.Table:
        raise AssertionError("a paged source is read page by page")

    def iter_pages(self, symbol: str, interval: str, start: datetime | None,
                   end: datetime | None) -> Iterator[pa.Table]:
        self.starts.append(start)
        table = self.inner.fetch(symbol, interval, start, end)
        for n, lo in enumerate(range(0, table.num_rows, self.size)):
            if self.fail_after is not None and n == self.fail_after:
                raise SourceError("exchange went away (injected)")
            yield table.slice(lo, self.size)


def test_a_paged_source_is_committed_page_by_page_and_a_failure_keeps_them(lake: str) -> None:
    full = SampleSource(seed=8, bars=1000)
    broken = _Paged(full, size=150, fail_after=3)
    with pytest.raises(SourceError, match="injected"):
        bronze.ingest(lake, "sample-p", broken, "BTCUSDT", "5m", DEFAULT_ORIGIN, None)
    kept = bronze.list_batches(lake, "sample-p", "BTCUSDT", "5m")
    assert [b.rows for b in kept] == [150, 150, 150]  # every page before the failure
    before = _files(lake)
    healthy = _Paged(full, size=400)
    new = bronze.ingest(lake, "sample-p", healthy, "BTCUSDT", "5m", DEFAULT_ORIGIN, None)
    assert healthy.starts == [DEFAULT_ORIGIN + timedelta(minutes=5 * 450)]  # resumed after them
    assert [b.rows for b in new] == [400, 150]
    assert {k: v for k, v in _files(lake).items() if k in before} == before  # untouched
    union = bronze.read_bronze(lake, "sample-p", "BTCUSDT", "5m")[0]
    expected = full.fetch("BTCUSDT", "5m", None, None)
    assert union.sort_by("open_time").equals(expected.select(union.column_names))
