"""The TrainingJob job inside real Ray tasks, on a Gold version the DataPipeline job wrote.

Two trainings run at once as Ray tasks in worker processes and register distinct versions;
the driver reloads a registered model and gets bit-identical predictions to a model it
trains itself from the same data and spec (training is deterministic across processes).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.ray_cluster import RayCluster

from mlta.data.lake import read_dataset
from mlta.jobs import pipeline
from mlta.jobs.training import run
from mlta.registry import list_versions
from mlta.specs import JobEnvelope, JobResult, TrainingJobSpec
from mlta.training.register import load_model
from mlta.training.train import train

pytestmark = pytest.mark.integration

SPEC = {
    "dataPipeline": "ray-btc",
    "model": {"params": {"numLeaves": 15, "learningRate": 0.05}, "numBoostRound": 60},
    "target": {"kind": "direction", "horizon": 6, "deadBand": 0.0005},
    "validation": {"folds": 3, "testFraction": 0.12, "embargoBars": 2},
}


@pytest.fixture()
def ray_driver(ray_cluster: RayCluster) -> Iterator[None]:
    import ray

    # The task below is defined in this test module, which Ray's workers cannot import:
    # ship it by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(address=ray_cluster.address, logging_level="WARNING", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _train_in_worker(encoded: str) -> tuple[int, dict[str, Any]]:
    """What a Ray job's training step does: decode the envelope, run, report."""
    envelope = JobEnvelope.decode(encoded)
    return os.getpid(), run(envelope).model_dump()


def _envelope(lake: str, dataset_uri: str, submission: str) -> JobEnvelope:
    return JobEnvelope.model_validate({
        "resource": {"kind": "TrainingJob", "namespace": "it", "name": "ray-btc"},
        "spec": SPEC, "storageUri": lake, "correlationId": f"cid-{submission}",
        "submissionId": submission, "inputs": {"datasetUri": dataset_uri}})


def test_training_runs_in_ray_tasks_and_registers_distinct_versions(
    ray_driver: None, tmp_path: Path
) -> None:
    import ray

    lake = "file://" + str(tmp_path / "lake")
    gold = pipeline.run(JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "it", "name": "ray-btc"},
        "spec": {"source": {"type": "sample", "symbols": ["RAYAAA", "RAYBBB"],
                            "sample": {"seed": 11, "bars": 2000}}},
        "storageUri": lake, "correlationId": "cid-dp", "submissionId": "dp"}))
    assert gold.ok, gold.message
    dataset_uri = gold.outputs["datasetUri"]

    task = ray.remote(num_cpus=1)(_train_in_worker)
    refs = [task.remote(_envelope(lake, dataset_uri, sid).encode()) for sid in ("g1", "g2")]
    done = ray.get(refs, timeout=600)
    results = [JobResult.model_validate(payload) for _, payload in done]
    assert all(r.ok for r in results), [r.message for r in results]
    assert all(pid != os.getpid() for pid, _ in done)  # trained in Ray worker processes
    versions = sorted(r.outputs["modelVersion"] for r in results)
    assert versions == ["v1", "v2"]
    assert list_versions(lake, "ray-btc") == ["v1", "v2"]
    first = next(r for r in results if r.outputs["modelVersion"] == "v1")
    assert first.outputs["datasetVersion"] == gold.outputs["datasetVersion"]
    assert 0.0 <= first.outputs["metrics"]["auc"] <= 1.0

    # A rerun of g1 on Ray returns its version instead of registering a third one.
    g1 = next(r for r in results if r.outputs["modelVersion"] == "v1")
    sid = "g1" if results[0] is g1 else "g2"
    _, again = ray.get(task.remote(_envelope(lake, dataset_uri, sid).encode()), timeout=300)
    assert JobResult.model_validate(again).outputs == g1.outputs
    assert list_versions(lake, "ray-btc") == ["v1", "v2"]

    # The registered model predicts exactly like one trained here from the same inputs.
    frame, manifest = read_dataset(dataset_uri)
    model, meta, adapter = load_model(g1.outputs["modelUri"])
    assert meta.feature_columns == manifest.feature_columns
    local = train(frame, list(manifest.feature_columns), TrainingJobSpec.model_validate(SPEC),
                  num_threads=1)
    X = frame[meta.feature_columns]
    np.testing.assert_array_equal(adapter.predict(model, X), local.adapter.predict(local.model, X))
    assert local.metrics == {k: v for k, v in meta.metrics.items()
                             if k not in ("trainRows", "folds")}
