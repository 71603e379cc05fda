"""The pipeline against a local fake Binance (real HTTP) serving recorded candles."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.support.fake_binance import FakeBinance

from mlta.data import bronze
from mlta.data.lake import bronze_dir
from mlta.data.sources import source_key
from mlta.jobs.pipeline import run_pipeline, validate_spec


@pytest.fixture()
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)


def _spec(url: str, end: str) -> dict:
    return {"source": {"type": "binance", "symbols": ["ADABTC"], "interval": "5m",
                       "start": "2018-01-10T00:00:00Z", "end": end,
                       "binance": {"baseUrl": url}},
            "features": {"indicators": [{"name": "returns", "params": {"window": 1}}]}}


def test_binance_pipeline_resumes_and_keeps_the_raw_columns(lake: str,
                                                            fake: FakeBinance) -> None:
    first_spec = validate_spec(_spec(fake.url, "2018-01-20T00:00:00Z"))
    first = run_pipeline(first_spec, lake, "default", "ada")
    key = source_key(first_spec.source)
    assert key.startswith("binance-")  # a non-default exchange URL gets its own partition
    first_batches = bronze.list_batches(lake, key, "ADABTC", "5m")
    pages = [r for r in fake.requests if r.path == "/api/v3/klines" and r.rows]
    # One Bronze batch per kline page, committed as the page arrived.
    assert [b.rows for b in first_batches] == [r.rows for r in pages] and len(pages) == 3
    stored = pq.read_table(Path(bronze_dir(lake, key, "ADABTC", "5m").removeprefix("file://"))
                           / first_batches[0].files[0])
    assert {"quote_volume", "trades"} <= set(stored.column_names)  # kept as received
    for earlier, later_batch in itertools.pairwise(first_batches):
        assert later_batch.requested_range is not None and earlier.requested_range is not None
        assert later_batch.requested_range.start == earlier.requested_range.end
    klines_before = len([r for r in fake.requests if r.path == "/api/v3/klines"])

    later = validate_spec(_spec(fake.url, "2018-02-01T00:00:00Z"))
    second = run_pipeline(later, lake, "default", "ada")
    batches = bronze.list_batches(lake, key, "ADABTC", "5m")
    assert batches[: len(first_batches)] == first_batches  # nothing stored was rewritten
    new = batches[len(first_batches):]
    assert new
    step_ms = 300_000
    last_stored = first_batches[-1].time_range.end
    assert last_stored is not None and new[0].time_range.start is not None
    assert (new[0].time_range.start - last_stored).total_seconds() * 1000 >= step_ms
    new_requests = [r for r in fake.requests if r.path == "/api/v3/klines"][klines_before:]
    assert min(int(r.params["startTime"]) for r in new_requests) == int(
        last_stored.timestamp() * 1000) + step_ms  # resumed after the last stored candle
    assert sum(b.rows for b in batches) == 5720  # every recorded candle exactly once
    quality = second["quality"]["symbols"]["ADABTC"]
    assert quality["missingBars"] == 40 and quality["duplicates"] == 0
    assert second["rows"] == 5727 and first["datasetVersion"] != second["datasetVersion"]
    again = run_pipeline(later, lake, "default", "ada")
    assert again["datasetVersion"] == second["datasetVersion"]
    assert again["newBronzeBatches"] == 0
