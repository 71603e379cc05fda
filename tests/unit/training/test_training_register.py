"""Registering a trained outcome: the bundle's layout, metadata.json written last, a rerun
returns the same version, and a failed job leaves the registry as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gold_frames import FEATURES, make_gold_frame
from small_jobs import small_spec, small_wire

from mlta import registry
from mlta.errors import TrainingError
from mlta.jobs.training import train_frame
from mlta.specs import TrainingJobSpec
from mlta.training.register import ENSEMBLE_FILE, find_registered, register_model, spec_hash
from mlta.training.train import TrainingOutcome, train
from mlta.training.tuning.sequential import run_sequential

LINEAGE = {"datasetUri": "file:///gold/v3", "datasetVersion": "v3", "featureSpecHash": "f",
           "trainingJob": "ns/tj", "specHash": "s"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainingOutcome]:
    root = tmp_path_factory.mktemp("outcomes")
    single = train(make_gold_frame(), FEATURES, small_spec(), search_root=f"file://{root}/a",
                   runner=run_sequential)
    ensemble = train(make_gold_frame(), FEATURES,
                     small_spec(search={"trials": 2, "concurrentTrials": 1,
                                        "learners": ["lightgbm", "catboost"], "sampler": "random"},
                                ensemble={"method": "stacking", "topK": 2}),
                     search_root=f"file://{root}/b", runner=run_sequential)
    return {"single": single, "ensemble": ensemble}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_single_models_bundle(tmp_path: Path, outcomes: dict[str, TrainingOutcome]) -> None:
    lake = f"file://{tmp_path}"
    done = register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s1",
                          lineage=LINEAGE)
    assert (done.name, done.version, done.reused) == ("m", "v1", False)
    assert done.uri == registry.version_uri(lake, "m", "v1")
    folder = tmp_path / "registry" / "m" / "v1"
    files = set(_tree(folder))
    assert files == {"metadata.json", "model.txt", "trials.parquet", "explain/importance.json",
                     "explain/shap_summary.png", "backtest/lockbox_equity.png"}
    meta = registry.read_metadata(done.uri)
    assert meta == done.metadata and meta.artifact == "model.txt" and meta.ensemble is None
    assert meta.model_type == "lightgbm" and [m.artifact for m in meta.members] == ["model.txt"]
    assert meta.lineage == {**LINEAGE, "submissionId": "s1", "codeVersion": meta.lineage["codeVersion"]}
    assert meta.artifacts == {"trials": "trials.parquet", "importance": "explain/importance.json",
                              "shap_summary": "explain/shap_summary.png",
                              "lockbox_equity": "backtest/lockbox_equity.png"}
    assert meta.metrics == outcomes["single"].metrics and meta.gate == outcomes["single"].gate
    # metadata.json is written last: every other file is at least as old
    stamp = (folder / "metadata.json").stat().st_mtime_ns
    assert all((folder / f).stat().st_mtime_ns <= stamp for f in files)
    assert registry.list_versions(lake, "m") == ["v1"]
    out = done.outputs()
    assert out["modelVersion"] == "v1" and out["trialsDone"] == 1 and out["bestLearner"] == "lightgbm"
    assert out["gate"] in ("passed", "failed") and out["datasetVersion"] == "v3"


def test_an_ensembles_bundle(tmp_path: Path, outcomes: dict[str, TrainingOutcome]) -> None:
    done = register_model(outcomes["ensemble"], storage_uri=f"file://{tmp_path}", name="e",
                          submission_id="s1", lineage=LINEAGE)
    folder = tmp_path / "registry" / "e" / "v1"
    files = set(_tree(folder))
    members = {f for f in files if f.startswith("members/")}
    assert len(members) == 2 and ENSEMBLE_FILE in files
    meta = done.metadata
    assert meta.artifact == ENSEMBLE_FILE and meta.model_type == "ensemble"
    assert sorted(m.artifact for m in meta.members) == sorted(members)
    assert meta.ensemble == outcomes["ensemble"].combiner.to_json()  # type: ignore[union-attr]
    assert done.outputs()["trialsDone"] == 2


def test_a_rerun_returns_the_same_version_and_writes_nothing(
        tmp_path: Path, outcomes: dict[str, TrainingOutcome]) -> None:
    lake = f"file://{tmp_path}"
    first = register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s1",
                           lineage=LINEAGE)
    before = _tree(tmp_path)
    again = register_model(outcomes["ensemble"], storage_uri=lake, name="m", submission_id="s1",
                           lineage=LINEAGE)
    assert again.version == first.version and again.reused and again.metadata == first.metadata
    assert _tree(tmp_path) == before
    found = find_registered(lake, "m", "s1")
    assert found is not None and found.version == "v1"
    assert find_registered(lake, "m", "s2") is None
    nxt = register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s2",
                         lineage=LINEAGE)
    assert nxt.version == "v2" and registry.list_versions(lake, "m") == ["v1", "v2"]


def test_a_version_without_metadata_is_finished_by_its_rerun(
        tmp_path: Path, outcomes: dict[str, TrainingOutcome]) -> None:
    lake = f"file://{tmp_path}"
    register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s1",
                   lineage=LINEAGE)
    (tmp_path / "registry" / "m" / "v1" / "metadata.json").unlink()  # a crash before the end
    assert registry.list_versions(lake, "m") == [] and find_registered(lake, "m", "s1") is None
    again = register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s1",
                           lineage=LINEAGE)
    assert again.version == "v1" and registry.list_versions(lake, "m") == ["v1"]


def test_a_failed_job_changes_nothing_in_the_registry(
        tmp_path: Path, outcomes: dict[str, TrainingOutcome]) -> None:
    lake = f"file://{tmp_path}"
    register_model(outcomes["single"], storage_uri=lake, name="m", submission_id="s1",
                   lineage=LINEAGE)
    before = _tree(tmp_path / "registry")
    failing: dict[str, Any] = small_wire(validation={"minTrainRows": 5000})
    with pytest.raises(TrainingError):
        train_frame(make_gold_frame(), FEATURES, TrainingJobSpec.model_validate(failing),
                    storage_uri=lake, model_name="m", submission_id="s2", training_job="ns/tj",
                    dataset_uri="file:///gold", dataset_version="v3")
    assert _tree(tmp_path / "registry") == before


def test_spec_hash_is_canonical() -> None:
    a = small_spec(model={"lightgbm": {"numLeaves": 9}})
    b = small_spec(model={"lightgbm": {"numLeaves": 9}})
    assert spec_hash(a) == spec_hash(b) and len(spec_hash(a)) == 64
    assert spec_hash(a) != spec_hash(small_spec())


def test_train_frame_returns_the_registered_version_without_training_again(tmp_path: Path) -> None:
    lake = f"file://{tmp_path}"
    args: dict[str, Any] = {"storage_uri": lake, "model_name": "m", "submission_id": "s1",
                            "training_job": "ns/tj", "dataset_uri": "file:///gold",
                            "dataset_version": "v3"}
    first = train_frame(make_gold_frame(), FEATURES, small_spec(), **args)
    assert first["modelVersion"] == "v1" and first["trials"] == "1/1"
    # a frame that cannot train: the rerun must not read it
    again = train_frame(make_gold_frame().iloc[:0], FEATURES, small_spec(), **args)
    assert again == first
