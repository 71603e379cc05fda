"""Naive baselines a model must beat, on the same rows and after the same costs.

A model that cannot beat holding the market, doing nothing, or a one-line momentum rule has
learned nothing worth its risk, however good its AUC looks. Every baseline here is scored by
the same :func:`~mlta.training.backtest.backtest` with the same fees and slippage as the
model, and returns the same :class:`Evaluation` as the model's own evaluation, so a report
can put them side by side and :func:`beats_baselines` can compare them.

- **buy and hold**: always long every symbol (one entry, one exit).
- **flat**: never trade; for a classifier it is also the majority class of the training rows
  as a constant prediction (AUC 0.5, accuracy = the majority's share), for a return
  forecast the zero-return forecast, each scored with the model's own metrics.
- **momentum**: long if the symbol's trailing ``lookback``-bar return is positive, short if
  negative, computed from ``close`` up to the bar (causal, per symbol).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any

from ..errors import DataError, SpecError
from .backtest import PROBABILITY_KINDS, BacktestResult, backtest
from .metrics import classification_metrics, regression_metrics

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: Trailing bars of the momentum rule when the caller does not choose.
DEFAULT_MOMENTUM_LOOKBACK = 24
#: Scores where a smaller value is the better model.
LOWER_IS_BETTER = frozenset({"logLoss", "rmse", "mae"})
#: AUC of a model that knows nothing; a classifier must beat it.
CHANCE_AUC = 0.5


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One strategy on one period: its backtest and its prediction scores (may be empty).

    ``backtest`` is None for a target without a trading signal (volatility).
    """

    name: str
    backtest: BacktestResult | None
    scores: Mapping[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Backtest figures and scores in one flat mapping (for tables and the registry)."""
        figures = self.backtest.metrics() if self.backtest is not None else {}
        return {**figures, **self.scores}


@dataclass(frozen=True)
class BaselineVerdict:
    """Whether a model beat its baselines, and every comparison it lost, in words."""

    passed: bool
    reasons: tuple[str, ...]


def evaluate_positions(
    name: str,
    frame: pd.DataFrame,
    positions: Any,
    *,
    fee_bps: float,
    slippage_bps: float,
    periods_per_year: float | None = None,
    scores: Mapping[str, float] | None = None,
) -> Evaluation:
    """Backtest ``positions`` (aligned with ``frame``'s rows) on ``frame``'s returns."""
    import numpy as np

    values = np.asarray(positions, dtype="float64")
    if values.shape != (len(frame),):
        raise DataError(f"{name}: {values.shape} positions for {len(frame)} rows",
                        hint="give one position per row of the frame")
    rows = frame[["symbol", "close_time", "next_return"]].assign(position=values)
    result = backtest(rows, fee_bps=fee_bps, slippage_bps=slippage_bps,
                      periods_per_year=periods_per_year)
    return Evaluation(name=name, backtest=result, scores=dict(scores or {}))


def buy_and_hold(
    frame: pd.DataFrame, *, fee_bps: float, slippage_bps: float,
    periods_per_year: float | None = None,
) -> Evaluation:
    """Always long: the market's own return, paying one entry and one exit per symbol."""
    import numpy as np

    return evaluate_positions("buy_and_hold", frame, np.ones(len(frame)), fee_bps=fee_bps,
                              slippage_bps=slippage_bps, periods_per_year=periods_per_year)


def majority_class_scores(train_labels: Any, test_labels: Any) -> dict[str, float]:
    """Classification scores of predicting the training rows' class balance for every row.

    The constant probability is the training share of class 1, so accuracy is the test share
    of the training majority (a tie counts as class 0), AUC is 0.5 and the log loss is what
    knowing only the base rate buys. Unlabelled (NaN) rows are left out.
    """
    import numpy as np

    train = _labelled(train_labels, "train_labels")
    test = _labelled(test_labels, "test_labels")
    prior = float(np.mean(train > 0.5))
    return classification_metrics(test, np.full(test.size, prior))


def zero_return_scores(test_labels: Any) -> dict[str, float]:
    """Regression scores of forecasting a zero return for every (labelled) row."""
    import numpy as np

    test = _labelled(test_labels, "test_labels")
    return regression_metrics(test, np.zeros(test.size))


def flat(
    frame: pd.DataFrame, *, fee_bps: float, slippage_bps: float,
    periods_per_year: float | None = None, kind: Any = None,
    train_labels: Any = None, test_labels: Any = None,
) -> Evaluation:
    """Never trade; with labels, also the constant-prediction scores for ``kind``.

    Classification kinds (direction, triple barrier) get :func:`majority_class_scores`
    (they need ``train_labels`` and ``test_labels``), a return target gets
    :func:`zero_return_scores` (``test_labels``). Without labels the scores are empty.
    """
    import numpy as np

    scores: dict[str, float] = {}
    name = str(getattr(kind, "value", kind)) if kind is not None else None
    if name is not None and test_labels is not None:
        if name in PROBABILITY_KINDS:
            if train_labels is None:
                raise DataError("the majority-class baseline needs the training labels",
                                hint="pass train_labels= (the fold's training targets)")
            scores = majority_class_scores(train_labels, test_labels)
        else:
            scores = zero_return_scores(test_labels)
    return evaluate_positions("flat", frame, np.zeros(len(frame)), fee_bps=fee_bps,
                              slippage_bps=slippage_bps, periods_per_year=periods_per_year,
                              scores=scores)


def momentum_positions(
    frame: pd.DataFrame, lookback: int = DEFAULT_MOMENTUM_LOOKBACK, *,
    warmup: pd.DataFrame | None = None,
) -> np.ndarray:
    """Sign of each symbol's trailing ``lookback``-bar return from ``close``, per row.

    Causal: the position at a bar reads closes up to that bar only. ``warmup`` holds earlier
    rows (symbol, close_time, close) that seed the lookback without being evaluated, so the
    first bars of a test fold are not flat for want of history; bars still lacking
    ``lookback`` earlier closes (or with a zero trailing return) are flat. The result is
    aligned with ``frame``'s rows in their given order.
    """
    import numpy as np
    import pandas as pd

    if isinstance(lookback, bool) or not isinstance(lookback, Integral) or lookback < 1:
        raise SpecError(f"momentum lookback must be a whole number of bars >= 1, got {lookback}")
    lookback = int(lookback)
    columns = ["symbol", "close_time", "close"]
    for part, label in ((frame, "frame"), (warmup, "warmup")):
        if part is not None and (missing := [c for c in columns if c not in part.columns]):
            raise DataError(f"momentum {label} lacks column(s) {missing}",
                            hint="pass Gold rows with symbol, close_time and close")
    evaluated = frame[columns].assign(_row=np.arange(len(frame)))
    if warmup is not None and len(warmup):
        first = evaluated.groupby("symbol", sort=False)["close_time"].min()
        warmup = warmup[warmup["symbol"].isin(first.index)]
        late = warmup["close_time"] >= warmup["symbol"].map(first)
        if late.any():
            raise DataError("momentum warmup rows overlap the evaluated rows",
                            hint="pass only bars before each symbol's first evaluated bar")
        evaluated = pd.concat([warmup[columns].assign(_row=-1), evaluated], ignore_index=True)
    ordered = evaluated.sort_values(["symbol", "close_time"], kind="stable")
    close = ordered["close"].astype("float64")
    trailing = close / close.groupby(ordered["symbol"], sort=False).shift(lookback) - 1.0
    signal = np.sign(trailing.to_numpy(dtype="float64", na_value=np.nan))
    out = np.zeros(len(frame))
    rows = ordered["_row"].to_numpy()
    keep = rows >= 0
    out[rows[keep]] = np.nan_to_num(signal[keep], nan=0.0)
    return out


def momentum(
    frame: pd.DataFrame, *, fee_bps: float, slippage_bps: float,
    lookback: int = DEFAULT_MOMENTUM_LOOKBACK, warmup: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
) -> Evaluation:
    """The one-feature momentum rule of :func:`momentum_positions`, backtested."""
    positions = momentum_positions(frame, lookback, warmup=warmup)
    return evaluate_positions(f"momentum_{lookback}", frame, positions, fee_bps=fee_bps,
                              slippage_bps=slippage_bps, periods_per_year=periods_per_year)


def naive_baselines(
    frame: pd.DataFrame, *, fee_bps: float, slippage_bps: float, kind: Any = None,
    train_labels: Any = None, test_labels: Any = None,
    lookback: int = DEFAULT_MOMENTUM_LOOKBACK, warmup: pd.DataFrame | None = None,
    periods_per_year: float | None = None,
) -> list[Evaluation]:
    """Buy and hold, flat (with its constant-prediction scores) and momentum, in that order."""
    costs: dict[str, Any] = {"fee_bps": fee_bps, "slippage_bps": slippage_bps,
                             "periods_per_year": periods_per_year}
    return [
        buy_and_hold(frame, **costs),
        flat(frame, kind=kind, train_labels=train_labels, test_labels=test_labels, **costs),
        momentum(frame, lookback=lookback, warmup=warmup, **costs),
    ]


def beats_baselines(
    model: Evaluation, baselines: Sequence[Evaluation], metric: str | None = None
) -> BaselineVerdict:
    """The gate's baseline rule; passes only when every comparison below holds.

    1. The model's net Sharpe and net total return are defined (finite).
    2. For every baseline, the model's net Sharpe is strictly above the baseline's and its
       net total return strictly above the baseline's. A baseline figure that is undefined
       (NaN: the flat baseline's Sharpe) is not compared; the flat baseline's total return
       of 0 is, so the model must at least make money after costs.
    3. With ``metric`` (a prediction score such as ``auc``): the model's score is defined
       and strictly better than every baseline's that has it (lower for logLoss, rmse and
       mae, higher otherwise); for ``auc`` it must also be above 0.5, chance.
    """
    reasons: list[str] = []
    mine = model.backtest
    if mine is None:  # no trading signal: the prediction score is the whole comparison
        if metric is not None:
            reasons.extend(_score_reasons(model, baselines, metric))
        return BaselineVerdict(passed=not reasons, reasons=tuple(reasons))
    for label, value in (("net Sharpe", mine.sharpe), ("net total return", mine.total_return)):
        if not math.isfinite(value):
            reasons.append(f"{model.name}: {label} is undefined")
    for base in baselines:
        theirs = base.backtest
        if theirs is None:
            continue
        for label, ours, other in (("net Sharpe", mine.sharpe, theirs.sharpe),
                                   ("net total return", mine.total_return, theirs.total_return)):
            if math.isfinite(ours) and math.isfinite(other) and not ours > other:
                reasons.append(f"{label} {ours:.4g} does not beat {base.name}'s {other:.4g}")
    if metric is not None:
        reasons.extend(_score_reasons(model, baselines, metric))
    return BaselineVerdict(passed=not reasons, reasons=tuple(reasons))


def _score_reasons(model: Evaluation, baselines: Sequence[Evaluation], metric: str) -> list[str]:
    ours = model.scores.get(metric, math.nan)
    if not math.isfinite(ours):
        return [f"{model.name}: {metric} is undefined"]
    lower = metric in LOWER_IS_BETTER
    rivals = [(b.name, b.scores[metric]) for b in baselines
              if math.isfinite(b.scores.get(metric, math.nan))]
    if metric == "auc":
        rivals.append(("chance", CHANCE_AUC))
    reasons = []
    for name, other in rivals:
        if not (ours < other if lower else ours > other):
            reasons.append(f"{metric} {ours:.4g} does not beat {name}'s {other:.4g}")
    return reasons


def _labelled(labels: Any, name: str) -> np.ndarray:
    import numpy as np

    values = np.asarray(labels, dtype="float64").ravel()
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise DataError(f"{name} holds no labelled rows",
                        hint="score baselines on rows that have a target")
    return values
