"""``spec.search`` as an Optuna define-by-run space, and each learner's default space.

The learner is the first dimension (categorical when several are searched); each learner's
ranges are suggested only when that learner is drawn, under names ``<learner>/<param>``, so
Optuna's samplers see a proper conditional space and Ray Tune's ``unflatten_dict`` hands the
trial ``{"learner": ..., "<learner>": {<param>: value}}``. Hyperparameters without a range
keep the values of ``spec.model.<learner>`` (or the library's default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import SpecError
from ...specs.learners import ModelType
from ...specs.search import LEARNER_SPACES, Sampler
from ...specs.trainingjob import TrainingJobSpec
from ..cv import Candidate, base_candidate

if TYPE_CHECKING:  # pragma: no cover
    import optuna

    from ...specs.base import SpecModel

#: The space searched for a learner that ``spec.search.space`` leaves out (wire form, checked
#: against the learner's generated space model at import).
DEFAULT_SPACES_WIRE: dict[ModelType, dict[str, Any]] = {
    ModelType.LIGHTGBM: {
        "numLeaves": {"type": "int", "low": 7, "high": 127, "log": True},
        "learningRate": {"type": "logFloat", "low": 0.01, "high": 0.3},
        "minDataInLeaf": {"type": "int", "low": 10, "high": 400, "log": True},
        "featureFraction": {"type": "float", "low": 0.5, "high": 1.0},
        "baggingFraction": {"type": "float", "low": 0.5, "high": 1.0},
        "baggingFreq": {"type": "categorical", "choices": [1]},
        "lambdaL2": {"type": "logFloat", "low": 0.001, "high": 10.0},
    },
    ModelType.XGBOOST: {
        "maxDepth": {"type": "int", "low": 2, "high": 8},
        "learningRate": {"type": "logFloat", "low": 0.01, "high": 0.3},
        "minChildWeight": {"type": "logFloat", "low": 0.1, "high": 50.0},
        "subsample": {"type": "float", "low": 0.5, "high": 1.0},
        "colsampleBytree": {"type": "float", "low": 0.5, "high": 1.0},
        "regLambda": {"type": "logFloat", "low": 0.001, "high": 10.0},
    },
    ModelType.CATBOOST: {
        "depth": {"type": "int", "low": 3, "high": 8},
        "learningRate": {"type": "logFloat", "low": 0.02, "high": 0.3},
        "l2LeafReg": {"type": "logFloat", "low": 0.1, "high": 30.0},
        "randomStrength": {"type": "float", "low": 0.0, "high": 2.0},
        "baggingTemperature": {"type": "float", "low": 0.0, "high": 2.0},
    },
}
DEFAULT_SPACES: dict[ModelType, SpecModel] = {
    learner: LEARNER_SPACES[learner].model_validate(wire)
    for learner, wire in DEFAULT_SPACES_WIRE.items()
}


def learner_space(spec: TrainingJobSpec, learner: ModelType) -> SpecModel:
    """The ranges searched for ``learner``: the spec's, else the default space."""
    space = spec.search.space if spec.search is not None else None
    given = getattr(space, learner.value, None) if space is not None else None
    return given if given is not None else DEFAULT_SPACES[learner]


def suggest(trial: optuna.Trial, spec: TrainingJobSpec) -> None:
    """Draw one candidate into ``trial`` (values are captured by Ray Tune's OptunaSearch)."""
    learners = [t.value for t in spec.learners]
    learner = ModelType(trial.suggest_categorical("learner", learners) if len(learners) > 1
                        else learners[0])
    if len(learners) == 1:
        trial.set_user_attr("learner", learner.value)
    for name, rng in learner_space(spec, learner):
        if rng is None:
            continue
        key = f"{learner.value}/{name}"
        kind = rng.type
        if kind == "categorical":
            choices = [c.value if hasattr(c, "value") else c for c in rng.choices]
            trial.suggest_categorical(key, choices)
        elif kind == "int":
            trial.suggest_int(key, rng.low, rng.high, step=rng.step or 1, log=rng.log)
        elif kind == "logFloat":
            trial.suggest_float(key, rng.low, rng.high, log=True)
        else:
            trial.suggest_float(key, rng.low, rng.high, step=rng.step)


class SpaceFunction:
    """:func:`suggest` bound to a spec: a picklable define-by-run space for OptunaSearch (the
    searcher's saved state is a plain pickle, which a closure or lambda would break)."""

    def __init__(self, spec: TrainingJobSpec) -> None:
        self.spec = spec

    def __call__(self, trial: optuna.Trial) -> None:
        suggest(trial, self.spec)


def candidate_from_config(spec: TrainingJobSpec, config: dict[str, Any]) -> Candidate:
    """The candidate a trial's config describes: base params updated with the drawn ones."""
    learners = spec.learners
    learner = ModelType(config.get("learner", learners[0].value))
    if learner not in learners:
        raise SpecError(f"trial config names learner {learner.value!r}, not one of the searched "
                        f"{[t.value for t in learners]}")
    base = base_candidate(spec, learner)
    drawn = dict(config.get(learner.value) or {})
    return Candidate(learner, {**base.params, **drawn})


def make_sampler(spec: TrainingJobSpec) -> optuna.samplers.BaseSampler:
    """The Optuna sampler of ``spec.search`` (TPE by default), seeded."""
    import optuna

    search = spec.search
    seed = search.seed if search is not None else 0
    kind = Sampler(search.sampler) if search is not None else Sampler.TPE
    if kind is Sampler.RANDOM:
        return optuna.samplers.RandomSampler(seed=seed)
    if kind is Sampler.CMAES:
        # Categorical ranges (and the learner, when fixed) are drawn by the independent
        # sampler, as Optuna documents for CMA-ES.
        return optuna.samplers.CmaEsSampler(
            seed=seed, warn_independent_sampling=False,
            independent_sampler=optuna.samplers.RandomSampler(seed=seed))
    trials = search.trials if search is not None else 1
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(1, min(10, trials // 3)))
