"""The search without Ray: the define-by-run space, one trial (train or replay) and the
sequential runner. Ray Tune's driver is tested in tests/integration."""

from __future__ import annotations

import dataclasses
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from small_jobs import small_prepared, small_spec

from mlta.errors import SpecError
from mlta.specs import TrainingJobSpec
from mlta.specs.learners import ModelType
from mlta.specs.search import Direction, SearchMetric
from mlta.training.adapters.base import fit
from mlta.training.cv import Candidate, FoldEvaluator, base_candidate, fold_columns
from mlta.training.dataset import Prepared
from mlta.training.tuning.ledger import Ledger
from mlta.training.tuning.sequential import run_sequential, run_single, unflatten
from mlta.training.tuning.space import (
    DEFAULT_SPACES,
    DEFAULT_SPACES_WIRE,
    SpaceFunction,
    candidate_from_config,
    learner_space,
    make_sampler,
    suggest,
)
from mlta.training.tuning.trial import WORST, TrialPayload, evaluate, result_of

LEARNERS = list(ModelType)
optuna.logging.set_verbosity(optuna.logging.WARNING)

#: One range of every type, over two learners.
TYPED_SPACE = {
    "lightgbm": {
        "numLeaves": {"type": "int", "low": 4, "high": 16, "step": 4},
        "minDataInLeaf": {"type": "int", "low": 10, "high": 100, "log": True},
        "learningRate": {"type": "logFloat", "low": 0.01, "high": 0.3},
        "featureFraction": {"type": "float", "low": 0.5, "high": 1.0, "step": 0.1},
        "lambdaL2": {"type": "float", "low": 0.0, "high": 2.0},
        "extraTrees": {"type": "categorical", "choices": [True, False]},
        "maxBin": {"type": "categorical", "choices": [63, 255]},
    },
    "xgboost": {"growPolicy": {"type": "categorical", "choices": ["depthwise", "lossguide"]},
                "maxDepth": {"type": "int", "low": 2, "high": 4}},
}


def _search_spec(**search: Any) -> TrainingJobSpec:
    return small_spec(search={"trials": 4, "concurrentTrials": 1, **search})


def _payload(spec: TrainingJobSpec, root: Path, data: Prepared | None = None) -> TrialPayload:
    data = data if data is not None else small_prepared(spec)
    return TrialPayload(data=data, spec=spec, columns=fold_columns(data, spec)[:-1],
                        ledger_root=f"file://{root}", num_threads=1)


def _ask(spec: TrainingJobSpec, seed: int = 0) -> optuna.trial.Trial:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    suggest(trial, spec)
    return trial


# --- the space ---------------------------------------------------------------------------


def test_every_range_type_becomes_its_optuna_distribution() -> None:
    spec = _search_spec(learners=["lightgbm", "xgboost"], space=TYPED_SPACE)
    seen: dict[str, dict[str, optuna.distributions.BaseDistribution]] = {}
    for seed in range(12):
        trial = _ask(spec, seed)
        seen.setdefault(trial.params["learner"], {}).update(trial.distributions)
    assert set(seen) == {"lightgbm", "xgboost"}
    lgb, xgb = seen["lightgbm"], seen["xgboost"]
    learner = optuna.distributions.CategoricalDistribution(["lightgbm", "xgboost"])
    assert lgb["learner"] == learner == xgb["learner"]  # the learner is a dimension
    assert lgb["lightgbm/num_leaves"] == optuna.distributions.IntDistribution(4, 16, step=4)
    assert lgb["lightgbm/min_data_in_leaf"] == optuna.distributions.IntDistribution(10, 100, log=True)
    assert lgb["lightgbm/learning_rate"] == optuna.distributions.FloatDistribution(0.01, 0.3, log=True)
    assert lgb["lightgbm/feature_fraction"] == optuna.distributions.FloatDistribution(0.5, 1.0, step=0.1)
    assert lgb["lightgbm/lambda_l2"] == optuna.distributions.FloatDistribution(0.0, 2.0)
    assert lgb["lightgbm/extra_trees"] == optuna.distributions.CategoricalDistribution([True, False])
    assert lgb["lightgbm/max_bin"] == optuna.distributions.CategoricalDistribution([63, 255])
    assert xgb["xgboost/grow_policy"] == optuna.distributions.CategoricalDistribution(
        ["depthwise", "lossguide"])  # enum choices as their values
    # conditional: a trial draws only its own learner's ranges
    assert not any(k.startswith("xgboost/") for k in lgb)
    assert not any(k.startswith("lightgbm/") for k in xgb)


def test_one_learner_is_no_dimension_but_is_recorded() -> None:
    trial = _ask(_search_spec(learners=["catboost"]))
    assert "learner" not in trial.params and trial.user_attrs == {"learner": "catboost"}
    assert {k.split("/")[0] for k in trial.params} == {"catboost"}
    assert set(trial.params) == {f"catboost/{n}" for n, r in DEFAULT_SPACES[ModelType.CATBOOST]
                                 if r is not None}


@pytest.mark.parametrize("learner", LEARNERS)
def test_default_spaces_draw_valid_params_the_learner_accepts(learner: ModelType) -> None:
    spec = _search_spec(learners=[learner.value])
    assert learner_space(spec, learner) is DEFAULT_SPACES[learner]
    space_model = type(DEFAULT_SPACES[learner])
    assert space_model.model_validate(DEFAULT_SPACES_WIRE[learner]) == DEFAULT_SPACES[learner]
    data = small_prepared(spec)
    rows = data.layout.lockbox.train[data.labelled[data.layout.lockbox.train]]
    for seed in range(15):
        trial = _ask(spec, seed)
        candidate = candidate_from_config(spec, unflatten(trial.params))
        model = candidate.params_model()  # within the params model's bounds
        for name, rng in DEFAULT_SPACES[learner]:
            if rng is None:
                continue
            value = getattr(model, name)
            if rng.type == "categorical":
                assert value in rng.choices
            else:
                assert rng.low <= value <= rng.high
        if seed < 2:  # and the library trains with them
            adapter = candidate.adapter(data, num_threads=1)
            fitted = fit(adapter, data.X[rows], data.y[rows], data.feature_names, 3)
            assert adapter.predict(fitted, data.X[:5]).shape == (5,)


def test_a_learners_own_ranges_replace_its_default_space() -> None:
    spec = _search_spec(learners=["lightgbm", "xgboost"], space={"xgboost": TYPED_SPACE["xgboost"]})
    assert learner_space(spec, ModelType.LIGHTGBM) is DEFAULT_SPACES[ModelType.LIGHTGBM]
    own = learner_space(spec, ModelType.XGBOOST)
    assert own == type(own).model_validate(TYPED_SPACE["xgboost"])
    assert own != DEFAULT_SPACES[ModelType.XGBOOST]
    assert learner_space(small_spec(), ModelType.CATBOOST) is DEFAULT_SPACES[ModelType.CATBOOST]


def test_drawn_values_override_the_fixed_ones_and_the_rest_stay() -> None:
    spec = _search_spec(learners=["lightgbm", "xgboost"])
    fixed = base_candidate(spec, ModelType.XGBOOST).params
    assert fixed == {"max_depth": 3, "learning_rate": 0.1}
    candidate = candidate_from_config(spec, {"learner": "xgboost", "xgboost": {"max_depth": 5,
                                                                               "gamma": 0.5}})
    assert candidate == Candidate(ModelType.XGBOOST, {"max_depth": 5, "learning_rate": 0.1,
                                                      "gamma": 0.5})
    assert candidate_from_config(spec, {}).learner is ModelType.LIGHTGBM  # the first learner
    with pytest.raises(SpecError, match="not one of the searched"):
        candidate_from_config(spec, {"learner": "catboost"})
    with pytest.raises(ValueError):
        candidate_from_config(spec, {"learner": "sklearn"})


def test_the_space_function_pickles_and_draws_the_same() -> None:
    spec = _search_spec(learners=["lightgbm", "xgboost"], space=TYPED_SPACE)
    function = pickle.loads(pickle.dumps(SpaceFunction(spec)))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    trial = study.ask()
    function(trial)
    assert trial.params == _ask(spec, 3).params


@pytest.mark.parametrize(("sampler", "cls"), [
    ("tpe", optuna.samplers.TPESampler), ("random", optuna.samplers.RandomSampler),
    ("cmaes", optuna.samplers.CmaEsSampler)])
def test_samplers_are_seeded(sampler: str, cls: type) -> None:
    spec = _search_spec(sampler=sampler, seed=11, learners=["lightgbm"], trials=6)
    assert isinstance(make_sampler(spec), cls)

    def draws() -> list[dict[str, Any]]:
        study = optuna.create_study(sampler=make_sampler(spec))
        out = []
        for number in range(6):
            trial = study.ask()
            suggest(trial, spec)
            study.tell(trial, float(number % 3))
            out.append(trial.params)
        return out

    first = draws()
    assert first == draws()
    other = _search_spec(sampler=sampler, seed=12, learners=["lightgbm"], trials=6)
    spec = other
    assert draws() != first
    assert isinstance(make_sampler(small_spec()), optuna.samplers.TPESampler)


# --- one trial ---------------------------------------------------------------------------


@pytest.mark.parametrize(("search", "metric", "direction", "schedule"), [
    (None, "auc", "maximize", [20]),
    ({"trials": 2, "pruning": {"reportEveryRounds": 8}}, "auc", "maximize", [8, 16, 20]),
    ({"trials": 2, "metric": "logLoss"}, "logLoss", "minimize", [20]),
    ({"trials": 2, "metric": "auc", "direction": "minimize"}, "auc", "minimize", [20]),
])
def test_payload_metric_direction_and_schedule(tmp_path: Path, search: dict[str, Any] | None,
                                               metric: str, direction: str,
                                               schedule: list[int]) -> None:
    spec = small_spec(search=search) if search is not None else small_spec()
    payload = _payload(spec, tmp_path)
    assert payload.metric is SearchMetric(metric) and payload.direction is Direction(direction)
    assert payload.schedule == schedule


def test_a_reported_result_ranks_an_undefined_score_last(tmp_path: Path) -> None:
    spec = small_spec(target={"kind": "return"}, search={"trials": 2, "metric": "correlation"})
    payload = _payload(spec, tmp_path)
    candidate = base_candidate(spec)
    evaluator = FoldEvaluator(payload.data, candidate, payload.columns, payload.metric,
                              payload.direction, spec.backtest, 1)
    report = evaluator.advance_to(5)
    out = result_of(candidate, report, Direction.MAXIMIZE)
    assert out["rounds"] == 5 and out["key"] == candidate.key and out["learner"] == "lightgbm"
    assert out["objective"] == report.best_score == out["score"]
    assert {k for k in out if k.startswith("cv_")} == {f"cv_{k}" for k in report.metrics}
    undefined = dataclasses.replace(report, score=math.nan, best_score=math.nan,
                                    metrics={"correlation": math.nan})
    for direction in Direction:
        worst = result_of(candidate, undefined, direction)
        assert worst["objective"] == WORST[direction] and worst["score"] is None
        assert worst["cv_correlation"] is None


def test_a_trial_trains_writes_its_record_before_its_last_report(tmp_path: Path) -> None:
    spec = small_spec(search={"trials": 2, "pruning": {"reportEveryRounds": 7}})
    payload = _payload(spec, tmp_path)
    candidate = base_candidate(spec)
    ledger = Ledger(payload.ledger_root)
    seen: list[tuple[int, bool]] = []
    record = evaluate(payload, candidate,
                      lambda r: seen.append((r["rounds"], ledger.read(candidate.key) is not None)))
    assert seen == [(7, False), (14, False), (20, True)]
    assert [r["rounds"] for r in record.reports] == [7, 14, 20]
    stored = ledger.read(candidate.key)
    assert stored is not None and stored.summary() == record.summary()
    evaluator = FoldEvaluator(payload.data, candidate, payload.columns, payload.metric,
                              payload.direction, spec.backtest, 1)
    best = evaluator.run(payload.schedule)
    assert (record.best_rounds, record.best_score) == (best.best_rounds, best.best_score)
    assert record.best_metrics == best.metrics and record.best_per_fold == best.per_fold
    for got, expected in zip(record.predictions, evaluator.best_predictions, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert [p.size for p in record.predictions] == [f.test.size for f in payload.data.layout.folds]


def test_a_finished_candidate_is_replayed_not_retrained(tmp_path: Path) -> None:
    """Second run on data where training would give other numbers (labels shuffled): the
    stored record and its reports come back unchanged, so nothing was trained."""
    spec = small_spec(search={"trials": 2, "pruning": {"reportEveryRounds": 10}})
    payload = _payload(spec, tmp_path)
    candidate = base_candidate(spec)
    first_reports: list[dict[str, Any]] = []
    first = evaluate(payload, candidate, first_reports.append)
    rng = np.random.default_rng(0)
    shuffled = dataclasses.replace(payload.data, y=rng.permutation(payload.data.y))
    other = dataclasses.replace(payload, data=shuffled)
    fresh = evaluate(dataclasses.replace(other, ledger_root=f"file://{tmp_path}/elsewhere"),
                     candidate, lambda _r: None)
    assert fresh.best_score != first.best_score  # training on it would differ
    replay_reports: list[dict[str, Any]] = []
    replayed = evaluate(other, candidate, replay_reports.append)
    assert replayed.summary() == first.summary() and replay_reports == first_reports
    # the start audit: the candidate started training once in this ledger, not twice
    assert Ledger(payload.ledger_root).starts() == {candidate.key: 1}
    assert Ledger(f"file://{tmp_path}/elsewhere").starts() == {candidate.key: 1}
    for a, b in zip(replayed.predictions, first.predictions, strict=True):
        np.testing.assert_array_equal(a, b)


# --- the sequential runner ---------------------------------------------------------------


def test_run_single_is_the_specs_model_as_one_trial(tmp_path: Path) -> None:
    spec = small_spec()
    outcome = run_single(_payload(spec, tmp_path))
    (row,) = outcome.rows
    (record,) = outcome.records.values()
    assert row.trial_id == "trial_00000" and row.status == "completed" and row.error == ""
    assert row.key == record.key == base_candidate(spec).key
    assert (row.rounds, row.best_rounds, row.score) == (20, record.best_rounds, record.best_score)
    assert row.metrics == record.best_metrics and row.duration_s >= 0
    assert outcome.direction is Direction.MAXIMIZE and outcome.ranked() == [record]


def test_unflatten_nests_learner_params_like_ray_tune() -> None:
    assert unflatten({"learner": "xgboost", "xgboost/max_depth": 3, "xgboost/gamma": 0.1}) == {
        "learner": "xgboost", "xgboost": {"max_depth": 3, "gamma": 0.1}}
    assert unflatten({}) == {}


def _comparable(outcome: Any) -> list[tuple[Any, ...]]:
    return [(r.trial_id, r.key, r.learner, r.params, r.status, r.rounds, r.best_rounds, r.score,
             r.metrics) for r in outcome.rows]


def test_seeded_sequential_searches_give_the_same_trials(tmp_path: Path) -> None:
    spec = _search_spec(trials=5, learners=["lightgbm", "xgboost"], seed=3,
                        pruning={"reportEveryRounds": 10})
    data = small_prepared(spec)
    first = run_sequential(_payload(spec, tmp_path / "a", data))
    second = run_sequential(_payload(spec, tmp_path / "b", data))  # its own ledger: trains
    assert _comparable(first) == _comparable(second)
    assert len(first.rows) == 5 and len({r.key for r in first.rows}) == 5
    assert {r.learner for r in first.rows} <= {"lightgbm", "xgboost"}
    assert all(r.status == "completed" and r.rounds == 20 for r in first.rows)
    assert set(first.records) == {r.key for r in first.rows}
    ranked = first.ranked()
    assert [r.best_score for r in ranked] == sorted((r.best_score for r in ranked), reverse=True)
    other = run_sequential(_payload(_search_spec(trials=5, learners=["lightgbm", "xgboost"],
                                                 seed=4, pruning={"reportEveryRounds": 10}),
                                    tmp_path / "c", data))
    assert [r.key for r in other.rows] != [r.key for r in first.rows]


def test_a_candidate_proposed_again_is_replayed(tmp_path: Path) -> None:
    spec = _search_spec(trials=3, learners=["lightgbm"],
                        space={"lightgbm": {"numLeaves": {"type": "categorical", "choices": [5]}}})
    outcome = run_sequential(_payload(spec, tmp_path))
    assert len(outcome.rows) == 3 and len(outcome.records) == 1
    assert len({(r.key, r.score) for r in outcome.rows}) == 1


def _poisoned(data: Prepared) -> Prepared:
    """Data XGBoost refuses (an infinite feature value); LightGBM trains on it."""
    X = data.X.copy()
    X[data.layout.folds[0].train[:3], 1] = np.inf
    return dataclasses.replace(data, X=X)


def test_a_crashing_trial_is_recorded_failed_and_the_search_goes_on(tmp_path: Path) -> None:
    """As under Ray Tune: the failed trial is a row with its error, the budget is spent."""
    spec = _search_spec(trials=6, learners=["lightgbm", "xgboost"], sampler="random", seed=1)
    outcome = run_sequential(_payload(spec, tmp_path, _poisoned(small_prepared(spec))))
    assert len(outcome.rows) == 6
    failed = [r for r in outcome.rows if r.status == "failed"]
    completed = [r for r in outcome.rows if r.status == "completed"]
    assert failed and completed
    assert {r.learner for r in failed} == {"xgboost"} and {r.learner for r in completed} == {"lightgbm"}
    for row in failed:
        assert "XGBoost failed" in row.error and "inf" in row.error
        assert row.score is None and row.best_rounds is None and row.rounds == 0
        assert row.key not in outcome.records
    assert outcome.errors == [r.error for r in failed]
    assert set(outcome.records) == {r.key for r in completed}
