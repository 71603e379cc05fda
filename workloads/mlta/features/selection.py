"""Feature selection fitted on training rows only.

``fit_selector(X_train, y_train, spec)`` sees nothing but the training fold, so applying the
result to a test fold cannot leak test information into the choice of columns (DESIGN.md: "scalers
and selectors fit on training folds only"). Stages run in a fixed order, each on the columns the
previous one kept:

1. variance: drop columns whose training variance is at most ``variance_threshold`` (constants,
   all-NaN columns);
2. correlation: of each pair with |Pearson r| above ``correlation_threshold`` keep the one more
   related to the target (|r| with y), greedily from the most target-related column down;
3. univariate: keep the ``univariate_k`` best by F-score or binned mutual information;
4. importance: keep the ``importance_k`` best by LightGBM total gain (through the LightGBM
   adapter, :meth:`mlta.training.adapters.base.ModelAdapter.gain_importance`).

The result records why every dropped column went, so a training report can show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from mlta.errors import DataError
from mlta.specs.base import SpecModel
from mlta.specs.selection import SelectorSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Stage = Literal["variance", "correlation", "univariate", "importance"]

__all__ = ["Dropped", "FittedSelector", "SelectorSpec", "fit_selector"]


class Dropped(SpecModel):
    """One column the selector removed, the stage that did it and why."""

    column: str
    stage: Stage
    reason: str


class FittedSelector(SpecModel):
    """The selection learned from a training fold; ``transform`` applies it to any fold."""

    input_columns: list[str]
    columns: list[str] = Field(description="Kept columns, in input order.")
    dropped: list[Dropped] = Field(default_factory=list)
    scores: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Per stage, the score of each column it looked at.")
    task: Literal["regression", "classification"]
    train_rows: int

    def report(self) -> dict[str, str]:
        """Column -> why it was dropped (kept columns map to "kept")."""
        why = {d.column: f"{d.stage}: {d.reason}" for d in self.dropped}
        return {c: why.get(c, "kept") for c in self.input_columns}

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(f"frame lacks selected feature column(s) {missing[:5]}",
                            hint="build the same feature set the selector was fitted on")
        return frame[self.columns]


def fit_selector(
    x_train: pd.DataFrame, y_train: pd.Series | np.ndarray, spec: SelectorSpec | None = None
) -> FittedSelector:
    """Fit every configured stage on the training rows (the only rows it is given)."""
    import numpy as np

    spec = spec or SelectorSpec()
    y = np.asarray(y_train, dtype=np.float64)
    if len(x_train) != y.size:
        raise DataError(f"X_train has {len(x_train)} rows but y_train has {y.size}",
                        hint="pass the labels of exactly the training rows")
    if len(x_train) < 3:
        raise DataError("feature selection needs at least 3 training rows",
                        hint="use a longer training window")
    x = x_train.to_numpy(dtype=np.float64, na_value=np.nan)
    names = [str(c) for c in x_train.columns]
    task = _task(y, spec.task)
    keep = list(range(len(names)))
    dropped: list[Dropped] = []
    scores: dict[str, dict[str, float]] = {}

    if spec.variance_threshold is not None:
        var = _nanvar(x)
        scores["variance"] = {names[j]: float(var[j]) for j in keep}
        for j in list(keep):
            if not var[j] > spec.variance_threshold:
                keep.remove(j)
                dropped.append(Dropped(column=names[j], stage="variance",
                                       reason=f"training variance {var[j]:.3g} <= "
                                              f"{spec.variance_threshold:g}"))

    if spec.correlation_threshold is not None and len(keep) > 1:
        keep, out, target = _correlation_filter(x, y, names, keep, spec.correlation_threshold)
        dropped += out
        scores["target_correlation"] = target

    if spec.univariate is not None and spec.univariate_k is not None and keep:
        if spec.univariate == "f_score":
            values = {j: _f_score(x[:, j], y, task) for j in keep}
        else:
            values = {j: _mutual_info(x[:, j], y, task, spec.mi_bins) for j in keep}
        scores[spec.univariate] = {names[j]: values[j] for j in keep}
        keep, out = _top_k(keep, values, spec.univariate_k, names, "univariate", spec.univariate)
        dropped += out

    if spec.importance_k is not None and keep:
        gains = _lightgbm_gain(x[:, keep], y, task, spec.seed)
        values = dict(zip(keep, gains, strict=True))
        scores["gain"] = {names[j]: values[j] for j in keep}
        keep, out = _top_k(keep, values, spec.importance_k, names, "importance", "LightGBM gain")
        dropped += out

    return FittedSelector(input_columns=names, columns=[names[j] for j in sorted(keep)],
                          dropped=dropped, scores=scores, task=task, train_rows=len(x_train))


def _task(y: np.ndarray, task: str) -> Literal["regression", "classification"]:
    import numpy as np

    if task in ("regression", "classification"):
        return task  # type: ignore[return-value]
    finite = y[np.isfinite(y)]
    if finite.size and np.all(finite == np.round(finite)) and np.unique(finite).size <= 20:
        return "classification"
    return "regression"


def _nanvar(x: np.ndarray) -> np.ndarray:
    """Per-column variance over finite values; NaN (so dropped) for columns with < 2 of them."""
    import numpy as np

    out = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        col = x[:, j][np.isfinite(x[:, j])]
        if col.size >= 2:
            out[j] = float(np.var(col))
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """|r| over rows where both are finite; 0 when undefined (too few rows, a constant)."""
    import numpy as np

    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    a = a[ok] - a[ok].mean()
    b = b[ok] - b[ok].mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return abs(float((a * b).sum()) / den) if den > 0.0 else 0.0


def _correlation_filter(
    x: np.ndarray, y: np.ndarray, names: list[str], keep: list[int], threshold: float
) -> tuple[list[int], list[Dropped], dict[str, float]]:
    target = {j: _pearson(x[:, j], y) for j in keep}
    # most target-related first; ties by input order, so the result is deterministic
    order = sorted(keep, key=lambda j: (-target[j], j))
    kept: list[int] = []
    dropped: list[Dropped] = []
    for j in order:
        partner = next((k for k in kept if _pearson(x[:, j], x[:, k]) > threshold), None)
        if partner is None:
            kept.append(j)
            continue
        r = _pearson(x[:, j], x[:, partner])
        dropped.append(Dropped(
            column=names[j], stage="correlation",
            reason=f"|r| {r:.3f} > {threshold:g} with {names[partner]} (kept: |r| with target "
                   f"{target[partner]:.3g} vs {target[j]:.3g})"))
    return sorted(kept), dropped, {names[j]: target[j] for j in keep}


def _f_score(col: np.ndarray, y: np.ndarray, task: str) -> float:
    """Regression: F of a one-feature linear fit, r^2/(1-r^2)*(n-2); classification: ANOVA F."""
    import numpy as np

    ok = np.isfinite(col) & np.isfinite(y)
    a, b = col[ok], y[ok]
    n = a.size
    if task == "regression":
        if n < 3:
            return 0.0
        r = _pearson(a, b)
        return float("inf") if r >= 1.0 else r * r / (1.0 - r * r) * (n - 2)
    classes = np.unique(b)
    if classes.size < 2 or n <= classes.size:
        return 0.0
    grand = a.mean()
    between = sum(a[b == c].size * (a[b == c].mean() - grand) ** 2 for c in classes)
    within = sum(((a[b == c] - a[b == c].mean()) ** 2).sum() for c in classes)
    dfb, dfw = classes.size - 1, n - classes.size
    if within == 0.0:
        return float("inf") if between > 0.0 else 0.0
    return float((between / dfb) / (within / dfw))


def _quantile_codes(values: np.ndarray, bins: int) -> np.ndarray:
    import numpy as np

    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def _mutual_info(col: np.ndarray, y: np.ndarray, task: str, bins: int) -> float:
    """Mutual information (nats) of quantile-binned feature and target (classes as they are)."""
    import numpy as np

    ok = np.isfinite(col) & np.isfinite(y)
    if ok.sum() < 3:
        return 0.0
    xc = _quantile_codes(col[ok], bins)
    if task == "classification":
        yc = np.unique(y[ok], return_inverse=True)[1]
    else:
        yc = _quantile_codes(y[ok], bins)
    joint = np.zeros((int(xc.max()) + 1, int(yc.max()) + 1))
    np.add.at(joint, (xc, yc), 1.0)
    joint /= joint.sum()
    px = joint.sum(axis=1, keepdims=True)
    py = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (px @ py)[nz])).sum())


def _top_k(
    keep: list[int], values: dict[int, float], k: int, names: list[str], stage: Stage, what: str
) -> tuple[list[int], list[Dropped]]:
    ranked = sorted(keep, key=lambda j: (-values[j], j))
    kept = sorted(ranked[:k])
    cutoff = values[ranked[min(k, len(ranked)) - 1]]
    dropped = [Dropped(column=names[j], stage=stage,
                       reason=f"{what} {values[j]:.4g} ranks {ranked.index(j) + 1} of "
                              f"{len(ranked)}, below the top {k} (cut-off {cutoff:.4g})")
               for j in ranked[k:]]
    return kept, dropped


def _lightgbm_gain(x: np.ndarray, y: np.ndarray, task: str, seed: int) -> list[float]:
    """Total split gain per column of a small deterministic LightGBM fit (one thread).

    The fit goes through the LightGBM adapter (the only place the library is imported). The
    adapters learn binary and regression objectives; with more than two classes the gain is
    the sum over one-vs-rest binary fits, as LightGBM's multiclass objective sums its
    per-class trees' gains.
    """
    import numpy as np

    from ..specs.learners import LightGBMParams, ModelType
    from ..training.adapters import Objective, get_adapter
    from ..training.adapters.base import fit

    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    params = LightGBMParams(learning_rate=0.1, num_leaves=15, min_data_in_leaf=max(5, y.size // 100))
    names = [f"x{j}" for j in range(x.shape[1])]
    if task == "classification":
        classes, codes = np.unique(y, return_inverse=True)
        targets = ([codes.astype(np.float64)] if classes.size <= 2
                   else [(codes == c).astype(np.float64) for c in range(classes.size)])
        objective = Objective.BINARY
    else:
        targets, objective = [y], Objective.REGRESSION
    adapter = get_adapter(ModelType.LIGHTGBM, params, objective=objective, num_threads=1, seed=seed)
    total = np.zeros(x.shape[1])
    for target in targets:
        total += adapter.gain_importance(fit(adapter, x, target, names, 100))
    return [float(g) for g in total]
