"""``spec.search``: the hyperparameter search of a TrainingJob (Optuna inside Ray Tune + ASHA).

The search space is typed per learner. Its models are *generated* from the learners' params
models (:mod:`.learners`): for every hyperparameter there is a range model whose ``low``,
``high`` and ``choices`` carry that parameter's own bounds and type, so a range outside what
the library accepts, or a range for a parameter the learner does not have, is refused by the
API server. The parameter's bounds live in one place, the params model.

A range is one of ``int`` (integers in [low, high], optional step; ``log`` samples on a log
scale), ``float``, ``logFloat`` (float sampled on a log scale, low > 0) or ``categorical``
(a list of choices). The learner itself is a categorical dimension: ``learners``.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from .base import SpecModel, cel, cel_rules
from .learners import LEARNER_PARAMS, ModelType


class Sampler(str, Enum):
    """Optuna samplers: TPE (default), random, CMA-ES (numeric spaces of one learner)."""

    TPE = "tpe"
    RANDOM = "random"
    CMAES = "cmaes"


class SearchMetric(str, Enum):
    """What the search optimises: a walk-forward (CV) mean, never the lockbox."""

    AUC = "auc"
    LOG_LOSS = "logLoss"
    ACCURACY = "accuracy"
    RMSE = "rmse"
    MAE = "mae"
    CORRELATION = "correlation"
    SHARPE = "sharpe"


class Direction(str, Enum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


#: Metrics that are better when smaller; every other one is maximised.
MINIMIZED_METRICS = frozenset({SearchMetric.LOG_LOSS, SearchMetric.RMSE, SearchMetric.MAE})
CLASSIFICATION_METRICS = frozenset({SearchMetric.AUC, SearchMetric.LOG_LOSS, SearchMetric.ACCURACY})
REGRESSION_METRICS = frozenset({SearchMetric.RMSE, SearchMetric.MAE, SearchMetric.CORRELATION})


_LOW_HIGH = cel("self.type == 'categorical' ? (has(self.choices) && size(self.choices) > 0) : "
                "(has(self.low) && has(self.high) && self.low < self.high)",
                "a categorical range needs choices; any other range needs low < high")
_CHOICES_ONLY_CATEGORICAL = cel("self.type == 'categorical' || !has(self.choices)",
                                "choices are only for type categorical")


class IntRangeBase(SpecModel):
    """Base of the generated integer ranges: the rules they follow."""

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            _LOW_HIGH, _CHOICES_ONLY_CATEGORICAL,
            cel("!self.log || self.type == 'categorical' || self.low > 0",
                "a log-scale int range needs low > 0", ".low"),
            # Optuna samples a log-scale int on every integer: a step would fail every trial.
            cel("!self.log || !has(self.step) || self.step == 1",
                "a log-scale int range takes no step (or step 1)", ".step"),
        )
    }


class FloatRangeBase(SpecModel):
    """Base of the generated float ranges: the rules they follow."""

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            _LOW_HIGH, _CHOICES_ONLY_CATEGORICAL,
            cel("self.type != 'logFloat' || self.low > 0.0", "a logFloat range needs low > 0",
                ".low"),
            cel("self.type == 'float' || !has(self.step)", "step is only for type float",
                ".step"),
        )
    }


def _bounds(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in info.metadata:
        if isinstance(item, Ge):
            out["ge"] = item.ge
        elif isinstance(item, Gt):
            out["gt"] = item.gt
        elif isinstance(item, Le):
            out["le"] = item.le
        elif isinstance(item, Lt):
            out["lt"] = item.lt
    return out


def _value_type(info: FieldInfo) -> type:
    """The parameter's value type (``int | None`` -> int)."""
    args = getattr(info.annotation, "__args__", (info.annotation,))
    kinds = [a for a in args if a is not type(None)]
    if len(kinds) != 1:
        raise TypeError(f"hyperparameter annotation {info.annotation!r} must be one type or None")
    value: type = kinds[0]  # type: ignore[assignment]
    return value


def _range_model(owner: str, field: str, info: FieldInfo) -> type[SpecModel]:
    """The range model of one hyperparameter, with the parameter's type and bounds."""
    value = _value_type(info)
    bounds = _bounds(info)
    what = info.description or field
    fields: dict[str, Any] = {}
    base: type[SpecModel]
    if value is bool or issubclass(value, Enum):
        base = SpecModel
        fields["type"] = (Literal["categorical"], Field(description="categorical."))
        fields["choices"] = (list[value], Field(  # type: ignore[valid-type]
            min_length=1, max_length=64, description="Values to choose from."))
    else:
        base = IntRangeBase if value is int else FloatRangeBase
        kinds: Any = (Literal["int", "categorical"] if value is int
                      else Literal["float", "logFloat", "categorical"])
        fields["type"] = (kinds, Field(description="int, float, logFloat or categorical."))
        fields["low"] = (value | None, Field(default=None, description="Smallest value.", **bounds))
        fields["high"] = (value | None, Field(default=None, description="Largest value.", **bounds))
        item = Annotated[value, Field(**bounds)]  # type: ignore[valid-type]
        fields["choices"] = (list[item] | None, Field(
            default=None, max_length=64, description="Values to choose from (categorical)."))
        if value is int:
            fields["step"] = (int | None, Field(default=None, ge=1, description="Grid step."))
            fields["log"] = (bool, Field(default=False, description="Sample on a log scale."))
        else:
            fields["step"] = (float | None, Field(default=None, gt=0.0, description="Grid step."))
    name = f"{owner.removesuffix('Params')}{field.title().replace('_', '')}Range"
    return create_model(name, __base__=base,
                        __doc__=f"Search range of {field}: {what}", **fields)


def _importable(model: type[SpecModel]) -> type[SpecModel]:
    """Bind a generated model to its name in this module, where pickle looks classes up: the
    search's saved state (OptunaSearch pickles its space, which holds the spec) and Ray's
    object store need every class of the spec to be importable by name."""
    if model.__name__ in globals():
        raise TypeError(f"generated spec model {model.__name__} would shadow another")
    globals()[model.__name__] = model
    return model


def _space_model(model_type: ModelType) -> type[SpecModel]:
    params = LEARNER_PARAMS[model_type]
    fields: dict[str, Any] = {}
    for field, info in params.model_fields.items():
        rng = _importable(_range_model(params.__name__, field, info))
        fields[field] = (rng | None, Field(default=None, description=f"Range of {info.description}"))
    return _importable(create_model(
        f"{params.__name__.removesuffix('Params')}Space", __base__=SpecModel,
        __doc__=f"Search space of {model_type.value}: a range per hyperparameter.", **fields))


#: The generated space model of each learner.
LEARNER_SPACES: dict[ModelType, type[SpecModel]] = {t: _space_model(t) for t in ModelType}

SearchSpace = create_model(  # type: ignore[call-overload]
    "SearchSpace",
    __base__=SpecModel,
    __doc__="Ranges per learner; a learner in search.learners without ranges searches its "
            "default space.",
    **{t.value: (LEARNER_SPACES[t] | None,
                 Field(default=None, description=f"Ranges of {t.value}'s hyperparameters."))
       for t in ModelType},
)


class PruningSpec(SpecModel):
    """ASHA early stopping on the trials' reports (one report per block of boosting rounds)."""

    enabled: bool = Field(default=True, description="Stop unpromising trials early with ASHA.")
    report_every_rounds: int = Field(
        default=25, ge=1, le=10_000,
        description="Boosting rounds between reports (ASHA's time unit).")
    grace_rounds: int = Field(
        default=50, ge=1, le=100_000, description="Rounds every trial runs before it can be stopped.")
    reduction_factor: int = Field(default=3, ge=2, le=10,
                                  description="ASHA keeps 1/reductionFactor of trials per rung.")


class SearchSpec(SpecModel):
    """A hyperparameter search: Optuna's sampler inside Ray Tune, ASHA pruning, resumable."""

    trials: int = Field(default=20, ge=1, le=10_000, description="Trial budget.")
    concurrent_trials: int = Field(default=2, ge=1, le=256,
                                   description="Trials running at once on the Ray cluster.")
    cpus_per_trial: float = Field(default=1.0, ge=0.1, le=64.0,
                                  description="CPUs each trial reserves (and its learner threads).")
    timeout_seconds: int | None = Field(
        default=None, ge=10, le=7 * 24 * 3600,
        description="Stop starting trials after this long; finished trials are kept.")
    sampler: Sampler = Field(default=Sampler.TPE, description="tpe, random or cmaes.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Sampler seed.")
    metric: SearchMetric | None = Field(
        default=None,
        description="Walk-forward metric to optimise; default auc (direction, tripleBarrier), "
                    "correlation (return), rmse (volatility).")
    direction: Direction | None = Field(
        default=None, description="maximize or minimize; default follows the metric.")
    learners: list[ModelType] | None = Field(
        default=None, min_length=1, max_length=len(ModelType),
        description="Learners to search over (a categorical dimension); default model.type.")
    space: SearchSpace | None = Field(
        default=None, description="Ranges per learner; default spaces where absent.")
    pruning: PruningSpec = Field(default_factory=PruningSpec, description="ASHA early stopping.")

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("!has(self.learners) || self.learners.all(l, self.learners.exists_one(m, m == l))",
                "search.learners must not repeat a learner", ".learners"),
            cel("self.sampler != 'cmaes' || !has(self.learners) || size(self.learners) == 1",
                "sampler cmaes searches numeric ranges of one learner: set search.learners to "
                "one learner or use tpe", ".sampler"),
            cel("self.concurrentTrials <= self.trials",
                "search.concurrentTrials cannot exceed search.trials", ".concurrentTrials"),
        )
    }


def default_direction(metric: SearchMetric | str) -> Direction:
    return Direction.MINIMIZE if SearchMetric(metric) in MINIMIZED_METRICS else Direction.MAXIMIZE
