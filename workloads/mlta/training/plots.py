"""Charts stored with a model version, rendered to PNG bytes without a display.

matplotlib is imported inside the functions and drawn on a bare ``Figure`` with the Agg
canvas, never through pyplot: no global figure state, no GUI backend, safe in a Ray worker
thread. Times are drawn in UTC, the time the bars are stamped in.
"""

from __future__ import annotations

import io
from datetime import UTC
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .backtest import BacktestResult

_STRATEGY_COLOUR = "#1f77b4"
_BENCHMARK_COLOUR = "#7f7f7f"


def equity_curve_png(
    strategy: BacktestResult | pd.Series,
    buy_and_hold: BacktestResult | pd.Series | None,
    title: str,
    *,
    width: float = 10.0,
    height: float = 6.0,
    dpi: int = 100,
) -> bytes:
    """Net equity of the strategy against buy and hold, with a drawdown panel beneath.

    Each curve is a :class:`BacktestResult` (its net equity is drawn) or an equity series
    indexed by UTC times; both start from 1.0. Raises :class:`DataError` for an empty or
    non-finite curve or an index that is not timezone-aware times.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    from .backtest import drawdown_series

    model = _equity(strategy, "strategy")
    benchmark = _equity(buy_and_hold, "buy_and_hold") if buy_and_hold is not None else None
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(_naive_utc(model.index), model.to_numpy(), color=_STRATEGY_COLOUR,
             label=_label("model", strategy), linewidth=1.4)
    if benchmark is not None:
        top.plot(_naive_utc(benchmark.index), benchmark.to_numpy(), color=_BENCHMARK_COLOUR,
                 label=_label("buy and hold", buy_and_hold), linewidth=1.1)
    top.axhline(1.0, color="black", linewidth=0.6, alpha=0.5)
    top.set_ylabel("equity (start = 1)")
    top.set_title(title)
    top.legend(loc="best")
    top.grid(alpha=0.3)

    drawdown = -drawdown_series(model)
    bottom.fill_between(_naive_utc(model.index), drawdown.to_numpy(), 0.0,
                        color=_STRATEGY_COLOUR, alpha=0.35, label="model")
    if benchmark is not None:
        bottom.plot(_naive_utc(benchmark.index), -drawdown_series(benchmark).to_numpy(),
                    color=_BENCHMARK_COLOUR, linewidth=0.9, label="buy and hold")
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylabel("drawdown")
    bottom.set_xlabel("time (UTC)")
    bottom.grid(alpha=0.3)
    locator = AutoDateLocator(tz=UTC)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(name: str, curve: Any) -> str:
    """Legend text; a backtest result adds its net Sharpe and total return."""
    sharpe = getattr(curve, "sharpe", None)
    total = getattr(curve, "total_return", None)
    if sharpe is None or total is None:
        return f"{name} (net of costs)"
    return f"{name} (net): Sharpe {sharpe:.2f}, total {total:+.1%}"


def _equity(curve: Any, name: str) -> pd.Series:
    """The equity series of a result or a series, checked for something drawable."""
    import numpy as np
    import pandas as pd

    series = getattr(curve, "equity", curve)
    if not isinstance(series, pd.Series):
        raise DataError(f"{name} must be a BacktestResult or an equity series, "
                        f"got {type(curve).__name__}")
    if series.empty:
        raise DataError(f"{name} equity curve is empty",
                        hint="backtest a period with at least one bar before plotting")
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise DataError(f"{name} equity curve must be indexed by timezone-aware times",
                        hint="use the equity series of a backtest (indexed by close_time, UTC)")
    if not np.isfinite(series.to_numpy(dtype="float64")).all():
        raise DataError(f"{name} equity curve holds non-finite values")
    return series.sort_index()


def _naive_utc(index: pd.DatetimeIndex) -> Any:
    """UTC wall times without a zone, which matplotlib reads as the UTC axis it is given."""
    return index.tz_convert("UTC").tz_localize(None).to_numpy()
