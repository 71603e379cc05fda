"""The TrainingJob's search as a real Ray job: Ray Tune trials on the cluster's workers,
an ensemble registered and served by the predictor, and a driver SIGKILLed mid-search that
resumes, when the job is resubmitted as the operator does it, without training a finished
trial again and with exactly the budgeted number of trials.

Jobs are submitted through Ray's Job Submission REST API with the operator's own builder
(``ray_job_submission``), so this is the path the operator drives.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.support.ray_cluster import RayCluster, wait_for

from mlta import storage
from mlta.config import load_settings
from mlta.data.lake import read_dataset
from mlta.jobs import pipeline
from mlta.jobs.training import search_root
from mlta.registry import list_versions, read_metadata
from mlta.specs import JobEnvelope, JobResult
from mlta.specs.jobs import JobProgress
from mlta.training.predictor import load_predictor
from mlta.training.tuning.ledger import Ledger
from mlta_operator.builders.jobs import ray_job_submission

BASE = {
    "dataPipeline": "ray-btc",
    "model": {"numBoostRound": 40},
    "target": {"kind": "direction", "horizon": 6, "deadBand": 0.0005},
    "validation": {"folds": 3, "testFraction": 0.15, "embargoBars": 2, "minTrainRows": 100},
    "features": {"exclude": ["f_cdl*"]},
}


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A Gold version written by the DataPipeline job (sample source, default features)."""
    lake = "file://" + str(tmp_path_factory.mktemp("lake"))
    result = pipeline.run(JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "it", "name": "ray-btc"},
        "spec": {"source": {"type": "sample", "symbols": ["RAYAAA", "RAYBBB"],
                            "sample": {"seed": 11, "bars": 2500}}},
        "storageUri": lake, "correlationId": "cid-dp", "submissionId": "dp"}))
    assert result.ok, result.message
    return lake, result.outputs["datasetUri"]


def _envelope(lake: str, dataset_uri: str, spec: dict[str, Any], submission: str,
              attempt: int = 0) -> JobEnvelope:
    return JobEnvelope.model_validate({
        "resource": {"kind": "TrainingJob", "namespace": "it", "name": "ray-btc"},
        "spec": spec, "storageUri": lake, "correlationId": f"cid-{submission}",
        "submissionId": submission, "inputs": {"datasetUri": dataset_uri}, "attempt": attempt})


def _submit(cluster: RayCluster, envelope: JobEnvelope, lake: str) -> str:
    settings = load_settings(env="testing", environ={"MLTA_STORAGE__URI": lake})
    body = ray_job_submission(envelope, settings)
    resp = httpx.post(f"{cluster.dashboard_url}/api/jobs/", json=body, headers=cluster.headers,
                      timeout=30)
    assert resp.status_code == 200, resp.text
    return envelope.job_id


def _job(cluster: RayCluster, job_id: str) -> dict[str, Any]:
    resp = httpx.get(f"{cluster.dashboard_url}/api/jobs/{job_id}", headers=cluster.headers,
                     timeout=10)
    resp.raise_for_status()
    info: dict[str, Any] = resp.json()
    return info


def _logs(cluster: RayCluster, job_id: str) -> str:
    resp = httpx.get(f"{cluster.dashboard_url}/api/jobs/{job_id}/logs", headers=cluster.headers,
                     timeout=30)
    resp.raise_for_status()
    text: str = resp.json().get("logs", "")
    return text


def _finish(cluster: RayCluster, job_id: str, timeout: float = 900) -> tuple[dict[str, Any], str]:
    info = wait_for(lambda: (i := _job(cluster, job_id))["status"] in
                    ("SUCCEEDED", "FAILED", "STOPPED") and i, timeout=timeout,
                    what=f"Ray job {job_id} to finish", interval=1.0)
    return info, _logs(cluster, job_id)


def _records(root: str) -> dict[str, bytes]:
    """The finished trials' records in the ledger (key -> the record's JSON bytes)."""
    import pyarrow.fs as pafs

    fs, path = storage.resolve(storage.join(root, "trials"))
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return {i.base_name[:-5]: storage.read_bytes(storage.join(root, "trials", i.base_name))
            for i in infos if i.base_name.endswith(".json") and not i.base_name.startswith(".")}


def test_a_search_on_the_cluster_registers_an_ensemble_the_predictor_serves(
        ray_cluster: RayCluster, gold: tuple[str, str]) -> None:
    lake, dataset_uri = gold
    spec = {**BASE, "search": {"trials": 6, "concurrentTrials": 2, "seed": 3,
                               "learners": ["lightgbm", "xgboost", "catboost"],
                               "pruning": {"reportEveryRounds": 10, "graceRounds": 10}},
            "ensemble": {"method": "mean", "topK": 2}}
    job_id = _submit(ray_cluster, _envelope(lake, dataset_uri, spec, "search-1"), lake)
    info, logs = _finish(ray_cluster, job_id)
    result = JobResult.from_logs(logs)
    assert info["status"] == "SUCCEEDED" and result is not None and result.ok, logs[-3000:]
    out = result.outputs
    assert out["trials"] == "6/6" and out["bestLearner"] == "ensemble"
    assert out["gate"] in ("passed", "failed")
    progress = JobProgress.from_logs(logs)
    assert progress is not None and (progress.trials_done, progress.trials_total) == (6, 6)

    meta = read_metadata(out["modelUri"])
    assert meta.model_type == "ensemble" and len(meta.members) == 2
    assert meta.gate is not None and meta.gate.status.value == out["gate"]
    assert {"cv", "lockbox", "baselines", "selectionBias", "search", "explain"} <= meta.evaluation.keys()
    assert {"buy_and_hold", "flat", "momentum_6"} <= meta.evaluation["baselines"].keys()
    table = pq.read_table(storage.join(out["modelUri"], meta.artifacts["trials"]).replace(
        "file://", "")).to_pylist()
    assert len(table) == 6 and {r["status"] for r in table} <= {"completed", "pruned"}
    driver = int(info["driver_info"]["pid"])
    assert all(r["pid"] and r["pid"] != driver for r in table)  # trials ran in Ray workers
    assert {r["learner"] for r in table} <= {"lightgbm", "xgboost", "catboost"}

    # the registered ensemble predicts the Gold rows through the same predictor serving uses
    frame, _ = read_dataset(dataset_uri)
    predictor = load_predictor(out["modelUri"], out["modelVersion"])
    X = frame[predictor.feature_columns].dropna().to_numpy()[-50:]
    pred = predictor.predict(X)
    assert pred.shape == (50,) and ((pred > 0) & (pred < 1)).all()
    np.testing.assert_allclose(1 / (1 + np.exp(-predictor.contributions(X).sum(axis=1))), pred,
                               rtol=1e-5)


def test_a_killed_search_resumes_without_training_a_finished_trial_again(
        ray_cluster: RayCluster, gold: tuple[str, str]) -> None:
    lake, dataset_uri = gold
    budget = 8
    spec = {**BASE, "search": {"trials": budget, "concurrentTrials": 2, "seed": 5,
                               "learners": ["lightgbm"], "pruning": {"enabled": False}}}
    sid = "search-killed"
    root = search_root(lake, "ray-btc", sid)
    first = _submit(ray_cluster, _envelope(lake, dataset_uri, spec, sid), lake)
    # Kill the driver once some trials have finished and before the budget is spent.
    wait_for(lambda: len(_records(root)) >= 2, timeout=600, what="two finished trials",
             interval=0.5)
    info = _job(ray_cluster, first)
    assert info["status"] == "RUNNING", info
    os.kill(int(info["driver_info"]["pid"]), signal.SIGKILL)
    before = _records(root)
    assert 2 <= len(before) < budget, f"{len(before)} trials had finished at the kill"
    killed, logs = _finish(ray_cluster, first, timeout=120)
    assert killed["status"] == "FAILED" and JobResult.from_logs(logs) is None

    # The operator resubmits the same submission as its next attempt.
    started = time.monotonic()
    second = _submit(ray_cluster, _envelope(lake, dataset_uri, spec, sid, attempt=1), lake)
    assert second == f"{sid}-r1"
    info, logs = _finish(ray_cluster, second)
    result = JobResult.from_logs(logs)
    assert info["status"] == "SUCCEEDED" and result is not None and result.ok, logs[-3000:]
    assert "resuming the search saved at" in logs
    after = _records(root)
    assert len(after) == budget and result.outputs["trials"] == f"{budget}/{budget}"
    for key, content in before.items():  # finished trials are kept as they were
        assert after[key] == content
    starts = Ledger(root).starts()
    assert all(starts[key] == 1 for key in before), starts  # and none trained twice
    table = pq.read_table(Path(result.outputs["modelUri"].replace("file://", "")) / "trials.parquet")
    rows = table.to_pylist()
    assert len(rows) == budget and all(r["status"] == "completed" for r in rows)
    assert len({r["key"] for r in rows}) == len(rows)
    assert list_versions(lake, "ray-btc")[-1] == result.outputs["modelVersion"]
    json.loads(after[next(iter(before))])  # records stay readable JSON
    assert time.monotonic() - started < 900
