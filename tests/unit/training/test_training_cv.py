"""Walk-forward evaluation of a candidate: stable keys, per-fold selection on training rows
only, and the fold evaluator's blocks, best rounds and predictions (per learner)."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from small_jobs import small_prepared, small_spec

from mlta.errors import TrainingError
from mlta.specs.learners import LightGBMParams, ModelType
from mlta.specs.search import Direction, SearchMetric
from mlta.training.adapters.base import fit
from mlta.training.cv import (
    Candidate,
    FoldEvaluator,
    Report,
    base_candidate,
    better,
    block_schedule,
    fold_columns,
)
from mlta.training.scoring import mean_scores, score_rows

LEARNERS = list(ModelType)
REPO = Path(__file__).resolve().parents[3]

KEY_SCRIPT = """
import sys
from mlta.training.cv import Candidate
params = {"num_leaves": 7, "learning_rate": 0.05, "feature_fraction": 0.8, "extra_trees": True}
if sys.argv[1] == "reversed":
    params = dict(reversed(list(params.items())))
print(Candidate("lightgbm", params).key)
"""


def test_candidate_keys_are_stable_across_processes() -> None:
    keys = set()
    for order, hash_seed in (("forward", "1"), ("reversed", "2"), ("forward", "12345")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", KEY_SCRIPT, order], env=env, cwd=REPO,
                             capture_output=True, text=True, check=True)
        keys.add(out.stdout.strip())
    here = Candidate(ModelType.LIGHTGBM, {"extra_trees": True, "feature_fraction": 0.8,
                                          "learning_rate": 0.05, "num_leaves": 7})
    assert keys == {here.key} and len(here.key) == 16
    assert Candidate(ModelType.LIGHTGBM, {**here.params, "num_leaves": 8}).key != here.key
    assert Candidate(ModelType.XGBOOST, {}).key != Candidate(ModelType.CATBOOST, {}).key


@pytest.mark.parametrize("learner", LEARNERS)
def test_base_candidate_holds_the_specs_fixed_params(learner: ModelType) -> None:
    spec = small_spec(model={"type": learner.value})
    candidate = base_candidate(spec)
    assert candidate.learner is learner
    expected = getattr(spec.model, learner.value).model_dump(mode="json", exclude_none=True)
    assert candidate.params == expected and expected  # Python names, set values only
    assert candidate.params_model() == getattr(spec.model, learner.value)
    for other in LEARNERS:
        assert base_candidate(spec, other).learner is other
    adapter = candidate.adapter(small_prepared(spec), num_threads=1)
    assert adapter.model_type is learner


def test_fold_columns_without_selection_are_every_column() -> None:
    data = small_prepared()
    columns = fold_columns(data, small_spec())
    assert len(columns) == len(data.layout.folds) + 1
    assert all(list(c) == [0, 1, 2] for c in columns)


def test_selection_is_fitted_on_each_folds_training_rows_only() -> None:
    """Turning a noise feature into the label outside a window's training rows changes
    nothing for that window; doing it inside them does (so the check can fail)."""
    spec = small_spec(features={"selection": {"correlationThreshold": None,
                                              "univariate": "f_score", "univariateK": 1}})
    data = small_prepared(spec)
    columns = fold_columns(data, spec)
    assert [list(c) for c in columns] == [[0]] * 3  # f_state, the informative one
    windows = [f.train for f in data.layout.folds] + [data.layout.lockbox.train]
    noise = data.feature_names.index("f_noise")
    for number, rows in enumerate(windows):
        outside = np.setdiff1d(np.arange(len(data.y)), rows)
        leaked = data.X.copy()
        leaked[outside, noise] = np.nan_to_num(data.y[outside]) * 10.0
        again = fold_columns(dataclasses.replace(data, X=leaked), spec)
        assert list(again[number]) == list(columns[number]), f"window {number} saw other rows"
        inside = data.X.copy()
        inside[rows, noise] = np.nan_to_num(data.y[rows]) * 10.0
        moved = fold_columns(dataclasses.replace(data, X=inside), spec)
        assert list(moved[number]) == [noise]


@pytest.mark.parametrize(("a", "b", "direction", "expected"), [
    (0.6, 0.5, Direction.MAXIMIZE, True), (0.5, 0.6, Direction.MAXIMIZE, False),
    (0.5, 0.5, Direction.MAXIMIZE, False), (0.5, 0.6, Direction.MINIMIZE, True),
    (0.6, 0.5, Direction.MINIMIZE, False), (math.nan, 0.5, Direction.MAXIMIZE, False),
    (math.nan, math.nan, Direction.MINIMIZE, False), (0.1, math.nan, Direction.MINIMIZE, True),
    (-math.inf, 0.0, Direction.MINIMIZE, False),
])
def test_better_ranks_nan_last(a: float, b: float, direction: Direction, expected: bool) -> None:
    assert better(a, b, direction) is expected
    assert better(a, b, direction.value) is expected  # type: ignore[arg-type]


def test_block_schedule_always_ends_at_the_last_round() -> None:
    assert block_schedule(100, 25) == [25, 50, 75, 100]
    assert block_schedule(90, 25) == [25, 50, 75, 90]
    assert block_schedule(10, 25) == [10]
    assert block_schedule(1, 1) == [1]


def _evaluator(learner: ModelType, metric: SearchMetric = SearchMetric.AUC,
               direction: Direction = Direction.MAXIMIZE) -> tuple[FoldEvaluator, object]:
    spec = small_spec(model={"type": learner.value})
    data = small_prepared(spec)
    evaluator = FoldEvaluator(data, base_candidate(spec), fold_columns(data, spec)[:-1], metric,
                              direction, spec.backtest, num_threads=1)
    return evaluator, data


@pytest.mark.parametrize("learner", LEARNERS)
def test_fold_evaluator_grows_blocks_like_fresh_fits_and_keeps_the_best_round(
        learner: ModelType) -> None:
    evaluator, data = _evaluator(learner)
    reports: list[Report] = []
    best = evaluator.run([4, 8, 12, 16, 20], reports.append)
    assert [r.rounds for r in reports] == [4, 8, 12, 16, 20] and evaluator.rounds == 20
    # each block's per-fold scores are those of models fitted from scratch with that many rounds
    fresh_predictions = {}
    for report in reports:
        predictions = []
        for fold in data.layout.folds:
            train = fold.train[data.labelled[fold.train]]
            model = fit(evaluator.adapter, data.X[train], data.y[train], data.feature_names,
                        report.rounds)
            predictions.append(evaluator.adapter.predict(model, data.X[fold.test]))
        fresh_predictions[report.rounds] = predictions
        per_fold = [score_rows(data, f.test, p, evaluator.rule)
                    for f, p in zip(data.layout.folds, predictions, strict=True)]
        assert report.per_fold == per_fold
        assert report.metrics == mean_scores(per_fold)
        assert report.score == report.metrics["auc"]
    scores = [r.score for r in reports]
    assert len(set(scores)) > 1  # the rounds matter, so choosing them is tested
    best_at = int(np.argmax(scores))  # first of equal maxima: later ties do not move the best
    assert best.best_rounds == reports[best_at].rounds and best.best_score == max(scores)
    assert best.rounds == best.best_rounds and best.metrics == reports[best_at].metrics
    assert [r.best_score for r in reports] == list(np.maximum.accumulate(scores))
    for got, fresh in zip(evaluator.best_predictions, fresh_predictions[best.best_rounds],
                          strict=True):
        np.testing.assert_array_equal(got, fresh)


def test_fold_evaluator_minimises_when_asked() -> None:
    evaluator, _ = _evaluator(ModelType.LIGHTGBM, SearchMetric.LOG_LOSS, Direction.MINIMIZE)
    reports: list[Report] = []
    best = evaluator.run([2, 5, 20], reports.append)
    losses = [r.metrics["logLoss"] for r in reports]
    assert best.best_score == min(losses)
    assert best.best_rounds == reports[int(np.argmin(losses))].rounds


def test_an_undefined_score_never_becomes_the_best() -> None:
    evaluator, _ = _evaluator(ModelType.LIGHTGBM, SearchMetric.CORRELATION)  # not a classifier's
    best = evaluator.run([3, 6])
    assert math.isnan(best.best_score) and best.best_rounds == 3  # the first report stays


def test_an_empty_schedule_is_refused() -> None:
    evaluator, _ = _evaluator(ModelType.LIGHTGBM)
    with pytest.raises(ValueError, match="at least one round count"):
        evaluator.run([])


def test_candidate_params_are_validated_by_the_learners_model() -> None:
    assert Candidate(ModelType.LIGHTGBM, {"num_leaves": 9}).params_model() == LightGBMParams(
        num_leaves=9)
    with pytest.raises(ValueError):
        Candidate(ModelType.LIGHTGBM, {"num_leaves": 1}).params_model()


def test_a_selection_that_keeps_no_column_names_the_setting() -> None:
    """Not a learner error about "model.lightgbm" from every trial: the selection is wrong."""
    spec = small_spec(features={"selection": {"varianceThreshold": 1e9}})
    data = small_prepared(spec)
    with pytest.raises(TrainingError, match="fold 0: feature selection kept no column") as info:
        fold_columns(data, spec)
    assert "features.selection" in str(info.value)
