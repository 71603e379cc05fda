"""SHAP explanations of the chosen model on the lockbox.

The values come from each learner's own exact TreeSHAP through the predictor (``pred_contrib``
for LightGBM, ``pred_contribs`` for XGBoost, ``ShapValues`` for CatBoost; equal to the shap
package's TreeExplainer, tested), in the margin space. Global importance is the mean |SHAP|
per feature over the lockbox rows (a deterministic sample of at most ``max_rows``); the
summary plot is shap's familiar beeswarm of the same values, drawn off screen.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .predictor import Predictor

MAX_ROWS = 2000
MAX_DISPLAY = 20


@dataclass
class Explanation:
    importance: dict[str, float]  # feature -> mean |SHAP|, largest first
    expected_value: float         # mean bias (the model's average margin)
    rows: int
    png: bytes | None


def sample_rows(n: int, max_rows: int, seed: int = 0) -> np.ndarray:
    """Up to ``max_rows`` row positions of ``n``, sorted, the same on every run."""
    import numpy as np

    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def explain(predictor: Predictor, X: np.ndarray, *, max_rows: int = MAX_ROWS,
            plot: bool = True) -> Explanation:
    """Mean |SHAP| per feature and (optionally) the summary plot of ``predictor`` on ``X``."""
    import numpy as np

    if not predictor.explainable:
        raise TrainingError("this model has no additive explanation (rank-average ensemble)")
    if len(X) == 0:
        raise TrainingError("no rows to explain", hint="the lockbox is empty")
    rows = sample_rows(len(X), max_rows)
    sample = np.ascontiguousarray(X[rows])
    values = predictor.contributions(sample)
    shap_values = values[:, :-1]
    mean_abs = np.abs(shap_values).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    names = predictor.feature_columns
    importance = {names[i]: float(mean_abs[i]) for i in order}
    png = summary_png(shap_values, sample, names) if plot else None
    return Explanation(importance=importance, expected_value=float(values[:, -1].mean()),
                       rows=len(rows), png=png)


def summary_png(shap_values: np.ndarray, X: np.ndarray, names: list[str]) -> bytes:
    """shap's beeswarm summary plot as PNG bytes (Agg backend, figure closed afterwards)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    shap.summary_plot(shap_values, X, feature_names=names, show=False, max_display=MAX_DISPLAY,
                      plot_size=(9, 7))
    figure = plt.gcf()
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()
