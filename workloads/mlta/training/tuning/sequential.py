"""The same trials without Ray: one candidate (a job without ``spec.search``), or a plain
sequential Optuna study in this process (the baseline the Ray Tune search is measured
against in tests/bench/bench_search.py). Trials go through the same ledger and evaluation as
Ray Tune's, so their records and the trial table are identical in form.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ...errors import MltaError
from ..cv import Candidate, base_candidate
from .ledger import TrialRecord
from .search import SearchOutcome, TrialRow
from .space import candidate_from_config, make_sampler, suggest
from .trial import TrialPayload, evaluate


def _row(number: int, record: TrialRecord, duration: float) -> TrialRow:
    return TrialRow(trial_id=f"trial_{number:05d}", key=record.key, learner=record.learner,
                    params=record.params, status="completed",
                    rounds=int(record.reports[-1]["rounds"]), best_rounds=record.best_rounds,
                    score=record.best_score, metrics=dict(record.best_metrics),
                    duration_s=duration, pid=os.getpid())


def _run(payload: TrialPayload, candidates: list[Candidate]) -> SearchOutcome:
    rows, records = [], {}
    for number, candidate in enumerate(candidates):
        started = time.monotonic()
        record = evaluate(payload, candidate, lambda _result: None)
        rows.append(_row(number, record, time.monotonic() - started))
        records[record.key] = record
    return SearchOutcome(rows=rows, records=records, direction=payload.direction)


def run_single(payload: TrialPayload) -> SearchOutcome:
    """``spec.model`` as the one trial."""
    return _run(payload, [base_candidate(payload.spec)])


def unflatten(params: dict[str, Any]) -> dict[str, Any]:
    """``{"learner": l, "l/p": v}`` -> ``{"learner": l, "l": {"p": v}}`` (as Ray Tune does)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if "/" in key:
            head, tail = key.split("/", 1)
            out.setdefault(head, {})[tail] = value
        else:
            out[key] = value
    return out


def run_sequential(payload: TrialPayload, search_root: str = "") -> SearchOutcome:
    """``spec.search`` as a sequential Optuna study (no Ray, no pruning). ``search_root`` is
    unused (the payload's ledger holds the records): the signature is a search runner's. A
    trial that raises an MltaError (the adapters turn learner failures into TrainingError) is
    a failed row, as under Ray Tune, and the search goes on."""
    import optuna

    spec = payload.spec
    assert spec.search is not None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=payload.direction.value, sampler=make_sampler(spec))
    rows, records, errors = [], {}, []
    for number in range(spec.search.trials):
        trial = study.ask()
        suggest(trial, spec)
        candidate = candidate_from_config(spec, unflatten(trial.params))
        started = time.monotonic()
        try:
            record = evaluate(payload, candidate, lambda _result: None)
        except MltaError as exc:
            # As under Ray Tune: a crashed trial is a failed row and the search goes on.
            error = f"{type(exc).__name__}: {exc}"[:2000]
            errors.append(error)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            rows.append(TrialRow(
                trial_id=f"trial_{number:05d}", key=candidate.key, learner=candidate.learner.value,
                params=candidate.params, status="failed", rounds=0, best_rounds=None, score=None,
                metrics={}, duration_s=time.monotonic() - started, error=error))
            continue
        study.tell(trial, record.best_score)
        rows.append(_row(number, record, time.monotonic() - started))
        records[record.key] = record
    return SearchOutcome(rows=rows, records=records, direction=payload.direction, errors=errors)
