"""The whole job without Ray (``runner=run_sequential``): every target kind, ensembles,
feature selection, the gate, registration, and the errors that name their fix. The version
registered and reloaded predicts the lockbox exactly as the job scored it."""

from __future__ import annotations

import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from gold_frames import FEATURES, make_gold_frame
from small_jobs import small_prepared, small_spec

from mlta import registry
from mlta.errors import DataError, TrainingError
from mlta.specs import TrainingJobSpec
from mlta.training.cv import fold_columns
from mlta.training.ensembles import out_of_fold
from mlta.training.predictor import load_predictor
from mlta.training.register import ENSEMBLE_FILE, register_model
from mlta.training.report import EQUITY_FILE, IMPORTANCE_FILE, SHAP_SUMMARY_FILE, TRIALS_FILE, _json_safe
from mlta.training.scoring import evaluate_rows, flat_metrics, mean_scores, score_rows
from mlta.training.train import TrainingOutcome, choose, search, target_info, train
from mlta.training.tuning.search import SearchOutcome
from mlta.training.tuning.sequential import run_sequential

KINDS = ["direction", "return", "tripleBarrier", "volatility"]
BARRIER = {"upper": 0.7, "lower": 0.7, "volWindow": 20}
SEARCH = {"trials": 2, "concurrentTrials": 1, "learners": ["lightgbm", "xgboost"],
          "pruning": {"reportEveryRounds": 10}}


@dataclasses.dataclass
class Job:
    spec: TrainingJobSpec
    frame: pd.DataFrame
    outcome: TrainingOutcome
    root: Path


_CACHE: dict[str, Job] = {}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("train")


def _job(workdir: Path, name: str, frame: pd.DataFrame | None = None, **extra: Any) -> Job:
    """Train once per name in this module (a whole job takes a second or two)."""
    if name not in _CACHE:
        spec = small_spec(**extra)
        frame = frame if frame is not None else make_gold_frame()
        root = workdir / name
        outcome = train(frame, FEATURES, spec, search_root=f"file://{root}/search",
                        runner=run_sequential, num_threads=1)
        _CACHE[name] = Job(spec, frame, outcome, root)
    return _CACHE[name]


def _kind_job(workdir: Path, kind: str) -> Job:
    return _job(workdir, kind, target={"kind": kind, "barrier": BARRIER}, search=SEARCH)


def _register(job: Job, submission: str = "sub-1", name: str = "m") -> registry.ModelVersionMetadata:
    return register_model(job.outcome, storage_uri=f"file://{job.root}/lake", name=name,
                          submission_id=submission, lineage={"trainingJob": "ns/tj"}).metadata


@pytest.mark.parametrize("kind", KINDS)
def test_every_target_kind_end_to_end(workdir: Path, kind: str) -> None:
    job = _kind_job(workdir, kind)
    out = job.outcome
    assert len(out.trials) == 2 and all(r.status == "completed" for r in out.trials)
    assert out.model_type in ("lightgbm", "xgboost") and len(out.members) == 1
    assert out.feature_columns == FEATURES and out.target == target_info(job.spec)
    metric = job.spec.search_metric.value
    evaluation = out.evaluation
    assert out.metrics["score"] == evaluation["cv"]["mean"][metric]
    scores = [r.score for r in out.trials if r.score is not None]
    assert out.metrics["score"] == (min(scores) if metric == "rmse" else max(scores))
    assert out.metrics["trials"] == 2.0
    assert {"cv", "lockbox", "baselines", "selectionBias", "search", "layout", "explain"} <= \
        evaluation.keys()
    assert evaluation["search"]["trials"] == 2 and evaluation["search"]["completed"] == 2
    files = set(out.reports)
    assert {TRIALS_FILE, IMPORTANCE_FILE, SHAP_SUMMARY_FILE} <= files
    tradable = kind != "volatility"
    assert (EQUITY_FILE in files) is tradable
    assert ("deflatedSharpe" in out.metrics) is tradable
    assert ("lockboxSharpe" in out.metrics) is tradable
    baselines = set(evaluation["baselines"])
    assert baselines == ({"buy_and_hold", "flat", "momentum_3"} if tradable
                         else {"persistence", "training_mean"})
    table = pq.read_table(io.BytesIO(out.reports[TRIALS_FILE])).to_pylist()
    assert [r["key"] for r in table] == [r.key for r in out.trials]
    json.dumps(evaluation, allow_nan=False)  # strict JSON for metadata.json
    # the registered version, reloaded as serving loads it, scores the lockbox the same way
    meta = _register(job)
    loaded = load_predictor(registry.version_uri(f"file://{job.root}/lake", "m", meta.version))
    data = small_prepared(job.spec)
    lock = data.layout.lockbox.test
    np.testing.assert_array_equal(loaded.predict(data.X[lock]), out.predictor.predict(data.X[lock]))
    rescored = flat_metrics(evaluate_rows("model", data, lock, loaded.predict(data.X[lock]),
                                          job.spec.backtest))
    assert _json_safe(rescored) == evaluation["lockbox"]


@pytest.mark.parametrize("method", ["mean", "rankAverage", "stacking"])
def test_ensembles_are_validated_registered_and_served_like_any_model(workdir: Path,
                                                                      method: str) -> None:
    job = _job(workdir, f"ensemble-{method}", search={**SEARCH, "trials": 3},
               ensemble={"method": method, "topK": 2})
    out = job.outcome
    assert out.model_type == "ensemble" and out.combiner is not None
    assert out.combiner.method == method and len(out.members) == 2
    # the cv score is the ensemble's own walk-forward estimate from the two best trials
    best = sorted(out.trials, key=lambda r: -r.score)[:2]  # type: ignore[operator]
    assert [m.info.trial for m in out.members] == [r.key for r in best]
    data = small_prepared(job.spec)
    ledger_records = [choose(_outcome_of(job), job.spec)[i] for i in range(2)]
    per_fold = [[rec.predictions[i] for rec in ledger_records] for i in range(2)]
    labels = [data.y[f.test] for f in data.layout.folds]
    oof = out_of_fold(method, data.objective, per_fold, labels)  # type: ignore[arg-type]
    expected = mean_scores([score_rows(data, f.test, p, job.spec.backtest)
                            for f, p in zip(data.layout.folds, oof, strict=True)])
    assert out.metrics["score"] == pytest.approx(expected["auc"])
    explained = method != "rankAverage"
    assert ("explain" in out.evaluation) is explained
    assert (IMPORTANCE_FILE in out.reports) is explained
    meta = _register(job)
    assert meta.model_type == "ensemble" and meta.artifact == ENSEMBLE_FILE
    assert [m.artifact.split("/")[:2] for m in meta.members] == [["members", "0"], ["members", "1"]]
    loaded = load_predictor(registry.version_uri(f"file://{job.root}/lake", "m", meta.version))
    lock = data.layout.lockbox.test
    np.testing.assert_array_equal(loaded.predict(data.X[lock]), out.predictor.predict(data.X[lock]))


def _outcome_of(job: Job) -> SearchOutcome:
    """The finished search again (its ledger replays every trial, nothing is trained)."""
    data = small_prepared(job.spec)
    return search(data, job.spec, fold_columns(data, job.spec), f"file://{job.root}/search", 1,
                  run_sequential)


def test_feature_selection_and_a_failed_gate_are_registered(workdir: Path) -> None:
    selection = {"correlationThreshold": None, "univariate": "f_score", "univariateK": 2}
    job = _job(workdir, "selection-gate", features={"selection": selection},
               gate={"minLockboxAuc": 0.99, "beatBaselines": True})
    out = job.outcome
    data = small_prepared(job.spec)
    final = fold_columns(data, job.spec)[-1]
    assert out.feature_columns == [FEATURES[i] for i in final] and len(final) == 2
    assert out.members[0].info.feature_columns == out.feature_columns
    assert out.gate.status.value == "failed"
    assert any("lockbox AUC" in r and ">= 0.99" in r for r in out.gate.reasons)
    meta = _register(job)
    assert meta.gate is not None and meta.gate.status.value == "failed" and not meta.servable
    assert meta.gate.reasons == out.gate.reasons and meta.gate.checks["minLockboxAuc"]["passed"] is False


def test_the_search_never_sees_the_lockbox(workdir: Path) -> None:
    """Rewriting every lockbox bar (prices and features) changes the lockbox score only."""
    base = _kind_job(workdir, "direction")
    frame = base.frame.copy()
    data = small_prepared(base.spec)
    lock_start = np.unique(data.times)[data.layout.lockbox.test_start]
    late = (frame["close_time"].dt.tz_localize(None) >= lock_start).to_numpy()
    rng = np.random.default_rng(5)
    frame.loc[late, "close"] = frame.loc[late, "close"] * np.exp(rng.normal(0, 0.05, late.sum()))
    frame.loc[late, FEATURES] = rng.normal(size=(late.sum(), len(FEATURES)))
    other = _job(workdir, "direction-other-lockbox", frame=frame,
                 target={"kind": "direction", "barrier": BARRIER}, search=SEARCH)
    strip = [(r.key, r.score, r.metrics) for r in base.outcome.trials]
    assert [(r.key, r.score, r.metrics) for r in other.outcome.trials] == strip
    assert other.outcome.evaluation["cv"] == base.outcome.evaluation["cv"]
    assert other.outcome.evaluation["lockbox"] != base.outcome.evaluation["lockbox"]


# --- errors that name their fix ---------------------------------------------------------------


def test_a_one_class_target_fails_naming_the_dead_band(tmp_path: Path) -> None:
    frame = make_gold_frame()
    rising = frame.assign(close=frame.groupby("symbol")["close"].transform(
        lambda c: 100.0 * np.exp(0.001 * np.arange(len(c)))))
    with pytest.raises(TrainingError, match="one class only") as info:
        train(rising, FEATURES, small_spec(), search_root=f"file://{tmp_path}",
              runner=run_sequential)
    assert "target.deadBand" in str(info.value)


def test_too_few_rows_fails_naming_the_settings(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="labelled training rows") as info:
        train(make_gold_frame(bars=300), FEATURES, small_spec(validation={"minTrainRows": 400}),
              search_root=f"file://{tmp_path}", runner=run_sequential)
    assert "validation.minTrainRows" in str(info.value)
    with pytest.raises(DataError, match="every row has a missing feature"):
        train(make_gold_frame().assign(f_noise=np.nan), FEATURES, small_spec(),
              search_root=f"file://{tmp_path}", runner=run_sequential)


def test_a_search_where_every_trial_fails_names_the_first_error(tmp_path: Path) -> None:
    spec = small_spec(search={**SEARCH, "learners": ["xgboost"], "trials": 3})
    data = small_prepared(spec)
    X = data.X.copy()
    X[data.layout.folds[0].train[:2], 0] = np.inf  # XGBoost refuses an infinite value
    poisoned = dataclasses.replace(data, X=X)
    with pytest.raises(TrainingError, match="every trial of the search failed") as info:
        search(poisoned, spec, fold_columns(poisoned, spec), f"file://{tmp_path}", 1, run_sequential)
    assert "XGBoost failed" in str(info.value) and "check the search space" in str(info.value)


def test_an_ensemble_needs_two_finished_trials() -> None:
    spec = small_spec(search={**SEARCH, "trials": 2}, ensemble={"topK": 2})
    outcome = SearchOutcome(rows=[], records={}, direction="maximize")  # type: ignore[arg-type]
    with pytest.raises(TrainingError, match="at least 2 finished trials") as info:
        choose(outcome, spec)
    assert "search.trials" in str(info.value)


def _record(key: str, score: float) -> Any:
    from mlta.training.tuning.ledger import TrialRecord

    return TrialRecord(key=key, learner="lightgbm", params={}, reports=[], best_rounds=1,
                       best_score=score, best_metrics={}, best_per_fold=[], duration_s=0.0,
                       predictions=[])


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_a_trial_with_an_undefined_score_is_never_chosen(direction: str) -> None:
    """A trial whose score is NaN (constant predictions: no correlation) ranks last, in
    whatever order the trials finished."""
    import itertools

    scores = {"a": math.nan, "b": 0.3, "c": 0.5, "d": math.nan}
    spec = small_spec(target={"kind": "return"}, search={**SEARCH, "trials": 4})
    ensemble = small_spec(target={"kind": "return"}, search={**SEARCH, "trials": 4},
                          ensemble={"topK": 2})
    best = "c" if direction == "maximize" else "b"
    for order in itertools.permutations(scores):
        records = {k: _record(k, scores[k]) for k in order}
        outcome = SearchOutcome(rows=[], records=records, direction=direction)  # type: ignore[arg-type]
        assert [r.key for r in outcome.ranked()][:2] == [best, "b" if best == "c" else "c"]
        assert [r.key for r in outcome.ranked()][2:] == ["a", "d"]
        assert [r.key for r in choose(outcome, spec)] == [best]
        assert {r.key for r in choose(outcome, ensemble)} == {"b", "c"}
