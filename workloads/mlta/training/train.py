"""A TrainingJob from a Gold frame to a gated, explained model ready to register.

1. :func:`~.dataset.prepare`: labels, features, the walk-forward folds and the lockbox.
2. Feature selection per fold, on that fold's training rows (once for the whole search).
3. The search (Ray Tune + Optuna + ASHA) over the folds only; without ``spec.search`` the
   spec's model is the one trial.
4. The chosen model: the best finished trial, or an ensemble of the top k.
5. Refit on every labelled row before the lockbox (minus the purge), with the round counts
   the folds chose, and score the lockbox once: after costs, beside the naive baselines.
6. Selection bias over the whole search (DSR, PBO), SHAP on the lockbox, the gate.

The core takes a DataFrame (not a dataset URI), so it runs the same in a Ray job, a test or
a notebook; only ``search_root`` (where the search keeps its state) touches storage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import TrainingError
from ..registry import GateInfo, MemberInfo, ModelVersionMetadata
from ..specs.learners import ModelType
from ..specs.trainingjob import TrainingJobSpec
from .adapters.base import fit
from .cv import Candidate, fold_columns
from .dataset import Prepared, prepare
from .ensembles import Combiner, fit_combiner, out_of_fold
from .predictor import Member, Predictor
from .report import assemble
from .tuning.ledger import TrialRecord
from .tuning.search import SearchOutcome, TrialRow, run_search
from .tuning.sequential import run_single
from .tuning.trial import TrialPayload

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class TrainingOutcome:
    """Everything registration writes: the members, the combiner and the reports."""

    predictor: Predictor
    combiner: Combiner | None
    model_type: str
    feature_columns: list[str]
    target: dict[str, Any]
    metrics: dict[str, float]
    evaluation: dict[str, Any]
    gate: GateInfo
    trials: list[TrialRow]
    reports: dict[str, bytes] = field(default_factory=dict)  # artifact name -> content

    @property
    def members(self) -> list[Member]:
        return self.predictor.members


#: Runs the trials of a search: Ray Tune (:func:`run_search`) or, without Ray, in-process.
SearchRunner = Callable[[TrialPayload, str], SearchOutcome]


def search(data: Prepared, spec: TrainingJobSpec, columns: list[np.ndarray], search_root: str,
           num_threads: int | None, runner: SearchRunner | None = None) -> SearchOutcome:
    """Every trial of the job (one without ``spec.search``); TrainingError if none finished."""
    threads = num_threads or (max(1, int(spec.search.cpus_per_trial)) if spec.search else 1)
    payload = TrialPayload(data=data, spec=spec, columns=columns[:-1], ledger_root=search_root,
                           num_threads=threads)
    if spec.search is None:
        outcome = run_single(payload)
    else:
        outcome = (runner or run_search)(payload, search_root)
    if not outcome.records:
        first = outcome.errors[0] if outcome.errors else "no trial finished"
        raise TrainingError(f"every trial of the search failed; the first error: {first}",
                            hint="check the search space and the training data")
    return outcome


def choose(outcome: SearchOutcome, spec: TrainingJobSpec) -> list[TrialRecord]:
    """The best finished trial, or the top ``ensemble.topK`` for an ensemble."""
    ranked = outcome.ranked()
    if spec.ensemble is None:
        return ranked[:1]
    if len(ranked) < 2:
        raise TrainingError(f"an ensemble needs at least 2 finished trials, the search finished "
                            f"{len(ranked)}", hint="raise search.trials or disable pruning")
    return ranked[: spec.ensemble.top_k]


def fit_members(data: Prepared, chosen: list[TrialRecord], cols: np.ndarray,
                num_threads: int | None) -> list[tuple[MemberInfo, Any, Any]]:
    """Refit each chosen candidate on every labelled row before the lockbox."""
    rows = data.layout.lockbox.train
    rows = rows[data.labelled[rows]]
    names = [data.feature_names[i] for i in cols]
    out = []
    for record in chosen:
        candidate = Candidate(ModelType(record.learner), record.params)
        adapter = candidate.adapter(data, num_threads)
        model = fit(adapter, data.X[rows][:, cols], data.y[rows], names, record.best_rounds)
        info = MemberInfo(learner=candidate.learner.value, artifact="", rounds=record.best_rounds,
                          params=record.params, feature_columns=names, trial=record.key)
        out.append((info, adapter, model))
    log.info("final model fitted", extra={"rows": len(rows), "members": len(out)})
    return out


def train(frame: pd.DataFrame, feature_columns: list[str], spec: TrainingJobSpec, *,
          search_root: str, num_threads: int | None = None,
          runner: SearchRunner | None = None) -> TrainingOutcome:
    """Search, choose, refit, score the lockbox once, explain and gate (module docstring)."""
    import numpy as np

    data = prepare(frame, feature_columns, spec)
    columns = fold_columns(data, spec)
    outcome = search(data, spec, columns, search_root, num_threads, runner)
    chosen = choose(outcome, spec)
    fitted = fit_members(data, chosen, columns[-1], num_threads)
    final_cols = [data.feature_names[i] for i in columns[-1]]
    combiner: Combiner | None = None
    oof = chosen[0].predictions
    if spec.ensemble is not None:
        method, objective = spec.ensemble.method, data.objective
        labels = [data.y[f.test] for f in data.layout.folds]
        per_fold = [[record.predictions[i] for record in chosen] for i in range(len(labels))]
        oof = out_of_fold(method, objective, per_fold, labels)
        stacked = [np.concatenate([record.predictions[i] for i in range(len(labels))])
                   for record in chosen]
        combiner = fit_combiner(method, objective, stacked, np.concatenate(labels))
    placeholder = ModelVersionMetadata(
        name="", version="", model_type="ensemble" if combiner else chosen[0].learner,
        artifact="", feature_columns=final_cols, target=target_info(spec), metrics={},
        lineage={}, created_at="1970-01-01T00:00:00Z",  # type: ignore[arg-type]
        members=[info for info, _, _ in fitted])
    index = np.arange(len(final_cols))
    predictor = Predictor(placeholder, [Member(info, adapter, model, index)
                                        for info, adapter, model in fitted], combiner)
    report = assemble(data, spec, outcome, chosen, oof, predictor, columns[-1])
    return TrainingOutcome(
        predictor=predictor, combiner=combiner, model_type=placeholder.model_type,
        feature_columns=final_cols, target=target_info(spec), metrics=report.metrics,
        evaluation=report.evaluation, gate=report.gate, trials=outcome.rows, reports=report.files)


def target_info(spec: TrainingJobSpec) -> dict[str, Any]:
    """The label's settings as the registry records them (serving reads ``kind``)."""
    t = spec.target
    info: dict[str, Any] = {"kind": str(t.kind), "horizon": t.horizon}
    if t.kind == "direction":
        info["deadBand"] = t.dead_band
    if t.kind == "tripleBarrier":
        info["barrier"] = t.barrier.to_wire()
    return info
