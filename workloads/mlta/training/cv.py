"""Walk-forward evaluation of one candidate (a learner and its hyperparameters).

Every fold's model grows in lockstep, one block of boosting rounds at a time; after each
block the fold models predict their test rows and the fold-mean metrics are reported. The
search reports those to ASHA (which can stop a bad candidate early) and keeps, per candidate,
the round count with the best fold-mean score: the number of rounds is chosen by the
walk-forward folds like every other hyperparameter, never by the lockbox.

Feature selection, when configured, is fitted per fold on that fold's training rows only
(:func:`fold_columns`), once for the whole search: it does not depend on the candidate.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import TrainingError
from ..specs.learners import LEARNER_PARAMS, ModelType
from ..specs.search import Direction, SearchMetric
from ..specs.trainingjob import BacktestSpec, TrainingJobSpec
from .adapters import ModelAdapter, get_adapter
from .scoring import mean_scores, score_rows

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..specs.base import SpecModel
    from .dataset import Prepared


@dataclass(frozen=True)
class Candidate:
    """A learner with its full hyperparameters (Python names, JSON-safe values)."""

    learner: ModelType
    params: dict[str, Any]

    def params_model(self) -> SpecModel:
        return LEARNER_PARAMS[self.learner].model_validate(self.params)

    @property
    def key(self) -> str:
        """Stable id of the candidate: same learner and params, same key, in every process."""
        wire = json.dumps({"learner": ModelType(self.learner).value, "params": self.params},
                          sort_keys=True)
        return hashlib.sha256(wire.encode()).hexdigest()[:16]

    def adapter(self, data: Prepared, num_threads: int | None = None) -> ModelAdapter:
        return get_adapter(self.learner, self.params_model(), objective=data.objective,
                           num_threads=num_threads)


def base_candidate(spec: TrainingJobSpec, learner: ModelType | None = None) -> Candidate:
    """The spec's fixed hyperparameters of ``learner`` (default model.type)."""
    chosen = ModelType(learner or spec.model.type)
    params = getattr(spec.model, chosen.value).model_dump(mode="json", exclude_none=True)
    return Candidate(chosen, params)


def fold_columns(data: Prepared, spec: TrainingJobSpec) -> list[np.ndarray]:
    """Column indices each fold trains on; the last entry is for the final (pre-lockbox) fit."""
    import numpy as np

    windows = [f.train for f in data.layout.folds] + [data.layout.lockbox.train]
    everything = np.arange(len(data.feature_names))
    selection = spec.features.selection
    if selection is None:
        return [everything for _ in windows]
    import pandas as pd

    from ..features.selection import fit_selector

    names = [f"fold {f.number}" for f in data.layout.folds] + ["the final model"]
    out = []
    for name, rows in zip(names, windows, strict=True):
        train = rows[data.labelled[rows]]
        frame = pd.DataFrame(data.X[train], columns=data.feature_names)
        fitted = fit_selector(frame, data.y[train], selection)
        if not fitted.columns:
            raise TrainingError(f"{name}: feature selection kept no column of "
                                f"{len(data.feature_names)}",
                                hint="loosen features.selection (a lower varianceThreshold, a "
                                     "higher correlationThreshold)")
        keep = set(fitted.columns)
        out.append(np.array([i for i, n in enumerate(data.feature_names) if n in keep], dtype=np.int64))
    return out


def better(a: float, b: float, direction: Direction) -> bool:
    """``a`` is a better score than ``b`` (NaN is worse than anything)."""
    if not math.isfinite(a):
        return False
    if not math.isfinite(b):
        return True
    return a > b if Direction(direction) is Direction.MAXIMIZE else a < b


@dataclass
class Report:
    """The state after one block: rounds so far, fold metrics, the score and the best so far."""

    rounds: int
    score: float
    metrics: dict[str, float]
    per_fold: list[dict[str, float]]
    best_score: float
    best_rounds: int


@dataclass
class FoldEvaluator:
    """Grows one candidate's fold models block by block and scores them."""

    data: Prepared
    candidate: Candidate
    columns: list[np.ndarray]
    metric: SearchMetric
    direction: Direction
    rule: BacktestSpec
    num_threads: int | None = None
    rounds: int = 0
    best: Report | None = None
    best_predictions: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.adapter = self.candidate.adapter(self.data, self.num_threads)
        data = self.data
        self.runs = []
        for fold, cols in zip(data.layout.folds, self.columns, strict=False):
            train = fold.train[data.labelled[fold.train]]
            names = [data.feature_names[i] for i in cols]
            self.runs.append(self.adapter.start(data.X[train][:, cols], data.y[train], names))

    def advance_to(self, rounds: int) -> Report:
        """Grow every fold model to ``rounds`` and score them on their test rows."""
        data = self.data
        predictions, per_fold = [], []
        for run, fold, cols in zip(self.runs, data.layout.folds, self.columns, strict=False):
            run.advance(rounds - run.rounds)
            pred = self.adapter.predict(run.model, data.X[fold.test][:, cols])
            predictions.append(pred)
            per_fold.append(score_rows(data, fold.test, pred, self.rule))
        self.rounds = rounds
        metrics = mean_scores(per_fold)
        score = metrics.get(SearchMetric(self.metric).value, math.nan)
        previous = self.best
        if previous is None or better(score, previous.best_score, self.direction):
            best_score, best_rounds = score, rounds
            self.best_predictions = predictions
        else:
            best_score, best_rounds = previous.best_score, previous.best_rounds
        report = Report(rounds, score, metrics, per_fold, best_score, best_rounds)
        if previous is None or best_rounds == rounds:
            self.best = report
        return report

    def run(self, schedule: list[int], on_report: Callable[[Report], None] | None = None) -> Report:
        """Advance through ``schedule`` (increasing round counts), reporting after each block."""
        if not schedule:
            raise ValueError("schedule must hold at least one round count")
        for rounds in schedule:
            report = self.advance_to(rounds)
            if on_report is not None:
                on_report(report)
        assert self.best is not None
        return self.best


def block_schedule(max_rounds: int, every: int) -> list[int]:
    """Report points: every ``every`` rounds, and always the last round."""
    points = list(range(every, max_rounds, every))
    return [*points, max_rounds]
