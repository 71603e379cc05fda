"""The TrainingJob search contract: learners' params, generated range models, job properties.

The range models are generated from the params models, so each test below walks every field
of every learner (the one list, ``ModelType``) and checks that a value the params model
refuses is refused by the range model too, and one it accepts is accepted.
"""

from __future__ import annotations

import pickle
from enum import Enum
from typing import Any

import pytest
from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, Field, ValidationError

from mlta.specs import TrainingJobSpec
from mlta.specs.learners import LEARNER_PARAMS, ModelType, learner_field
from mlta.specs.search import (
    CLASSIFICATION_METRICS,
    LEARNER_SPACES,
    MINIMIZED_METRICS,
    REGRESSION_METRICS,
    Direction,
    SearchMetric,
    SearchSpace,
    SearchSpec,
    _range_model,
    _value_type,
    default_direction,
)
from mlta.specs.selection import SelectorSpec
from mlta.specs.trainingjob import CLASSIFICATION_TARGETS, TRADABLE_TARGETS, TargetKind

LEARNERS = list(ModelType)


def _fields() -> list[tuple[ModelType, str]]:
    return [(t, name) for t in LEARNERS for name in LEARNER_PARAMS[t].model_fields]


def _bound_cases() -> list[tuple[ModelType, str, Any, bool]]:
    """(learner, field, value, accepted) at and just beyond every bound of every field."""
    cases = []
    for learner, name in _fields():
        info = LEARNER_PARAMS[learner].model_fields[name]
        value_type = _value_type(info)
        if value_type is bool or issubclass(value_type, Enum):
            continue
        tiny = 1 if value_type is int else 1e-9
        for item in info.metadata:
            if isinstance(item, Ge):
                cases += [(learner, name, item.ge, True), (learner, name, item.ge - tiny, False)]
            elif isinstance(item, Gt):
                cases += [(learner, name, item.gt, False), (learner, name, item.gt + tiny, True)]
            elif isinstance(item, Le):
                cases += [(learner, name, item.le, True), (learner, name, item.le + tiny, False)]
    return cases


def _wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- learners ----------------------------------------------------------------------------


def test_model_type_is_the_one_list_of_learners() -> None:
    assert set(LEARNER_PARAMS) == set(ModelType) == set(LEARNER_SPACES)
    assert set(SearchSpace.model_fields) == {t.value for t in ModelType}
    assert [learner_field(t) for t in ModelType] == ["lightgbm", "xgboost", "catboost"]
    assert learner_field("xgboost") == "xgboost"
    with pytest.raises(ValueError):
        learner_field("sklearn")


@pytest.mark.parametrize("learner", LEARNERS)
def test_params_take_camel_case_and_refuse_unknown_keys(learner: ModelType) -> None:
    model = LEARNER_PARAMS[learner]
    assert model().model_dump(exclude_none=True) == {}  # unset keeps the library's default
    for name in model.model_fields:
        assert model.model_fields[name].description  # documented in the CRD
    first = next(iter(model.model_fields))
    info = model.model_fields[first]
    value = 2 if _value_type(info) is int else 0.5
    assert getattr(model.model_validate({_wire(first): value}), first) == value
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({"numLeafs": 3})


@pytest.mark.parametrize(("learner", "name", "value", "accepted"), _bound_cases())
def test_params_and_their_ranges_share_the_bounds(learner: ModelType, name: str, value: Any,
                                                  accepted: bool) -> None:
    params = LEARNER_PARAMS[learner]
    rng = LEARNER_SPACES[learner].model_fields[name].annotation.__args__[0]  # type: ignore[union-attr]
    kind = "int" if isinstance(value, int) else "float"
    checks = [
        lambda: params.model_validate({name: value}),
        lambda: rng.model_validate({"type": kind, "low": value, "high": value}),
        lambda: rng.model_validate({"type": "categorical", "choices": [value]}),
    ]
    for check in checks:
        if accepted:
            check()
        else:
            with pytest.raises(ValidationError):
                check()


@pytest.mark.parametrize(("learner", "name"), _fields())
def test_each_parameter_gets_the_range_types_of_its_kind(learner: ModelType, name: str) -> None:
    info = LEARNER_PARAMS[learner].model_fields[name]
    rng = LEARNER_SPACES[learner].model_fields[name].annotation.__args__[0]  # type: ignore[union-attr]
    value_type = _value_type(info)
    kinds = set(rng.model_fields["type"].annotation.__args__)
    if value_type is bool or issubclass(value_type, Enum):
        assert kinds == {"categorical"}
        assert set(rng.model_fields) == {"type", "choices"}
        choice = True if value_type is bool else next(iter(value_type)).value
        assert rng.model_validate({"type": "categorical", "choices": [choice]}).choices == [choice]
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "categorical", "choices": []})
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "categorical", "choices": ["no-such-value"]})
    elif value_type is int:
        assert kinds == {"int", "categorical"}
        assert {"low", "high", "step", "log", "choices"} <= set(rng.model_fields)
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "logFloat", "low": 2, "high": 3})
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "int", "low": 2, "high": 3, "step": 0})
        with pytest.raises(ValidationError):  # an int parameter takes no fractional bound
            rng.model_validate({"type": "int", "low": 2.5, "high": 3})
    else:
        assert kinds == {"float", "logFloat", "categorical"}
        assert "log" not in rng.model_fields  # logFloat says it
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "int", "low": 0.1, "high": 0.2})
        with pytest.raises(ValidationError):
            rng.model_validate({"type": "float", "low": 0.1, "high": 0.2, "step": 0.0})
    assert rng.__doc__.startswith(f"Search range of {name}")
    with pytest.raises(ValidationError, match="Extra inputs"):
        rng.model_validate({"type": "categorical", "choices": [1], "prior": "uniform"})


@pytest.mark.parametrize("learner", LEARNERS)
def test_a_space_refuses_a_parameter_its_learner_does_not_have(learner: ModelType) -> None:
    space = LEARNER_SPACES[learner]
    assert set(space.model_fields) == set(LEARNER_PARAMS[learner].model_fields)
    other = next(t for t in LEARNERS if t is not learner)
    foreign = next(n for n in LEARNER_PARAMS[other].model_fields
                   if n not in LEARNER_PARAMS[learner].model_fields)
    with pytest.raises(ValidationError, match="Extra inputs"):
        space.model_validate({_wire(foreign): {"type": "categorical", "choices": [1]}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SearchSpace.model_validate({"sklearn": {}})


def test_range_models_read_exclusive_upper_bounds_and_refuse_unions() -> None:
    class OddParams(BaseModel):
        ratio: float | None = Field(default=None, gt=0.0, lt=1.0, description="A ratio.")
        either: int | str | None = None

    rng = _range_model("OddParams", "ratio", OddParams.model_fields["ratio"])
    assert rng.__name__ == "OddRatioRange"
    assert rng.model_validate({"type": "float", "low": 0.1, "high": 0.9}).high == 0.9
    with pytest.raises(ValidationError, match="less than 1"):
        rng.model_validate({"type": "float", "low": 0.1, "high": 1.0})
    with pytest.raises(TypeError, match="must be one type or None"):
        _value_type(OddParams.model_fields["either"])


def test_a_spec_with_ranges_pickles() -> None:
    """The generated models are importable by name: OptunaSearch pickles its space (and so
    the spec) when it saves the search state."""
    spec = TrainingJobSpec.model_validate({
        "dataPipeline": "dp", "search": {"trials": 2, "learners": list(t.value for t in ModelType),
                                         "space": {t.value: {} for t in ModelType}}})
    spec.search.space.lightgbm = LEARNER_SPACES[ModelType.LIGHTGBM].model_validate(  # type: ignore[union-attr]
        {"numLeaves": {"type": "int", "low": 4, "high": 8}, "extraTrees": {
            "type": "categorical", "choices": [True]}})
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_a_generated_model_never_shadows_another() -> None:
    from mlta.specs import search

    clash = LEARNER_SPACES[ModelType.XGBOOST]
    assert getattr(search, clash.__name__) is clash
    with pytest.raises(TypeError, match="would shadow another"):
        search._importable(clash)


# --- the search spec ---------------------------------------------------------------------


def test_search_defaults_and_limits() -> None:
    search = SearchSpec()
    assert (search.trials, search.concurrent_trials, search.sampler, search.seed) == (20, 2, "tpe", 0)
    assert search.metric is None and search.learners is None and search.space is None
    assert search.pruning.enabled and search.pruning.report_every_rounds == 25
    for bad in ({"trials": 0}, {"concurrentTrials": 0}, {"timeoutSeconds": 5},
                {"learners": []}, {"learners": ["lightgbm"] * 4}, {"sampler": "grid"},
                {"pruning": {"reductionFactor": 1}}, {"cpusPerTrial": 0}):
        with pytest.raises(ValidationError):
            SearchSpec.model_validate(bad)


@pytest.mark.parametrize("metric", list(SearchMetric))
def test_each_metric_has_a_direction(metric: SearchMetric) -> None:
    expected = Direction.MINIMIZE if metric.value in ("logLoss", "rmse", "mae") else Direction.MAXIMIZE
    assert default_direction(metric) is expected
    assert default_direction(metric.value) is expected
    assert (metric in MINIMIZED_METRICS) == (expected is Direction.MINIMIZE)
    assert not (metric in CLASSIFICATION_METRICS and metric in REGRESSION_METRICS)


# --- the job's derived properties --------------------------------------------------------


@pytest.mark.parametrize(("search", "model_type", "expected"), [
    (None, "lightgbm", ["lightgbm"]),
    (None, "catboost", ["catboost"]),
    ({"trials": 3}, "xgboost", ["xgboost"]),
    ({"trials": 3, "learners": ["catboost", "lightgbm"]}, "xgboost", ["catboost", "lightgbm"]),
    ({"trials": 3, "learners": list(ModelType)}, "lightgbm", list(ModelType)),
])
def test_learners_are_the_searched_ones_or_model_type(search: dict[str, Any] | None,
                                                      model_type: str, expected: list[Any]) -> None:
    raw: dict[str, Any] = {"dataPipeline": "dp", "model": {"type": model_type}}
    if search is not None:
        raw["search"] = search
    learners = TrainingJobSpec.model_validate(raw).learners
    assert learners == [ModelType(t) for t in expected]
    assert all(isinstance(t, ModelType) for t in learners)


@pytest.mark.parametrize(("kind", "metric", "expected"), [
    ("direction", None, "auc"),
    ("tripleBarrier", None, "auc"),
    ("return", None, "correlation"),
    ("volatility", None, "rmse"),
    ("direction", "logLoss", "logLoss"),
    ("return", "sharpe", "sharpe"),
    ("volatility", "mae", "mae"),
])
def test_search_metric_follows_the_target_unless_set(kind: str, metric: str | None,
                                                     expected: str) -> None:
    raw: dict[str, Any] = {"dataPipeline": "dp", "target": {"kind": kind}}
    if metric is not None:
        raw["search"] = {"trials": 2, "metric": metric}
    assert TrainingJobSpec.model_validate(raw).search_metric is SearchMetric(expected)


def test_target_kinds_split_into_classification_and_tradable() -> None:
    assert CLASSIFICATION_TARGETS == {TargetKind.DIRECTION, TargetKind.TRIPLE_BARRIER}
    assert set(TargetKind) - TRADABLE_TARGETS == {TargetKind.VOLATILITY}


def test_defaults_are_values_not_members() -> None:
    """validate_default: a defaulted enum field holds its value, like a user-set one."""
    spec = TrainingJobSpec.model_validate({"dataPipeline": "dp"})
    assert type(spec.model.type) is str and spec.model.type == "lightgbm"
    assert type(spec.target.kind) is str and spec.target.kind == "direction"
    assert spec.validation.purge_bars is None and spec.gate.beat_baselines


# --- selection settings ------------------------------------------------------------------


def test_selector_spec_defaults_and_bounds() -> None:
    spec = SelectorSpec()
    assert spec.variance_threshold == 0.0 and spec.correlation_threshold == 0.95
    assert spec.univariate is None and spec.importance_k is None and spec.task == "auto"
    assert SelectorSpec.model_validate({"univariate": "f_score", "univariateK": 3}).univariate_k == 3
    for bad in ({"correlationThreshold": 0}, {"correlationThreshold": 1.5}, {"univariateK": 0},
                {"importanceK": 0}, {"univariate": "chi2"}, {"miBins": 1}, {"task": "ranking"},
                {"varianceThreshold": -1}):
        with pytest.raises(ValidationError):
            SelectorSpec.model_validate(bad)
