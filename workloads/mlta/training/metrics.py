"""Out-of-sample metrics for one walk-forward fold, and a long/short backtest with fees.

Written with numpy only (no scikit-learn in the image): AUC by the rank-sum (Mann-Whitney)
form, log loss with clipped probabilities, Pearson correlation. A metric that is undefined
for a fold (one class only, constant predictions) is NaN and left out of the fold means.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Fee per side of a trade: 0.1 %, a typical spot taker fee.
FEE_PER_SIDE = 0.001
_SECONDS_PER_YEAR = 365.25 * 24 * 3600


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


def backtest(
    test: pd.DataFrame, fee: float = FEE_PER_SIDE
) -> dict[str, float]:
    """Long/short each symbol on the sign of its signal, one bar at a time, equal weight.

    ``test`` has columns symbol, close_time, signal (+1 long / -1 short) and next_return
    (what a position taken at the bar earns by the next bar; NaN counts as 0). Each change
    of position pays ``fee`` per side (a flip is two sides); entering at the fold's first bar
    and closing after its last bar are paid too. Returns the compounded strategy return,
    the annualised Sharpe ratio of the equal-weight portfolio and the number of trades.
    """
    import numpy as np

    frame = test.sort_values(["symbol", "close_time"], kind="stable")
    pos = np.sign(frame["signal"].to_numpy(dtype="float64"))
    earned = frame["next_return"].to_numpy(dtype="float64", na_value=np.nan)
    earned = np.nan_to_num(earned, nan=0.0)
    symbol = frame["symbol"].to_numpy()
    first = np.r_[True, symbol[1:] != symbol[:-1]]
    last = np.r_[symbol[1:] != symbol[:-1], True]
    previous = np.where(first, 0.0, np.r_[0.0, pos[:-1]])
    sides = np.abs(pos - previous) + np.where(last, np.abs(pos), 0.0)
    bar = pos * earned - fee * sides
    per_time = (
        frame.assign(_bar=bar).groupby("close_time", sort=True)["_bar"].mean().to_numpy()
    )
    total = float(np.prod(1.0 + per_time) - 1.0)
    sharpe = math.nan
    std = float(np.std(per_time, ddof=1)) if len(per_time) > 1 else 0.0
    if std > 0:
        periods = _periods_per_year(frame["close_time"])
        sharpe = float(np.mean(per_time) / std * math.sqrt(periods))
    return {"strategyReturn": total, "sharpe": sharpe, "trades": float(sides.sum() / 2)}


def _periods_per_year(close_time: pd.Series) -> float:
    """Bars per year from the median bar spacing (1 when times are not timestamps)."""
    import pandas as pd

    step = pd.Series(close_time.unique()).sort_values().diff().median()
    if isinstance(step, pd.Timedelta) and step.total_seconds() > 0:
        return _SECONDS_PER_YEAR / step.total_seconds()
    return 1.0


def mean_metrics(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over the folds where it is defined (finite)."""
    keys = sorted({key for fold in per_fold for key in fold})
    out: dict[str, float] = {}
    for key in keys:
        values = [fold[key] for fold in per_fold if key in fold and math.isfinite(fold[key])]
        if values:
            out[key] = sum(values) / len(values)
    return out
