"""What a trained version records about itself: metrics, the evaluation, the gate, the files.

The lockbox is scored here exactly once, by the chosen model's :class:`Predictor` (the class
serving loads), after everything about the model was decided on the walk-forward folds.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..registry import GateInfo
from ..specs.trainingjob import TRADABLE_TARGETS, TargetKind, TrainingJobSpec
from .evaluate import SelectionBias, baselines_report, folds_report, selection_bias
from .explain import explain
from .gate import evaluate_gate
from .scoring import evaluate_rows, flat_metrics

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .dataset import Prepared
    from .predictor import Predictor
    from .tuning.ledger import TrialRecord
    from .tuning.search import SearchOutcome, TrialRow

TRIALS_FILE = "trials.parquet"
IMPORTANCE_FILE = "explain/importance.json"
SHAP_SUMMARY_FILE = "explain/shap_summary.png"
EQUITY_FILE = "backtest/lockbox_equity.png"


@dataclass
class Report:
    metrics: dict[str, float]
    evaluation: dict[str, Any]
    gate: GateInfo
    files: dict[str, bytes] = field(default_factory=dict)


def prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    """``{"auc": x}`` -> ``{"<prefix>Auc": x}``, finite values only (status holds numbers)."""
    return {f"{prefix}{k[:1].upper()}{k[1:]}": float(v) for k, v in metrics.items()
            if isinstance(v, int | float) and math.isfinite(v)}


def trials_table(rows: list[TrialRow]) -> bytes:
    """The trial table as parquet: one row per trial, params as JSON, fold metrics as columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metric_names = sorted({k for r in rows for k in r.metrics})
    columns: dict[str, list[Any]] = {
        "trial_id": [r.trial_id for r in rows], "key": [r.key for r in rows],
        "learner": [r.learner for r in rows],
        "params": [json.dumps(r.params, sort_keys=True) for r in rows],
        "status": [r.status for r in rows], "rounds": [r.rounds for r in rows],
        "best_rounds": [r.best_rounds for r in rows], "score": [r.score for r in rows],
        "duration_s": [r.duration_s for r in rows], "error": [r.error for r in rows],
        "pid": [r.pid for r in rows],
    }
    for name in metric_names:
        columns[f"cv_{name}"] = [r.metrics.get(name) for r in rows]
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def search_summary(outcome: SearchOutcome, spec: TrainingJobSpec) -> dict[str, Any]:
    counts = {s: sum(1 for r in outcome.rows if r.status == s) for s in ("completed", "pruned", "failed")}
    best = outcome.ranked()[0]
    return {"trials": len(outcome.rows), **counts, "metric": spec.search_metric.value,
            "direction": outcome.direction.value,
            "rounds": sum(r.rounds for r in outcome.rows),
            "best": {"key": best.key, "learner": best.learner, "score": best.best_score,
                     "rounds": best.best_rounds, "params": best.params}}


def bias_of(data: Prepared, spec: TrainingJobSpec, outcome: SearchOutcome,
            chosen_returns: Any) -> SelectionBias:
    if TargetKind(spec.target.kind) not in TRADABLE_TARGETS:
        return SelectionBias()
    rule = spec.backtest
    trial_returns = {}
    for record in outcome.records.values():
        returns = folds_report(data, record.predictions, rule).returns
        if returns is not None:
            trial_returns[record.key] = returns
    ran = sum(1 for r in outcome.rows if r.status in ("completed", "pruned"))
    extra = 1 if spec.ensemble is not None else 0
    return selection_bias(trial_returns, chosen_returns, ran + extra)


def assemble(data: Prepared, spec: TrainingJobSpec, outcome: SearchOutcome,
             chosen: list[TrialRecord], oof: list[np.ndarray], predictor: Predictor,
             final_columns: np.ndarray) -> Report:
    """Score the chosen model on the folds and (once) on the lockbox; explain and gate it."""
    rule = spec.backtest
    kind = TargetKind(spec.target.kind)
    cv = folds_report(data, oof, rule)
    lock = data.layout.lockbox
    x_lock = data.X[lock.test][:, final_columns]
    prediction = predictor.predict(x_lock)
    model_eval = evaluate_rows("model", data, lock.test, prediction, rule)
    lockbox = flat_metrics(model_eval)
    baselines, lock_baselines = baselines_report(data, spec)
    bias = bias_of(data, spec, outcome, cv.returns)
    gate = evaluate_gate(spec.gate, kind, lockbox, model_eval, lock_baselines, bias)
    files = {TRIALS_FILE: trials_table(outcome.rows)}
    evaluation: dict[str, Any] = {
        "cv": {"mean": cv.mean, "perFold": cv.per_fold},
        "lockbox": lockbox, "baselines": baselines, "selectionBias": bias.to_dict(),
        "search": search_summary(outcome, spec),
        "layout": {"folds": [{"trainRows": int(f.train.size), "testRows": int(f.test.size)}
                             for f in data.layout.folds],
                   "lockbox": {"trainRows": int(lock.train.size), "testRows": int(lock.test.size)}},
    }
    if predictor.explainable:
        explanation = explain(predictor, x_lock)
        evaluation["explain"] = {"importance": dict(list(explanation.importance.items())[:30]),
                                 "expectedValue": explanation.expected_value,
                                 "rows": explanation.rows}
        files[IMPORTANCE_FILE] = json.dumps(explanation.importance, indent=1).encode()
        if explanation.png is not None:
            files[SHAP_SUMMARY_FILE] = explanation.png
    hold = next((b for b in lock_baselines if b.name == "buy_and_hold"), None)
    if model_eval.backtest is not None:
        from .plots import equity_curve_png

        files[EQUITY_FILE] = equity_curve_png(
            model_eval.backtest, hold.backtest if hold is not None else None,
            f"lockbox, net of {rule.fee_bps + rule.slippage_bps:g} bps per side")
    metric = spec.search_metric.value
    metrics = {"score": cv.mean.get(metric, math.nan), **prefixed("cv", cv.mean),
               **prefixed("lockbox", lockbox)}
    if bias.dsr is not None and math.isfinite(bias.dsr.dsr):
        metrics["deflatedSharpe"] = bias.dsr.dsr
    if bias.pbo is not None and math.isfinite(bias.pbo.pbo):
        metrics["pbo"] = bias.pbo.pbo
    metrics["trials"] = float(len(outcome.rows))
    metrics = {k: v for k, v in metrics.items() if math.isfinite(v)}
    return Report(metrics=metrics, evaluation=_json_safe(evaluation), gate=gate, files=files)


def _json_safe(value: Any) -> Any:
    """NaN and infinities -> None, numpy scalars -> floats (metadata.json is strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
