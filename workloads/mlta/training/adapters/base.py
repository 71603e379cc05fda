"""The one interface every learner library sits behind.

Training, the search, ensembles, explanations, the registry and serving only talk to a
:class:`ModelAdapter`; a learner library is imported nowhere but in its adapter module.

Training is incremental: :meth:`ModelAdapter.start` returns a :class:`TrainingRun` that grows
the model block by block (``advance(rounds)``), so a search trial can train every walk-forward
fold in lockstep and report the fold-mean score after each block; ASHA then stops a bad trial
early and the rounds it did not run are saved. Growing a model in blocks gives exactly the
model one call with the total rounds would give (tested per learner).

Inputs are float64 numpy matrices (NaN = missing, which every learner handles natively) plus
the feature names; outputs are float64 arrays: P(class 1) for a binary objective, the value
for a regression. :meth:`ModelAdapter.contributions` are SHAP values in the raw margin space
(log-odds for binary), one column per feature plus the bias last, from the learner's own
exact TreeSHAP (``pred_contrib`` / ``pred_contribs`` / ``ShapValues``).
:meth:`ModelAdapter.gain_importance` is each learner's total split gain per feature (what
feature selection ranks columns by).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ...errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ...specs.learners import ModelType

#: Seed of every learner's own randomness (bagging, feature sampling, CatBoost's permutations).
SEED = 42


class Objective(str, Enum):
    """What the learner minimises: log loss on 0/1 labels, or squared error."""

    BINARY = "binary"
    REGRESSION = "regression"


@dataclass(frozen=True)
class FitSettings:
    """What mlta decides for every learner (not the user's hyperparameters)."""

    objective: Objective
    num_threads: int = 1
    seed: int = SEED


@runtime_checkable
class TrainingRun(Protocol):
    """A model being grown; ``model`` is usable for prediction after any ``advance``."""

    rounds: int

    def advance(self, rounds: int) -> None: ...

    @property
    def model(self) -> Any: ...


@runtime_checkable
class ModelAdapter(Protocol):
    """Fit (incrementally), predict, explain, save and load one library's models."""

    model_type: ModelType

    def start(self, X: np.ndarray, y: np.ndarray, feature_names: list[str]) -> TrainingRun: ...

    def predict(self, model: Any, X: np.ndarray) -> np.ndarray: ...

    def contributions(self, model: Any, X: np.ndarray) -> np.ndarray: ...

    def gain_importance(self, model: Any) -> np.ndarray:
        """Per feature (in the model's feature order), how much its splits reduced the loss.

        Each learner's own split-gain measure; scales differ between learners, so only the
        ranking within one model means anything (feature selection keeps the top k).
        """
        ...

    def save(self, model: Any, uri: str) -> str: ...

    def load(self, uri: str) -> Any: ...

    def feature_names(self, model: Any) -> list[str]: ...


def fit(adapter: ModelAdapter, X: np.ndarray, y: np.ndarray, feature_names: list[str],
        rounds: int) -> Any:
    """One model of ``rounds`` boosting rounds (the same model as growing it in blocks)."""
    run = adapter.start(X, y, feature_names)
    run.advance(rounds)
    return run.model


def default_threads() -> int:
    """MLTA_TRAIN_THREADS, else OMP_NUM_THREADS (Ray sets it to a task's CPUs), else 1.

    One thread by default: on a small shared machine (the embedded default runs everything
    on one laptop) OpenMP threads that outnumber free cores spin and slow training down by
    an order of magnitude; a cluster job sets MLTA_TRAIN_THREADS to the CPUs it reserved.
    """
    for var in ("MLTA_TRAIN_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            threads = int(raw)
        except ValueError as exc:
            raise SpecError(f"{var}={raw!r} is not an integer",
                            hint=f"set {var} to a positive whole number") from exc
        if threads >= 1:
            return threads
    return 1


def as_matrix(X: Any) -> np.ndarray:
    """A C-contiguous float64 matrix (what every learner reads without a copy)."""
    import numpy as np

    return np.ascontiguousarray(X, dtype=np.float64)


def check_rounds(rounds: int) -> None:
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"rounds must be a non-negative integer, got {rounds!r}")
