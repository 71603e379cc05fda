"""The search driver: Ray Tune with Optuna's sampler and ASHA, its state in the lake.

The experiment lives at ``{search_root}/tune`` (Ray Tune's own state: trials, the sampler's
state, results) beside the trial ledger ``{search_root}/trials``. A driver that finds a saved
experiment restores it: finished trials are kept, unfinished ones run again (and replay their
ledger record if they had in fact finished), and new trials are drawn until the budget is
spent. The experiment state is saved every second (``TUNE_GLOBAL_CHECKPOINT_S``), and the
ledger makes any trial the state missed free to repeat.

Progress goes to the job's log as ``MLTA_PROGRESS {json}`` lines (trials done/total, best
score, best learner): the job log is the one channel both engine backends let the operator
read while the job runs.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import TrainingError
from ...specs.jobs import JobProgress
from ...specs.search import Direction
from .ledger import Ledger, TrialRecord
from .space import SpaceFunction, candidate_from_config, make_sampler
from .trial import TrialPayload, run_trial

if TYPE_CHECKING:  # pragma: no cover
    from ray import tune

log = logging.getLogger(__name__)

EXPERIMENT = "tune"


@dataclass
class TrialRow:
    """One line of the trial table saved with the model version."""

    trial_id: str
    key: str
    learner: str
    params: dict[str, Any]
    status: str            # completed | pruned | failed
    rounds: int
    best_rounds: int | None
    score: float | None     # best fold-mean score of the search metric
    metrics: dict[str, float]
    duration_s: float
    error: str = ""
    pid: int | None = None   # the worker process that ran it


@dataclass
class SearchOutcome:
    """Every trial, and the records of the finished ones (by candidate key)."""

    rows: list[TrialRow]
    records: dict[str, TrialRecord]
    direction: Direction
    errors: list[str] = field(default_factory=list)

    def ranked(self) -> list[TrialRecord]:
        """Finished candidates, best first (ties: the earlier key); an undefined (NaN) score
        last, since NaN compares false with everything and would leave the order to chance."""
        sign = -1.0 if Direction(self.direction) is Direction.MAXIMIZE else 1.0
        return sorted(self.records.values(),
                      key=lambda r: (not math.isfinite(r.best_score),
                                     sign * r.best_score if math.isfinite(r.best_score) else 0.0,
                                     r.key))


def progress_line(done: int, total: int, best: float | None, learner: str | None) -> str:
    return JobProgress(trialsDone=done, trialsTotal=total, bestScore=best,
                       bestLearner=learner).line()


def _progress_callback(total: int, direction: Direction) -> tune.Callback:
    """A Progress callback (the class is built lazily: its base class is Ray's)."""
    from ray import tune

    global _Progress
    if _Progress is None:

        class Progress(tune.Callback):  # type: ignore[misc]
            """Prints a progress line whenever a trial ends (finished, pruned or failed).

            It reads everything from the trial list Tune passes in, so a restored experiment
            (whose callbacks are unpickled from the saved state) reports the whole search.
            """

            def __init__(self, total: int, direction: Direction) -> None:
                self.total, self.direction = total, direction

            def _line(self, trials: list[Any], current: Any) -> None:
                # The trial that just ended may not carry its final status yet.
                ended = [t for t in trials
                         if t is current or t.status in ("TERMINATED", "ERROR")]
                best: float | None = None
                learner: str | None = None
                maximize = self.direction is Direction.MAXIMIZE
                for trial in ended:
                    result = trial.last_result or {}
                    score = result.get("objective")
                    if score is None or abs(score) >= 1e9:
                        continue
                    if best is None or (score > best if maximize else score < best):
                        best, learner = float(score), result.get("learner")
                print(progress_line(len(ended), self.total, best, learner), flush=True)

            def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any,
                                  **info: Any) -> None:
                self._line(trials, trial)

            def on_trial_error(self, iteration: int, trials: list[Any], trial: Any,
                               **info: Any) -> None:
                self._line(trials, trial)

        Progress.__qualname__ = "_Progress"
        _Progress = Progress
    return _Progress(total, direction)


_Progress: Any = None


def _tuner(payload: TrialPayload, path: str, fs: Any) -> tune.Tuner:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
    from ray.tune.search.optuna import OptunaSearch

    spec = payload.spec
    search = spec.search
    assert search is not None
    direction = payload.direction
    mode = "max" if direction is Direction.MAXIMIZE else "min"
    trainable = tune.with_resources(tune.with_parameters(run_trial, payload=payload),
                                    {"cpu": search.cpus_per_trial})
    callbacks = [_progress_callback(search.trials, direction)]
    location = f"{path}/{EXPERIMENT}"
    if tune.Tuner.can_restore(location, storage_filesystem=fs):
        log.info("resuming the search saved at %s", location)
        return tune.Tuner.restore(location, trainable, resume_unfinished=True,
                                  resume_errored=False, restart_errored=False,
                                  storage_filesystem=fs)
    pruning = search.pruning
    scheduler: Any = (ASHAScheduler(time_attr="rounds", max_t=spec.model.num_boost_round,
                                    grace_period=min(pruning.grace_rounds, spec.model.num_boost_round),
                                    reduction_factor=pruning.reduction_factor,
                                    metric="objective", mode=mode)
                      if pruning.enabled else FIFOScheduler())
    searcher = OptunaSearch(space=SpaceFunction(spec), sampler=make_sampler(spec),
                            metric="objective", mode=mode)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher, scheduler=scheduler,
            num_samples=search.trials, max_concurrent_trials=search.concurrent_trials,
            time_budget_s=search.timeout_seconds,
            # Every trial needs the same resources, so a worker that finished one takes the
            # next: no Python process (and no learner import) per trial.
            reuse_actors=True),
        run_config=tune.RunConfig(
            name=EXPERIMENT, storage_path=path, storage_filesystem=fs,
            failure_config=tune.FailureConfig(max_failures=0), callbacks=callbacks, verbose=0),
    )


def run_search(payload: TrialPayload, search_root: str) -> SearchOutcome:
    """Run (or resume) the search of ``payload.spec`` and collect every trial."""
    spec = payload.spec
    if spec.search is None:
        raise TrainingError("run_search needs spec.search")
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the legacy reporter honours verbose=0
    # Tune's own per-trial JSON/CSV/TensorBoard result files: the ledger and the trial table
    # hold what matters, and writing those on every report costs each trial time.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fs, path = storage.resolve(search_root)
    fs.create_dir(path, recursive=True)
    print(progress_line(0, spec.search.trials, None, None), flush=True)
    grid = _tuner(payload, path, fs).fit()
    return collect(grid, payload)


def collect(grid: Any, payload: TrialPayload) -> SearchOutcome:
    """The trial table and the ledger records of a finished Ray Tune run."""
    ledger = Ledger(payload.ledger_root)
    rows: list[TrialRow] = []
    records: dict[str, TrialRecord] = {}
    errors: list[str] = []
    for result in grid:
        metrics = dict(result.metrics or {})
        config = dict(result.config or {})
        candidate = candidate_from_config(payload.spec, config)
        record = ledger.read(candidate.key)
        if result.error is not None:
            status, error = "failed", f"{type(result.error).__name__}: {result.error}"[:2000]
            errors.append(error)
        else:
            status, error = ("completed" if record is not None else "pruned"), ""
        if record is not None:
            records[record.key] = record
        cv = {k[3:]: v for k, v in metrics.items() if k.startswith("cv_") and v is not None}
        score = metrics.get("objective")
        rows.append(TrialRow(
            trial_id=str(metrics.get("trial_id") or result.path.rsplit("/", 1)[-1]),
            key=candidate.key, learner=candidate.learner.value, params=candidate.params,
            status=status, rounds=int(metrics.get("rounds") or 0),
            best_rounds=metrics.get("best_rounds"),
            score=score if score is not None and abs(score) < 1e9 else None,
            metrics=cv, duration_s=float(metrics.get("time_total_s") or 0.0), error=error,
            pid=int(metrics["pid"]) if metrics.get("pid") else None))
    rows.sort(key=lambda r: r.trial_id)
    log.info("search finished", extra={"trials": len(rows), "completed": len(records),
                                       "failed": len(errors)})
    sys.stdout.flush()
    return SearchOutcome(rows=rows, records=records, direction=payload.direction, errors=errors)
