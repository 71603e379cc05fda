"""What the demo prints about each TrainingJob: its trials, the lockbox against the naive
baselines (after costs), the selection-bias statistics and the gate's verdict.

Everything is read back from the registered version (metadata.json and trials.parquet), the
record anyone auditing the model would read.
"""

from __future__ import annotations

import math
from typing import Any

from .. import registry, storage

#: Lockbox figures shown side by side for the model and each baseline.
COLUMNS = ("auc", "accuracy", "sharpe", "totalReturn", "maxDrawdown", "hitRate", "turnover")


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:.3g}"
    return str(value)


def trials_lines(model_uri: str, meta: registry.ModelVersionMetadata, limit: int = 8) -> list[str]:
    import pyarrow.parquet as pq

    relative = meta.artifacts.get("trials")
    if not relative:
        return []
    fs, path = storage.resolve(storage.join(model_uri, relative))
    rows = pq.read_table(path, filesystem=fs).to_pylist()
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0)))
    search = meta.evaluation.get("search", {})
    lines = [f"    trials: {len(rows)} ({search.get('completed', 0)} completed, "
             f"{search.get('pruned', 0)} pruned by ASHA, {search.get('failed', 0)} failed), "
             f"{search.get('rounds', 0)} boosting rounds; metric {search.get('metric')}"]
    for row in rows[:limit]:
        lines.append(f"      {row['trial_id']:>14}  {row['learner']:9} {row['status']:9} "
                     f"rounds {row['rounds']:>4} (best {_fmt(row['best_rounds'])})  "
                     f"score {_fmt(row['score'])}  {row['duration_s']:5.1f}s")
    return lines


def comparison_lines(meta: registry.ModelVersionMetadata) -> list[str]:
    lockbox = meta.evaluation.get("lockbox", {})
    baselines = meta.evaluation.get("baselines", {})
    shown = [c for c in COLUMNS if c in lockbox]
    header = "      " + f"{'lockbox':16}" + "".join(f"{c:>13}" for c in shown)
    model_row = "".join(f"{_fmt(lockbox.get(c)):>13}" for c in shown)
    lines = [header, "      " + f"{meta.model_type:16}" + model_row]
    for name, figures in baselines.items():
        row = figures.get("lockbox", {})
        lines.append("      " + f"{name:16}" + "".join(f"{_fmt(row.get(c)):>13}" for c in shown))
    return lines


def bias_lines(meta: registry.ModelVersionMetadata) -> list[str]:
    bias = meta.evaluation.get("selectionBias", {})
    dsr = bias.get("deflatedSharpe") or {}
    pbo = bias.get("pbo") or {}
    parts = []
    if dsr:
        parts.append(f"Deflated Sharpe {_fmt(dsr.get('dsr'))} over {dsr.get('nTrials')} trials")
    if pbo:
        parts.append(f"PBO {_fmt(pbo.get('pbo'))} (CSCV, {pbo.get('nSplits')} blocks)")
    cv = meta.metrics.get("score")
    parts.insert(0, f"walk-forward score {_fmt(cv)}")
    return ["    " + "; ".join(parts)]


def gate_lines(meta: registry.ModelVersionMetadata) -> list[str]:
    if meta.gate is None:
        return []
    lines = [f"    gate: {meta.gate.status.value}"]
    lines += [f"      - {reason}" for reason in meta.gate.reasons[:6]]
    return lines


def training_report(items: list[dict[str, Any]]) -> str:
    """The demo's summary of every TrainingJob in ``items`` (CR objects with status)."""
    out: list[str] = []
    for obj in items:
        if obj.get("kind") != "TrainingJob":
            continue
        status = obj.get("status") or {}
        uri = status.get("modelUri")
        if not uri:
            continue
        meta = registry.read_metadata(uri)
        out.append(f"  TrainingJob {obj['metadata']['name']}: {meta.name} {meta.version} "
                   f"({meta.model_type}, {len(meta.member_list())} member(s))")
        out += trials_lines(uri, meta)
        out += bias_lines(meta)
        out += comparison_lines(meta)
        out += gate_lines(meta)
    return "\n".join(out)
