"""One trial of the search: the function every Ray Tune worker runs.

A trial builds its candidate from the config the sampler drew, grows the candidate's fold
models block by block (:class:`mlta.training.cv.FoldEvaluator`) and reports after each
block, so ASHA can stop it early. When it reaches the last round it writes its record to the
ledger; a trial that finds its record replays it instead of training (see
:mod:`.ledger`). The reported ``objective`` is the best fold-mean score so far (the number of
rounds is chosen by the folds); NaN becomes the worst value, so an undefined score can
never win nor break the sampler.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...specs.search import Direction, SearchMetric, default_direction
from ...specs.trainingjob import TrainingJobSpec
from ..cv import Candidate, FoldEvaluator, Report, block_schedule
from .ledger import Ledger, TrialRecord
from .space import candidate_from_config

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..dataset import Prepared

#: What a non-finite score is reported as (by direction), so it ranks last.
WORST = {Direction.MAXIMIZE: -1e9, Direction.MINIMIZE: 1e9}


@dataclass(frozen=True)
class TrialPayload:
    """Everything a trial needs besides its config; shipped once through Ray's object store."""

    data: Prepared
    spec: TrainingJobSpec
    columns: list[np.ndarray]
    ledger_root: str
    num_threads: int

    @property
    def metric(self) -> SearchMetric:
        return self.spec.search_metric

    @property
    def direction(self) -> Direction:
        search = self.spec.search
        if search is not None and search.direction is not None:
            return Direction(search.direction)
        return default_direction(self.metric)

    @property
    def schedule(self) -> list[int]:
        rounds = self.spec.model.num_boost_round
        search = self.spec.search
        every = search.pruning.report_every_rounds if search is not None else rounds
        return block_schedule(rounds, min(every, rounds))


def result_of(candidate: Candidate, report: Report, direction: Direction) -> dict[str, Any]:
    """The dict a trial reports for one block (JSON-safe: NaN replaced where it ranks)."""
    objective = report.best_score if math.isfinite(report.best_score) else WORST[direction]
    out: dict[str, Any] = {
        "rounds": report.rounds, "objective": objective, "score": _finite(report.score),
        "best_rounds": report.best_rounds, "learner": candidate.learner.value, "key": candidate.key,
    }
    out.update({f"cv_{k}": _finite(v) for k, v in report.metrics.items()})
    return out


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def evaluate(payload: TrialPayload, candidate: Candidate,
             report: Callable[[dict[str, Any]], None]) -> TrialRecord:
    """Train and score ``candidate`` (or replay its record), calling ``report`` per block."""
    ledger = Ledger(payload.ledger_root)
    done = ledger.read(candidate.key)
    if done is not None:
        for result in done.reports:
            report(result)
        return done
    ledger.mark_start(candidate.key)
    started = time.monotonic()
    evaluator = FoldEvaluator(payload.data, candidate, payload.columns, payload.metric,
                              payload.direction, payload.spec.backtest, payload.num_threads)
    results: list[dict[str, Any]] = []
    schedule = payload.schedule
    record: TrialRecord | None = None
    for rounds in schedule:
        rep = evaluator.advance_to(rounds)
        result = result_of(candidate, rep, payload.direction)
        results.append(result)
        if rounds == schedule[-1]:
            # The record is written before the last report: a scheduler stops a trial as
            # soon as it reports its last round (ASHA at max_t), so nothing runs after it.
            best = evaluator.best
            assert best is not None
            record = TrialRecord(
                key=candidate.key, learner=candidate.learner.value, params=candidate.params,
                reports=results, best_rounds=best.best_rounds, best_score=best.best_score,
                best_metrics=best.metrics, best_per_fold=best.per_fold,
                duration_s=time.monotonic() - started, predictions=evaluator.best_predictions)
            ledger.write(record)
        report(result)
    assert record is not None
    return record


def run_trial(config: dict[str, Any], payload: TrialPayload) -> None:
    """The Ray Tune function trainable (wrapped with ``tune.with_parameters``)."""
    from ray import tune

    candidate = candidate_from_config(payload.spec, config)
    evaluate(payload, candidate, tune.report)
