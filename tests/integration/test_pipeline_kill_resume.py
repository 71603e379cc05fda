"""Kill -9 the DataPipeline job mid-fetch, rerun it, and get exactly the uninterrupted result.

The job runs as the operator runs it (``python -m mlta.jobs.run`` with an envelope, in its
own process) against the fake Binance serving the recorded candles. The fake holds the
kline request after N pages, so the kill lands at a known point of the fetch without any
timing guess; the test polls the server for it with a deadline. Afterwards: the pages
received before the kill are still there, byte for byte; the rerun asks only for what is
missing; Bronze holds every recorded candle exactly once; and Gold is the very version an
uninterrupted run names, with the same data.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.support.fake_binance import FakeBinance
from tests.support.ray_cluster import wait_for

from mlta.data import bronze, catalog
from mlta.data.lake import bronze_dir, read_dataset
from mlta.data.sources import source_key
from mlta.jobs.pipeline import run_pipeline, validate_spec
from mlta.specs import JobEnvelope, JobResult

REPO = Path(__file__).resolve().parents[2]
SYMBOLS = ["ETHBTC", "ADABTC"]
KLINES = "/api/v3/klines"
PAGES_BEFORE_KILL = 3


@pytest.fixture()
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


def _spec(url: str) -> dict[str, Any]:
    return {"source": {"type": "binance", "symbols": SYMBOLS, "interval": "5m",
                       "start": "2018-01-10T00:00:00Z", "end": "2018-02-01T00:00:00Z",
                       "binance": {"baseUrl": url}},
            "features": {"indicators": [{"name": "returns", "params": {"window": 1}},
                                        {"name": "rsi", "params": {"window": 14}}]}}


def _start_job(spec: dict[str, Any], lake: str) -> subprocess.Popen[str]:
    envelope = JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "team-k", "name": "killed"},
        "spec": spec, "storageUri": lake, "correlationId": "kill-resume",
        "submissionId": "sub-kill"})
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # serial, in-process
    env["MLTA_JOB_ENVELOPE"] = envelope.encode()
    return subprocess.Popen([sys.executable, "-m", "mlta.jobs.run"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _kline_pages(fake: FakeBinance) -> list[Any]:
    return [r for r in fake.requests if r.path == KLINES and r.status == 200]


def _bronze_union(lake: str, key: str, symbol: str) -> pa.Table:
    """Every committed batch's rows with all the columns stored (raw extras too)."""
    base = Path(bronze_dir(lake, key, symbol, "5m").removeprefix("file://"))
    tables = [pq.read_table(base / rel) for b in bronze.list_batches(lake, key, symbol, "5m")
              for rel in b.files]
    return pa.concat_tables(tables).sort_by("open_time")


def test_a_job_killed_mid_fetch_resumes_to_the_uninterrupted_gold(
        fake: FakeBinance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    spec = _spec(fake.url)
    reference = run_pipeline(validate_spec(spec), f"file://{tmp_path}/ref", "team-k", "killed")

    lake = f"file://{tmp_path}/lake"
    lake_dir = tmp_path / "lake"
    served_before = len(_kline_pages(fake))
    fake.hold(after=PAGES_BEFORE_KILL)
    job = _start_job(spec, lake)
    try:
        wait_for(lambda: fake.held >= 1 or job.poll() is not None, timeout=120,
                 what=f"the job to ask for kline page {PAGES_BEFORE_KILL + 1}", interval=0.05)
        assert job.poll() is None, job.communicate()[0][-3000:]
        assert len(_kline_pages(fake)) - served_before == PAGES_BEFORE_KILL
        job.kill()  # SIGKILL while it waits for the next page
        job.wait(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait(timeout=30)
    assert job.returncode == -9
    fake.release()
    wait_for(lambda: fake.held == 0, timeout=30, what="the held request to be let go")

    key = source_key(validate_spec(spec).source)
    kept = bronze.list_batches(lake, key, "ETHBTC", "5m")
    assert [b.rows for b in kept] == [1000] * PAGES_BEFORE_KILL  # each page committed on arrival
    assert bronze.list_batches(lake, key, "ADABTC", "5m") == []  # never started
    assert catalog.list_datasets(lake, "silver") == catalog.list_datasets(lake, "gold") == []
    before_kill = _hashes(lake_dir)
    assert before_kill

    resumed_from = len(fake.requests)
    rerun = _start_job(spec, lake)
    out, _ = rerun.communicate(timeout=300)
    result = JobResult.from_logs(out)
    assert rerun.returncode == 0 and result is not None and result.ok, out[-3000:]

    after = _hashes(lake_dir)
    assert {k: after.get(k) for k in before_kill} == before_kill  # nothing stored was altered
    eth_requests = [r for r in fake.requests[resumed_from:]
                    if r.path == KLINES and r.params["symbol"] == "ETHBTC"]
    last_kept = kept[-1].time_range.end
    assert last_kept is not None
    assert int(eth_requests[0].params["startTime"]) == int(
        (last_kept + timedelta(minutes=5)).timestamp() * 1000)  # only what was missing
    for symbol in SYMBOLS:
        union = _bronze_union(lake, key, symbol)
        times = union["open_time"].cast(pa.int64()).to_pylist()
        assert len(times) == len(set(times))  # no duplicates
        assert union.equals(fake.expected(symbol, "5m"))  # no gaps, the recording exactly

    assert result.outputs["datasetVersion"] == reference["datasetVersion"]
    assert result.outputs["rows"] == reference["rows"] == 5760 + 5727
    gold, manifest = read_dataset(result.outputs["datasetUri"], verify=True)
    ref_gold, ref_manifest = read_dataset(reference["datasetUri"], verify=True)
    assert manifest.content_hash == ref_manifest.content_hash
    assert gold.equals(ref_gold)
