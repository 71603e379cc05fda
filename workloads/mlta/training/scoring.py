"""Scoring predictions on a set of rows: the target's metrics plus the cost-aware backtest.

The same function scores a walk-forward fold, the lockbox, an ensemble and a baseline, so
every number in a report is computed one way. Statistical metrics use the labelled rows only;
the backtest (:mod:`.backtest`) trades every row: a bar without a label still has a next-bar
return. A volatility target has no trading signal and so no backtest.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..specs.trainingjob import CLASSIFICATION_TARGETS, TRADABLE_TARGETS, BacktestSpec, TargetKind
from . import metrics as m
from .backtest import backtest, signal_positions
from .baselines import Evaluation

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from .dataset import Prepared

#: Backtest figures copied into a fold's or the lockbox's metrics.
TRADING_METRICS = ("sharpe", "sortino", "totalReturn", "annualReturn", "maxDrawdown", "hitRate",
                   "turnover", "exposure", "trades")


def trade_frame(data: Prepared, rows: np.ndarray) -> pd.DataFrame:
    """symbol, close_time (UTC), close and next_return of ``rows``: what a backtest reads."""
    import pandas as pd

    return pd.DataFrame({
        "symbol": data.symbols[rows],
        "close_time": pd.to_datetime(data.times[rows]).tz_localize("UTC"),
        "close": data.close[rows],
        "next_return": data.next_return[rows],
    })


def prediction_scores(data: Prepared, rows: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """The target's statistical metrics on the labelled rows among ``rows``."""
    import numpy as np

    y = data.y[rows]
    labelled = ~np.isnan(y)
    if not labelled.any():
        return {}
    if TargetKind(data.kind) in CLASSIFICATION_TARGETS:
        return m.classification_metrics(y[labelled], pred[labelled])
    return m.regression_metrics(y[labelled], pred[labelled])


def evaluate_rows(name: str, data: Prepared, rows: np.ndarray, pred: np.ndarray,
                  rule: BacktestSpec) -> Evaluation:
    """Scores and (for a tradable target) the net backtest of ``pred`` on ``rows``."""
    scores = prediction_scores(data, rows, pred)
    kind = TargetKind(data.kind)
    if kind not in TRADABLE_TARGETS:
        return Evaluation(name=name, backtest=None, scores=scores)
    position = signal_positions(pred, kind.value, band=rule.band, long_only=rule.long_only)
    frame = trade_frame(data, rows).assign(position=position)
    result = backtest(frame, fee_bps=rule.fee_bps, slippage_bps=rule.slippage_bps)
    return Evaluation(name=name, backtest=result, scores=scores)


def flat_metrics(evaluation: Evaluation) -> dict[str, float]:
    """One evaluation as the flat metric names reports use (scores + trading figures)."""
    out = dict(evaluation.scores)
    if evaluation.backtest is not None:
        figures = evaluation.backtest.metrics()
        out.update({k: figures[k] for k in TRADING_METRICS})
    return out


def score_rows(data: Prepared, rows: np.ndarray, pred: np.ndarray, rule: BacktestSpec
               ) -> dict[str, float]:
    """Flat metrics of ``pred`` on ``rows`` (what a search trial reports per fold)."""
    return flat_metrics(evaluate_rows("model", data, rows, pred, rule))


def mean_scores(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over the folds where it is defined."""
    keys = sorted({key for fold in per_fold for key in fold})
    out: dict[str, float] = {}
    for key in keys:
        values = [f[key] for f in per_fold if key in f and math.isfinite(f[key])]
        if values:
            out[key] = sum(values) / len(values)
    return out
