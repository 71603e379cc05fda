"""The TrainingJob job: envelope in, JobResult out, on a Gold version the DataPipeline wrote."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mlta import __version__
from mlta.jobs import pipeline
from mlta.jobs.training import feature_hash, run, search_root
from mlta.registry import list_versions, read_metadata
from mlta.specs import JobEnvelope, TrainingJobSpec
from mlta.training.register import spec_hash

TRAINING_SPEC = {
    "dataPipeline": "btc",
    "model": {"lightgbm": {"numLeaves": 7, "minDataInLeaf": 30}, "numBoostRound": 30},
    "target": {"kind": "direction", "horizon": 6},
    "validation": {"folds": 2, "testFraction": 0.2, "embargoBars": 3, "lockboxFraction": 0.15,
                   "minTrainRows": 100},
}


def _envelope(lake: str, spec: dict[str, Any], inputs: dict[str, str],
              submission: str = "sub-1", name: str = "btc-direction") -> JobEnvelope:
    return JobEnvelope.model_validate({
        "resource": {"kind": "TrainingJob", "namespace": "ml", "name": name},
        "spec": spec, "storageUri": lake, "correlationId": "cid", "submissionId": submission,
        "inputs": inputs})


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """A real Gold version written by the DataPipeline job (sample source, serial path)."""
    lake = "file://" + str(tmp_path_factory.mktemp("lake"))
    envelope = JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "ml", "name": "btc"},
        "spec": {"source": {"type": "sample", "symbols": ["AAAUSDT", "BBBUSDT"],
                            "sample": {"seed": 5, "bars": 1200}}},
        "storageUri": lake, "correlationId": "cid", "submissionId": "dp-1"})
    result = pipeline.run(envelope)
    assert result.ok, result.message
    return lake, result.outputs


def test_trains_on_gold_and_registers_a_version(gold: tuple[str, dict[str, Any]]) -> None:
    lake, data = gold
    envelope = _envelope(lake, TRAINING_SPEC, {"datasetUri": data["datasetUri"]})
    result = run(envelope)
    assert result.ok, result.message
    out = result.outputs
    assert out["modelName"] == "btc-direction" and out["modelVersion"] == "v1"
    assert out["modelUri"] == f"{lake}/registry/btc-direction/v1"
    assert out["datasetVersion"] == data["datasetVersion"]
    assert {"cvAuc", "cvAccuracy", "cvLogLoss", "cvSharpe", "cvTotalReturn", "score",
            "lockboxAuc", "lockboxSharpe", "lockboxMaxDrawdown"} <= out["metrics"].keys()
    assert all(math.isfinite(v) for v in out["metrics"].values())
    assert out["gate"] in ("passed", "failed") and out["trials"] == "1/1"
    meta = read_metadata(out["modelUri"])
    assert meta.lineage == {
        "datasetUri": data["datasetUri"], "datasetVersion": data["datasetVersion"],
        "goldSpecHash": meta.lineage["goldSpecHash"],
        "featureSpecHash": feature_hash(meta.feature_columns),
        "trainingJob": "ml/btc-direction", "submissionId": "sub-1", "codeVersion": __version__,
        "specHash": spec_hash(TrainingJobSpec.model_validate(TRAINING_SPEC)),
    }
    assert len(meta.lineage["goldSpecHash"]) == 64
    assert meta.feature_columns and all(c.startswith("f_") for c in meta.feature_columns)
    # the same submission again: same version, nothing new in the registry
    assert run(envelope).outputs == out
    assert list_versions(lake, "btc-direction") == ["v1"]
    # a new generation (new submission id) gets the next version
    assert run(_envelope(lake, TRAINING_SPEC, {"datasetUri": data["datasetUri"]},
                         submission="sub-2")).outputs["modelVersion"] == "v2"


def test_model_name_from_the_spec_wins(gold: tuple[str, dict[str, Any]]) -> None:
    lake, data = gold
    spec = {**TRAINING_SPEC, "modelName": "shared-model", "target": {"kind": "return",
                                                                      "horizon": 3}}
    result = run(_envelope(lake, spec, {"datasetUri": data["datasetUri"]}, submission="n-1"))
    assert result.ok, result.message
    assert result.outputs["modelName"] == "shared-model"
    assert result.outputs["metrics"]["score"] == result.outputs["metrics"]["cvCorrelation"]


def test_missing_dataset_uri_says_the_pipeline_must_be_ready(tmp_path: Path) -> None:
    result = run(_envelope(f"file://{tmp_path}", TRAINING_SPEC, {}))
    assert not result.ok and result.reason == "InvalidSpec"
    assert "DataPipeline 'btc' must be Ready" in result.message


def test_invalid_spec_is_reported_with_the_field(tmp_path: Path) -> None:
    bad = {**TRAINING_SPEC, "target": {"kind": "direction", "horizon": 0}}
    result = run(_envelope(f"file://{tmp_path}", bad, {"datasetUri": "file:///x"}))
    assert not result.ok and result.reason == "InvalidSpec"
    assert "target.horizon" in result.message


def test_unknown_hyperparameter_fails_the_job(gold: tuple[str, dict[str, Any]]) -> None:
    lake, data = gold
    spec = {**TRAINING_SPEC, "model": {"lightgbm": {"numLeafs": 7}}}
    result = run(_envelope(lake, spec, {"datasetUri": data["datasetUri"]}, submission="bad"))
    assert not result.ok and result.reason == "InvalidSpec"
    assert "model.lightgbm.numLeafs" in result.message


def test_dataset_that_does_not_exist_is_a_data_error(tmp_path: Path) -> None:
    result = run(_envelope(f"file://{tmp_path}", TRAINING_SPEC,
                           {"datasetUri": f"file://{tmp_path}/gold/none/v1"}))
    assert not result.ok and result.reason == "NotFound"
    assert "no committed dataset" in result.message


def test_volatility_is_learnable_on_the_sample_regimes(gold: tuple[str, dict[str, Any]]) -> None:
    """The sample generator's volatility regimes, seen through the default Gold features,
    make realized volatility forecastable: clearly positive walk-forward correlation, and
    the lockbox beats persistence and the training mean (the gate's baselines)."""
    lake, data = gold
    spec = {**TRAINING_SPEC, "target": {"kind": "volatility", "horizon": 12}}
    result = run(_envelope(lake, spec, {"datasetUri": data["datasetUri"]}, submission="vol-1",
                           name="btc-vol"))
    assert result.ok, result.message
    metrics = result.outputs["metrics"]
    assert metrics["score"] == metrics["cvRmse"]  # rmse is the volatility target's metric
    assert metrics["cvCorrelation"] > 0.3 and metrics["lockboxCorrelation"] > 0.3
    assert result.outputs["gate"] == "passed", result.outputs["gateReasons"]
    meta = read_metadata(result.outputs["modelUri"])
    baselines = meta.evaluation["baselines"]
    assert set(baselines) == {"persistence", "training_mean"}
    assert metrics["lockboxRmse"] < baselines["persistence"]["lockbox"]["rmse"]


def test_a_failed_gate_is_reported_and_registered_unservable(
        gold: tuple[str, dict[str, Any]]) -> None:
    lake, data = gold
    spec = {**TRAINING_SPEC, "gate": {"minLockboxAuc": 0.99}}
    result = run(_envelope(lake, spec, {"datasetUri": data["datasetUri"]}, submission="g-1",
                           name="btc-gated"))
    assert result.ok, result.message  # a failed gate is a result, not a job failure
    out = result.outputs
    assert out["gate"] == "failed"
    assert any("lockbox AUC" in r and "0.99" in r for r in out["gateReasons"])
    assert not read_metadata(out["modelUri"]).servable


def test_a_failed_job_names_the_fix_and_registers_nothing(
        gold: tuple[str, dict[str, Any]]) -> None:
    lake, data = gold
    good = run(_envelope(lake, TRAINING_SPEC, {"datasetUri": data["datasetUri"]},
                         submission="f-1", name="btc-fails"))
    assert good.ok, good.message
    spec = {**TRAINING_SPEC, "validation": {**TRAINING_SPEC["validation"], "minTrainRows": 100000}}
    result = run(_envelope(lake, spec, {"datasetUri": data["datasetUri"]}, submission="f-2",
                           name="btc-fails"))
    assert not result.ok and result.reason == "TrainingFailed"
    assert "validation.minTrainRows" in result.message
    assert list_versions(lake, "btc-fails") == ["v1"]


def test_the_search_state_lives_per_submission() -> None:
    root = search_root("file:///lake", "model", "ns/tj@3:abc")
    assert root == "file:///lake/tuning/model/ns-tj-3-abc"
    assert search_root("file:///lake", "model", "ns/tj@3:abc") == root
    assert search_root("file:///lake", "model", "ns/tj@4:abc") != root
    assert len(search_root("s3://b/p", "m", "x" * 500).rsplit("/", 1)[-1]) == 200
