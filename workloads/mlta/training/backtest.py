"""The cost-aware backtest every model and every baseline is judged by.

One rule, stated once, so the search, the gate, the baselines and serving agree on what a
prediction earns:

- A row is one bar of one symbol: ``position`` in [-1, 1] (long, short, flat or a fraction)
  is held from this bar's close to the next bar's close and earns ``position * next_return``
  (``next_return`` is the symbol's simple return to the next close; NaN counts as 0, e.g. the
  last bar of a range).
- Trading costs ``(fee_bps + slippage_bps) / 1e4`` per unit of position traded per side, paid
  in the bar where the position changes: opening at the first bar of a symbol is a trade from
  flat, and the position still held after the symbol's last bar is closed (and paid) there.
  A flip from long to short trades two units.
- The portfolio holds the symbols present at a time in equal weight, so its per-period
  return is the mean over those symbols of their net row returns. The rebalancing that a
  changing number of symbols would imply is not charged (costs are on each symbol's units).
- Annualisation uses the median spacing of the bar times on 365-day years: crypto trades
  every day, so neither 252 trading days nor 365.25 applies.

Undefined figures (a Sharpe without variance, a hit rate without a position) are NaN, never
an exception: a strategy that never trades is a legitimate result. Input that cannot be a
backtest (missing columns, NaN positions, naive timestamps) raises :class:`DataError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import DataError, SpecError
from ..specs.trainingjob import CLASSIFICATION_TARGETS, TRADABLE_TARGETS

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

#: 365-day years: crypto markets never close.
SECONDS_PER_YEAR = 365 * 24 * 3600
REQUIRED_COLUMNS = ("symbol", "close_time", "position", "next_return")
#: Model outputs read as the probability of an up move (direction, tripleBarrier).
PROBABILITY_KINDS = frozenset(k.value for k in CLASSIFICATION_TARGETS)
#: Model outputs read as a forecast of the return itself.
FORECAST_KINDS = frozenset(k.value for k in TRADABLE_TARGETS - CLASSIFICATION_TARGETS)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """What a backtest measured, net of costs unless the name says gross.

    Row-level figures (``hit_rate``, ``exposure``, ``mean_abs_position``, ``trades``) count
    symbol-bars; portfolio figures (returns, Sharpe, Sortino, drawdown, turnover) use the
    equal-weight per-period series. The series are indexed by the bar's close time (UTC),
    so a plot, the DSR and the PBO can align strategies on time.
    """

    total_return: float
    annual_return: float
    sharpe: float
    sortino: float
    max_drawdown: float
    hit_rate: float
    turnover: float
    turnover_annual: float
    exposure: float
    mean_abs_position: float
    trades: int
    periods: int
    periods_per_year: float
    cost_per_unit: float
    gross_returns: pd.Series
    net_returns: pd.Series
    equity: pd.Series

    def metrics(self) -> dict[str, float]:
        """The scalar figures under the camelCase names the registry and status use."""
        return {
            "totalReturn": self.total_return,
            "annualReturn": self.annual_return,
            "sharpe": self.sharpe,
            "sortino": self.sortino,
            "maxDrawdown": self.max_drawdown,
            "hitRate": self.hit_rate,
            "turnover": self.turnover,
            "turnoverAnnual": self.turnover_annual,
            "exposure": self.exposure,
            "meanAbsPosition": self.mean_abs_position,
            "trades": float(self.trades),
            "periods": float(self.periods),
            "periodsPerYear": self.periods_per_year,
            "grossTotalReturn": float(
                (1.0 + self.gross_returns.to_numpy()).prod() - 1.0
            ),
        }


def cost_per_unit(fee_bps: float, slippage_bps: float) -> float:
    """The fraction of capital one unit of position traded costs per side."""
    for name, value in (("fee_bps", fee_bps), ("slippage_bps", slippage_bps)):
        if not math.isfinite(value) or value < 0:
            raise SpecError(f"{name} must be a finite number of basis points >= 0, got {value}",
                            hint="give costs per side in bps, e.g. fee_bps=10 for 0.1 %")
    return (fee_bps + slippage_bps) / 1e4


def bars_per_year(times_ns: np.ndarray) -> float:
    """Bars per 365-day year from the median spacing of sorted unique times (ns); NaN if unknown."""
    import numpy as np

    if times_ns.size < 2:
        return math.nan
    step = float(np.median(np.diff(times_ns))) / 1e9
    return SECONDS_PER_YEAR / step if step > 0 else math.nan


def signal_positions(
    pred: Any, kind: Any, *, band: float = 0.0, long_only: bool = False
) -> np.ndarray:
    """How a model's output becomes a position: the one rule training and serving share.

    ``kind`` is the target kind (a string or the spec's enum). Probabilities of an up move
    (``direction``, ``tripleBarrier``) go long above ``0.5 + band``, short below
    ``0.5 - band`` and stay flat inside; a return forecast (``return``) goes long above
    ``band``, short below ``-band``. ``long_only`` turns shorts into flat (spot accounts).
    A NaN prediction (no model output for the row) is flat: no signal, no position.
    """
    import numpy as np

    name = str(getattr(kind, "value", kind))
    if not math.isfinite(band) or band < 0:
        raise SpecError(f"signal band must be a finite number >= 0, got {band}")
    values = np.asarray(pred, dtype="float64")
    if name in PROBABILITY_KINDS:
        if band >= 0.5:
            raise SpecError(f"signal band {band} leaves no probability outside 0.5 ± band",
                            hint="use a band below 0.5 for probability outputs")
        up, down = values > 0.5 + band, values < 0.5 - band
    elif name in FORECAST_KINDS:
        up, down = values > band, values < -band
    else:
        known = sorted(PROBABILITY_KINDS | FORECAST_KINDS)
        raise SpecError(f"target kind {name!r} has no trading direction",
                        hint=f"backtest a model whose target is one of {known}")
    out = np.where(up, 1.0, np.where(down, -1.0, 0.0))
    return np.maximum(out, 0.0) if long_only else out


def _utc_nanoseconds(close_time: pd.Series) -> np.ndarray:
    import pandas as pd

    if not isinstance(close_time.dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"close_time must hold timezone-aware timestamps, got dtype {close_time.dtype}",
            hint="localise the times to UTC, e.g. pd.to_datetime(column, utc=True)",
        )
    if close_time.isna().any():
        raise DataError("close_time has missing values", hint="drop rows without a bar time")
    return pd.DatetimeIndex(close_time).tz_convert("UTC").as_unit("ns").asi8


def _columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Symbol codes, UTC times (ns), positions and returns, checked, in the frame's order."""
    import numpy as np
    import pandas as pd

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"backtest frame lacks column(s) {missing}",
                        hint=f"pass a frame with columns {list(REQUIRED_COLUMNS)}")
    if frame.empty:
        raise DataError("backtest frame has no rows", hint="backtest a non-empty period")
    times = _utc_nanoseconds(frame["close_time"])
    codes = pd.factorize(frame["symbol"], use_na_sentinel=False)[0]
    try:
        position = frame["position"].to_numpy(dtype="float64", na_value=np.nan)
        returns = frame["next_return"].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"position and next_return must be numeric: {exc}") from exc
    if np.isnan(position).any():
        raise DataError(f"{int(np.isnan(position).sum())} position(s) are NaN",
                        hint="use 0 for flat; signal_positions maps a NaN prediction to 0")
    if (np.abs(position) > 1.0).any():
        worst = float(position[np.argmax(np.abs(position))])
        raise DataError(f"positions must lie in [-1, 1], found {worst}",
                        hint="scale the positions to at most one unit of capital per symbol")
    if np.isinf(returns).any():
        raise DataError("next_return holds infinite values",
                        hint="check the close prices for zeros")
    return codes, times, position, np.nan_to_num(returns, nan=0.0)


def backtest(
    frame: pd.DataFrame,
    *,
    fee_bps: float,
    slippage_bps: float,
    periods_per_year: float | None = None,
) -> BacktestResult:
    """Backtest positions net of costs; the rules are in the module docstring.

    ``periods_per_year`` overrides the figure derived from the median bar spacing (needed
    when the frame holds a single bar time and annualised figures are still wanted).
    """
    import numpy as np
    import pandas as pd

    unit_cost = cost_per_unit(fee_bps, slippage_bps)
    if periods_per_year is not None and not (math.isfinite(periods_per_year)
                                             and periods_per_year > 0):
        raise SpecError(f"periods_per_year must be a positive number, got {periods_per_year}")
    codes, times, position, returns = _columns(frame)
    order = np.lexsort((times, codes))
    codes, times, position, returns = codes[order], times[order], position[order], returns[order]
    new_symbol = codes[1:] != codes[:-1]
    if (~new_symbol & (times[1:] == times[:-1])).any():
        raise DataError("the frame holds the same (symbol, close_time) twice",
                        hint="pass one row per symbol and bar")
    first = np.r_[True, new_symbol]
    last = np.r_[new_symbol, True]
    previous = np.where(first, 0.0, np.r_[0.0, position[:-1]])
    traded = np.abs(position - previous) + np.where(last, np.abs(position), 0.0)
    gross_row = position * returns
    net_row = gross_row - unit_cost * traded

    bar_times, slot = np.unique(times, return_inverse=True)
    count = np.bincount(slot).astype("float64")
    gross = np.bincount(slot, weights=gross_row) / count
    net = np.bincount(slot, weights=net_row) / count
    traded_per_bar = np.bincount(slot, weights=traded) / count
    ppy = float(periods_per_year) if periods_per_year is not None else bars_per_year(bar_times)

    index = pd.DatetimeIndex(pd.to_datetime(bar_times, unit="ns", utc=True), name="close_time")
    equity = np.cumprod(1.0 + net)
    held = position != 0.0
    total = float(equity[-1] - 1.0)
    return BacktestResult(
        total_return=total,
        annual_return=_annualised_return(total, net.size, ppy),
        sharpe=_sharpe(net, ppy),
        sortino=_sortino(net, ppy),
        max_drawdown=max_drawdown(equity),
        hit_rate=float(np.mean(net_row[held] > 0.0)) if held.any() else math.nan,
        turnover=float(traded_per_bar.mean()),
        turnover_annual=float(traded_per_bar.mean() * ppy),
        exposure=float(held.mean()),
        mean_abs_position=float(np.abs(position).mean()),
        trades=int(np.count_nonzero(traded)),
        periods=int(net.size),
        periods_per_year=ppy,
        cost_per_unit=unit_cost,
        gross_returns=pd.Series(gross, index=index, name="gross_return"),
        net_returns=pd.Series(net, index=index, name="net_return"),
        equity=pd.Series(equity, index=index, name="equity"),
    )


def _annualised_return(total: float, periods: int, ppy: float) -> float:
    """Compound growth per 365-day year; -1 once the capital is gone."""
    if not math.isfinite(ppy) or periods == 0:
        return math.nan
    growth = 1.0 + total
    if growth <= 0.0:
        return -1.0
    return float(growth ** (ppy / periods) - 1.0)


def _sharpe(net: np.ndarray, ppy: float) -> float:
    """Mean over sample standard deviation, annualised; NaN without variance."""
    import numpy as np

    if net.size < 2 or np.ptp(net) == 0.0:
        return math.nan
    return float(net.mean() / net.std(ddof=1) * math.sqrt(ppy))


def _sortino(net: np.ndarray, ppy: float) -> float:
    """Mean over the downside deviation (target 0, over all periods), annualised.

    NaN without a losing period: the ratio is unbounded there, not a number to rank by.
    """
    import numpy as np

    downside = math.sqrt(float(np.mean(np.minimum(net, 0.0) ** 2)))
    if net.size < 2 or downside == 0.0:
        return math.nan
    return float(net.mean() / downside * math.sqrt(ppy))


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak as a positive fraction (the start, 1.0, is a peak)."""
    import numpy as np

    values = np.asarray(equity, dtype="float64")
    peak = np.maximum.accumulate(np.r_[1.0, values])[1:]
    return float(max(0.0, np.max(1.0 - values / peak)))


def drawdown_series(equity: pd.Series) -> pd.Series:
    """The drawdown at each time as a positive fraction of the running peak (start = 1.0)."""
    import numpy as np
    import pandas as pd

    values = equity.to_numpy(dtype="float64")
    peak = np.maximum.accumulate(np.r_[1.0, values])[1:]
    return pd.Series(1.0 - values / peak, index=equity.index, name="drawdown")


def aligned_returns(trials: Mapping[str, BacktestResult | pd.Series], *,
                    gross: bool = False) -> pd.DataFrame:
    """The trials' per-bar net (or gross) returns as one T x N frame on the union of times.

    This is the ``performance`` matrix :func:`~mlta.training.stats.pbo_cscv` takes and the
    source of the trial Sharpe ratios for the DSR. A trial without a return at some time
    (it was stopped early, or covers other folds) is NaN there, not 0: the statistics leave
    those cells out instead of counting them as flat bars. Series of walk-forward folds are
    concatenated by the caller (folds do not overlap in time).
    """
    import pandas as pd

    if not trials:
        raise DataError("no trials to align", hint="pass at least one trial's backtest")
    columns = {}
    for name, trial in trials.items():
        series = trial if isinstance(trial, pd.Series) else (
            trial.gross_returns if gross else trial.net_returns)
        if not series.index.is_unique:
            raise DataError(f"trial {name!r} has more than one return at some time",
                            hint="concatenate folds that do not overlap in time")
        columns[name] = series
    return pd.concat(columns, axis=1, sort=True)
