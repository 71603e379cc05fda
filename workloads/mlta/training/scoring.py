"""Scoring predictions on a set of rows: the target's metrics plus the cost-aware backtest.

The same function scores a walk-forward fold, the lockbox, an ensemble and a baseline, so
every number in a report is computed one way. Statistical metrics use the labelled rows only;
the backtest trades every row (a bar without a label still has a next-bar return).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..specs.trainingjob import CLASSIFICATION_TARGETS, TRADABLE_TARGETS, BacktestSpec, TargetKind
from . import metrics as m

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .dataset import Prepared


def positions(kind: TargetKind, pred: np.ndarray, rule: BacktestSpec) -> np.ndarray:
    """How predictions trade: long above the band, short below it (flat when long-only)."""
    import numpy as np

    centre = 0.5 if TargetKind(kind) in CLASSIFICATION_TARGETS else 0.0
    pos = np.where(pred > centre + rule.band, 1.0, np.where(pred < centre - rule.band, -1.0, 0.0))
    if rule.long_only:
        pos = np.maximum(pos, 0.0)
    pos[~np.isfinite(pred)] = 0.0
    return pos


def score_rows(data: Prepared, rows: np.ndarray, pred: np.ndarray, rule: BacktestSpec
               ) -> dict[str, float]:
    """Metrics of ``pred`` (one value per row of ``rows``) on those rows of ``data``."""
    import numpy as np

    kind = TargetKind(data.kind)
    y = data.y[rows]
    labelled = ~np.isnan(y)
    out: dict[str, float] = {}
    if labelled.any():
        if kind in CLASSIFICATION_TARGETS:
            out.update(m.classification_metrics(y[labelled], pred[labelled]))
        else:
            out.update(m.regression_metrics(y[labelled], pred[labelled]))
    if kind in TRADABLE_TARGETS:
        out.update(trade_rows(data, rows, positions(kind, pred, rule), rule))
    return out


def trade_rows(data: Prepared, rows: np.ndarray, position: np.ndarray, rule: BacktestSpec
               ) -> dict[str, float]:
    """The backtest metrics of holding ``position`` on ``rows`` (net of the rule's costs)."""
    import pandas as pd

    frame = pd.DataFrame({"symbol": data.symbols[rows], "close_time": data.times[rows],
                          "signal": position, "next_return": data.next_return[rows]})
    fee = (rule.fee_bps + rule.slippage_bps) / 1e4
    result = m.backtest(frame, fee=fee)
    return {"sharpe": result["sharpe"], "totalReturn": result["strategyReturn"],
            "trades": result["trades"]}


def mean_scores(per_fold: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric over the folds where it is defined."""
    keys = sorted({key for fold in per_fold for key in fold})
    out: dict[str, float] = {}
    for key in keys:
        values = [f[key] for f in per_fold if key in f and math.isfinite(f[key])]
        if values:
            out[key] = sum(values) / len(values)
    return out
