"""The DataPipeline job on a real local Ray: one task per symbol, same result as serial.

The driver connects to the session's Ray head (``ray_cluster``), so ``run`` takes its Ray
path; the test then proves the symbols really ran as Ray tasks (the task list from Ray's
state API) and that the Gold version is the one a serial run of the same spec names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.ray_cluster import RayCluster, wait_for

from mlta.data import catalog
from mlta.data.lake import read_dataset
from mlta.features.pipeline import plan_spec
from mlta.jobs.pipeline import run, run_pipeline, validate_spec
from mlta.specs import JobEnvelope
from mlta.specs.datapipeline import Features

pytestmark = pytest.mark.integration

SYMBOLS = ["RAYBTC", "RAYETH"]


def _spec(candles_dir: Path) -> dict[str, Any]:
    return {"source": {"type": "files", "symbols": ["ADA_BTC", "LTC_BTC"],
                       "files": {"uri": str(candles_dir), "format": "feather"}}}


@pytest.fixture()
def ray_driver(ray_cluster: RayCluster) -> Iterator[None]:
    import logging

    import ray

    ray.init(address=ray_cluster.address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _tasks_named(cluster: RayCluster, name: str) -> list[Any]:
    """Finished tasks called ``name`` on *this* cluster (other Ray heads may run on the machine)."""
    from ray.util.state import list_tasks

    return [t for t in list_tasks(address=cluster.dashboard_url, filters=[("name", "=", name)],
                                  limit=1000, detail=True)
            if t.state == "FINISHED"]


def test_pipeline_runs_each_symbol_as_a_ray_task(ray_driver: None, ray_cluster: RayCluster, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    lake = "file://" + str(tmp_path / "lake")
    spec = {"source": {"type": "sample", "symbols": SYMBOLS,
                       "sample": {"seed": 21, "bars": 3000}}}
    envelope = JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "it", "name": "ray-demo"},
        "spec": spec, "storageUri": lake, "correlationId": "cid-ray",
        "submissionId": "sub-ray"})
    assert ray.is_initialized()
    before = len(_tasks_named(ray_cluster, "process_symbol"))
    result = run(envelope)
    assert result.ok, result.message
    out = result.outputs
    assert out["rows"] == 6000
    assert out["featureCount"] == len(plan_spec(Features()).columns)
    frame, manifest = read_dataset(out["datasetUri"], verify=True)
    assert sorted(frame["symbol"].unique()) == SYMBOLS
    assert manifest.rows_by_symbol == dict.fromkeys(SYMBOLS, 3000)

    # Both symbols ran as Ray tasks (the state API lags a little: poll with a deadline).
    wait_for(lambda: len(_tasks_named(ray_cluster, "process_symbol")) >= before + 2, timeout=60,
             what="two finished process_symbol tasks in Ray's task list")

    # Rerun on Ray: idempotent. And the serial path names the very same version.
    assert run(envelope).outputs["datasetVersion"] == out["datasetVersion"]
    serial_lake = "file://" + str(tmp_path / "serial-lake")
    with monkeypatch.context() as patch:
        patch.setattr(ray, "is_initialized", lambda: False)
        serial = run_pipeline(validate_spec(spec), serial_lake, "it", "ray-demo")
    assert serial["datasetVersion"] == out["datasetVersion"]
    assert serial["silverVersions"] == out["silverVersions"]
    ray_versions = {d.name: [v.version for v in d.versions] for d in catalog.list_datasets(lake)}
    assert ray_versions["gold/it/ray-demo"] == [out["datasetVersion"]]


def test_a_failing_symbol_fails_the_job_and_publishes_nothing(ray_driver: None,
                                                              tmp_path: Path,
                                                              candles_dir: Path) -> None:
    lake = "file://" + str(tmp_path / "lake")
    spec = _spec(candles_dir)
    spec["source"]["symbols"] = ["ADA_BTC", "MISSING"]
    envelope = JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "it", "name": "broken"},
        "spec": spec, "storageUri": lake, "correlationId": "c", "submissionId": "s"})
    result = run(envelope)
    assert not result.ok and result.reason == "NotFound"
    assert "MISSING-5m.feather does not exist" in result.message
    assert catalog.list_datasets(lake, "gold") == []
    # The healthy symbol's Bronze and Silver were kept: the next run resumes from them.
    assert [d.name.split("/")[2] for d in catalog.list_datasets(lake, "silver")] == [
        "symbol=ADA_BTC"]
