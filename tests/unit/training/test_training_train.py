"""train(): walk-forward metrics on a generated Gold frame, the registry round trip, reruns."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.unit.training.gold_frames import FEATURES, make_gold_frame

from mlta import __version__
from mlta.errors import DataError, TrainingError
from mlta.jobs.training import train_frame
from mlta.registry import list_versions, read_metadata
from mlta.specs import TrainingJobSpec
from mlta.training.metrics import auc, backtest
from mlta.training.register import load_model, register_model, spec_hash
from mlta.training.train import train


def _spec(kind: str = "direction", **validation: float) -> TrainingJobSpec:
    return TrainingJobSpec.model_validate({
        "dataPipeline": "btc",
        "model": {"params": {"numLeaves": 7, "learningRate": 0.1, "minDataInLeaf": 20},
                  "numBoostRound": 40},
        "target": {"kind": kind, "horizon": 4},
        "validation": {"folds": 3, "testFraction": 0.15, **validation},
    })


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_gold_frame(bars=500)


@pytest.mark.parametrize("kind, score_key, keys", [
    ("direction", "auc", {"auc", "accuracy", "logLoss"}),
    ("return", "correlation", {"rmse", "mae", "correlation"}),
])
def test_walk_forward_metrics_are_finite_and_learn_the_signal(
    frame: pd.DataFrame, kind: str, score_key: str, keys: set[str]
) -> None:
    outcome = train(frame, FEATURES, _spec(kind), num_threads=1)
    assert len(outcome.folds) == 3
    for fold in outcome.folds:
        assert keys | {"strategyReturn", "sharpe"} <= fold.metrics.keys()
        assert all(math.isfinite(v) for v in fold.metrics.values())
        assert fold.test_rows == 2 * int(0.15 * (500 - 5))  # two symbols, warm-up dropped
    assert outcome.metrics["score"] == outcome.metrics[score_key]
    assert outcome.metrics["score"] == pytest.approx(
        np.mean([f.metrics[score_key] for f in outcome.folds]))
    # the generator hides a persistent drift in f_state: out of sample, it is found
    assert outcome.metrics["score"] > (0.55 if kind == "direction" else 0.1)
    # the final model saw every labelled row: all but the warm-up and the last 4 bars
    assert outcome.train_rows == 2 * (500 - 5 - 4)


def test_training_is_reproducible(frame: pd.DataFrame) -> None:
    a = train(frame, FEATURES, _spec(), num_threads=1)
    b = train(frame, FEATURES, _spec(), num_threads=1)
    assert a.metrics == b.metrics
    X = frame[FEATURES]
    np.testing.assert_array_equal(a.adapter.predict(a.model, X), b.adapter.predict(b.model, X))


def test_registered_model_reloads_and_predicts_identically(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    root = f"file://{tmp_path}"
    spec = _spec()
    outcome = train(frame, FEATURES, spec, num_threads=1)
    lineage = {"datasetUri": "file:///lake/gold/x/v1", "datasetVersion": "gv1",
               "trainingJob": "ns/btc", "specHash": spec_hash(spec)}
    reg = register_model(outcome, storage_uri=root, name="btc", submission_id="s1",
                         lineage=lineage)
    assert (reg.version, reg.reused) == ("v1", False)
    assert reg.uri == f"{root}/registry/btc/v1"
    meta = read_metadata(reg.uri)
    assert meta.feature_columns == FEATURES and meta.model_type == "lightgbm"
    assert meta.target == {"kind": "direction", "horizon": 4, "deadBand": 0.0}
    assert meta.metrics["score"] == outcome.metrics["score"]
    assert meta.lineage == {**lineage, "submissionId": "s1", "codeVersion": __version__}
    model, meta2, adapter = load_model(reg.uri)
    assert meta2 == meta
    X = frame[FEATURES]
    np.testing.assert_array_equal(adapter.predict(model, X),
                                  outcome.adapter.predict(outcome.model, X))
    # a rerun of the same submission returns the same version, a new one gets v2
    again = register_model(outcome, storage_uri=root, name="btc", submission_id="s1",
                           lineage=lineage)
    assert (again.version, again.reused) == ("v1", True)
    assert register_model(outcome, storage_uri=root, name="btc", submission_id="s2",
                          lineage=lineage).version == "v2"
    assert list_versions(root, "btc") == ["v1", "v2"]
    assert not list((tmp_path / "registry" / "btc" / "v1").glob(".tmp-*"))


def test_train_frame_rerun_skips_training(frame: pd.DataFrame, tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    args = {"storage_uri": root, "model_name": "btc", "submission_id": "sub-1",
            "training_job": "ns/btc", "dataset_uri": "file:///gold/v1", "dataset_version": "g1",
            "num_threads": 1}
    first = train_frame(frame, FEATURES, _spec("return"), **args)
    assert first["modelVersion"] == "v1" and first["datasetVersion"] == "g1"
    assert first["metrics"]["score"] == first["metrics"]["correlation"]
    # an empty frame cannot be trained on: the rerun must not even try
    again = train_frame(frame.iloc[:0], FEATURES, _spec("return"), **args)
    assert again == first
    assert list_versions(root, "btc") == ["v1"]


def test_dead_band_rows_are_not_trained_on(frame: pd.DataFrame) -> None:
    spec = _spec()
    banded = spec.model_copy(update={"target": spec.target.model_copy(
        update={"dead_band": 0.01})})
    plain = train(frame, FEATURES, spec, num_threads=1)
    outcome = train(frame, FEATURES, banded, num_threads=1)
    assert outcome.train_rows < plain.train_rows - 100


def test_errors_say_what_to_fix(frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="f_missing"):
        train(frame, ["f_missing"], _spec())
    with pytest.raises(TrainingError, match="no training rows"):
        train(frame.groupby("symbol").head(12), FEATURES, _spec())
    with pytest.raises(DataError, match="no feature columns"):
        train(frame, [], _spec())


def test_auc_and_backtest_by_hand() -> None:
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert math.isnan(auc(np.array([1, 1]), np.array([0.2, 0.3])))
    t = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    trades = pd.DataFrame({"symbol": "A", "close_time": t, "signal": [1.0, 1.0, -1.0],
                           "next_return": [0.01, 0.02, -0.01]})
    result = backtest(trades, fee=0.001)
    # enter long (1 side), hold, flip (2 sides), close at the end (1 side)
    bars = [0.01 - 0.001, 0.02, 0.01 - 0.002 - 0.001]
    assert result["strategyReturn"] == pytest.approx(np.prod(1 + np.array(bars)) - 1)
    assert result["trades"] == 2.0
    assert result["sharpe"] == pytest.approx(
        np.mean(bars) / np.std(bars, ddof=1) * math.sqrt(365.25 * 24))
