"""The chosen model's report: walk-forward and lockbox scores, baselines, DSR and PBO.

Everything here is measured after costs and on the same rows for the model and for the
baselines: each walk-forward fold's test rows, and the lockbox. The selection-bias figures
look at the whole search: the Deflated Sharpe Ratio of the chosen strategy's walk-forward
returns against every trial that ran, and the Probability of Backtest Overfitting by CSCV
over the finished trials' walk-forward returns (aligned on time: the folds' test periods
follow each other, so every trial's returns cover the same bars).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..specs.trainingjob import TRADABLE_TARGETS, BacktestSpec, TargetKind, TrainingJobSpec
from . import metrics as m
from .backtest import aligned_returns
from .baselines import Evaluation, naive_baselines
from .scoring import evaluate_rows, flat_metrics, mean_scores, trade_frame
from .stats import DeflatedSharpe, deflated_sharpe_ratio, pbo_cscv, trial_sharpes

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from .dataset import Prepared
    from .pbo import PBOResult

#: CSCV blocks when the walk-forward period is long enough (Bailey et al. use 16).
PBO_SPLITS = 16


@dataclass
class FoldsReport:
    """A model's walk-forward figures: per fold, their mean and the net returns over time."""

    per_fold: list[dict[str, float]]
    mean: dict[str, float]
    returns: pd.Series | None


@dataclass
class SelectionBias:
    dsr: DeflatedSharpe | None = None
    pbo: PBOResult | None = None
    trial_sharpes: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.dsr is not None:
            out["deflatedSharpe"] = self.dsr.to_dict()
        if self.pbo is not None:
            out["pbo"] = self.pbo.to_dict()
        return out


def folds_report(data: Prepared, predictions: list[np.ndarray], rule: BacktestSpec
                 ) -> FoldsReport:
    """Score each fold's test predictions (``predictions[i]`` for fold i)."""
    import pandas as pd

    evaluations = [evaluate_rows(f"fold {f.number}", data, f.test, pred, rule)
                   for f, pred in zip(data.layout.folds, predictions, strict=True)]
    per_fold = [flat_metrics(e) for e in evaluations]
    series = [e.backtest.net_returns for e in evaluations if e.backtest is not None]
    returns = pd.concat(series).sort_index() if series else None
    return FoldsReport(per_fold=per_fold, mean=mean_scores(per_fold), returns=returns)


def persistence_baselines(data: Prepared, train: np.ndarray, test: np.ndarray, horizon: int
                          ) -> list[Evaluation]:
    """Baselines of a volatility target: the trailing realized volatility (it persists) and
    the training mean, both scored like the model."""
    import numpy as np

    trailing = np.full(data.close.size, np.nan)
    for symbol in np.unique(data.symbols):
        rows = np.flatnonzero(data.symbols == symbol)
        logret = np.diff(np.log(data.close[rows]), prepend=np.nan)
        squared = np.nan_to_num(logret**2)
        window = np.convolve(squared, np.ones(horizon), mode="full")[: rows.size]
        window[:horizon] = np.nan
        trailing[rows] = np.sqrt(window)
    y = data.y[test]
    labelled = ~np.isnan(y)
    mean = float(np.nanmean(data.y[train]))
    persistence = trailing[test][labelled]
    usable = np.isfinite(persistence)
    return [
        Evaluation("persistence", None, m.regression_metrics(y[labelled][usable], persistence[usable])),
        Evaluation("training_mean", None, m.regression_metrics(y[labelled], np.full(labelled.sum(), mean))),
    ]


def baselines_on(data: Prepared, train: np.ndarray, test: np.ndarray, spec: TrainingJobSpec
                 ) -> list[Evaluation]:
    """The naive baselines on ``test`` (fitted, where they fit anything, on ``train``)."""
    kind = TargetKind(spec.target.kind)
    if kind not in TRADABLE_TARGETS:
        return persistence_baselines(data, train, test, spec.target.horizon)
    rule = spec.backtest
    return naive_baselines(
        trade_frame(data, test), fee_bps=rule.fee_bps, slippage_bps=rule.slippage_bps,
        kind=kind.value, train_labels=data.y[train], test_labels=data.y[test],
        lookback=spec.target.horizon, warmup=trade_frame(data, train))


def baselines_report(data: Prepared, spec: TrainingJobSpec) -> tuple[dict[str, dict[str, Any]],
                                                                    list[Evaluation]]:
    """Every baseline's walk-forward mean and lockbox figures, and the lockbox evaluations."""
    per_fold: dict[str, list[dict[str, float]]] = {}
    for fold in data.layout.folds:
        for evaluation in baselines_on(data, fold.train, fold.test, spec):
            per_fold.setdefault(evaluation.name, []).append(flat_metrics(evaluation))
    lock = data.layout.lockbox
    lockbox = baselines_on(data, lock.train, lock.test, spec)
    table = {e.name: {"cv": mean_scores(per_fold.get(e.name, [])), "lockbox": flat_metrics(e)}
             for e in lockbox}
    return table, lockbox


def selection_bias(trial_returns: dict[str, pd.Series], chosen: pd.Series | None,
                   n_trials: int) -> SelectionBias:
    """DSR of ``chosen`` against the trials, and PBO over the trials' returns."""
    if chosen is None or not trial_returns:
        return SelectionBias()
    performance = aligned_returns(trial_returns)
    sharpes = trial_sharpes(performance.to_numpy())
    dsr = deflated_sharpe_ratio(chosen.to_numpy(), sharpes, n_trials=max(n_trials, 1))
    rows = len(performance)
    splits = PBO_SPLITS if rows >= 10 * PBO_SPLITS else max(2, (rows // 10) // 2 * 2)
    pbo = pbo_cscv(performance.to_numpy(), n_splits=splits) if rows >= splits else None
    named = {name: float(s) for name, s in zip(performance.columns, sharpes, strict=True)}
    return SelectionBias(dsr=dsr, pbo=pbo, trial_sharpes=named)
