"""Out-of-sample prediction metrics (the backtest is :mod:`.backtest`).

Written with numpy only (no scikit-learn in the image): AUC by the rank-sum (Mann-Whitney)
form, log loss with clipped probabilities, Pearson correlation. A metric that is undefined
for a fold (one class only, constant predictions) is NaN and left out of the fold means.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve; NaN when ``y`` holds one class only."""
    import numpy as np
    import pandas as pd

    y = np.asarray(y, dtype=bool)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = pd.Series(np.asarray(score, dtype="float64")).rank(method="average").to_numpy()
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def log_loss(y: np.ndarray, proba: np.ndarray, eps: float = 1e-15) -> float:
    import numpy as np

    p = np.clip(np.asarray(proba, dtype="float64"), eps, 1 - eps)
    y = np.asarray(y, dtype="float64")
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant."""
    import numpy as np

    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


def classification_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    import numpy as np

    y = np.asarray(y, dtype="float64")
    proba = np.asarray(proba, dtype="float64")
    return {
        "auc": auc(y, proba),
        "accuracy": float(np.mean((proba > 0.5) == (y > 0.5))),
        "logLoss": log_loss(y, proba),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    import numpy as np

    err = np.asarray(pred, dtype="float64") - np.asarray(y, dtype="float64")
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "correlation": correlation(y, pred),
    }
