"""Training targets: forward returns, their direction and triple-barrier outcomes, the only
look-ahead columns.

Labels look ``horizon`` bars into the future by definition, so they are kept apart from
features by name: every label column starts with ``y_`` (:data:`LOOKAHEAD_PREFIX`; features
start with ``f_`` and never look ahead), and the training code must never use a ``y_`` column
as an input. :func:`is_lookahead` is the one test for "may read future rows"; the causality
tests exempt exactly those columns. The last ``horizon`` rows of each symbol have no label
(NaN) and must be dropped, not filled. Labels are computed per symbol so a label never reads
another symbol's prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlta.errors import DataError, SpecError

from . import LABEL_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

#: Columns starting with this may read rows after t (labels); every other column must not.
LOOKAHEAD_PREFIX = LABEL_PREFIX


def is_lookahead(column: str) -> bool:
    """True for label columns, the only ones allowed to depend on future rows."""
    return column.startswith(LOOKAHEAD_PREFIX)


def forward_returns(close: np.ndarray, horizon: int) -> np.ndarray:
    """close[t + horizon] / close[t] - 1; NaN for the last ``horizon`` rows."""
    import numpy as np

    _check_horizon(horizon)
    close = np.asarray(close, dtype=np.float64)
    out = np.full(close.size, np.nan)
    if close.size > horizon:
        out[:-horizon] = close[horizon:] / close[:-horizon] - 1.0
    return out


def direction(returns: np.ndarray, dead_band: float = 0.0) -> np.ndarray:
    """1.0 above +dead_band, -1.0 below -dead_band, 0.0 inside it; NaN stays NaN."""
    import numpy as np

    if not dead_band >= 0.0:
        raise SpecError(
            f"dead_band must be >= 0, got {dead_band}", hint="set target.deadBand to 0 or more"
        )
    returns = np.asarray(returns, dtype=np.float64)
    out = np.where(returns > dead_band, 1.0, np.where(returns < -dead_band, -1.0, 0.0))
    out[np.isnan(returns)] = np.nan
    return out


def realized_volatility(close: np.ndarray, horizon: int) -> np.ndarray:
    """Realized volatility over the next ``horizon`` bars: the square root of the sum of the
    squared one-bar log returns from close[t] to close[t + horizon]; NaN for the last
    ``horizon`` rows and wherever that path holds a non-positive or missing close.

    It is a volatility target, not a feature: volatility clusters, so it is forecastable from
    the causal volatility features (the sample generator's regimes make it so).
    """
    import numpy as np

    _check_horizon(horizon)
    close = np.asarray(close, dtype=np.float64)
    out = np.full(close.size, np.nan)
    if close.size <= horizon:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        logret = np.diff(np.log(np.where(close > 0, close, np.nan)))
    bad = np.concatenate(([0], np.cumsum(~np.isfinite(logret))))
    squared = np.concatenate(([0.0], np.cumsum(np.nan_to_num(logret, nan=0.0) ** 2)))
    t = np.arange(close.size - horizon)
    total = squared[t + horizon] - squared[t]
    clean = bad[t + horizon] - bad[t] == 0
    out[t] = np.where(clean, np.sqrt(np.maximum(total, 0.0)), np.nan)
    return out


def volatility_column(horizon: int) -> str:
    """Name of the realized-volatility label column."""
    return f"{LABEL_PREFIX}rvol_{horizon}"


def label_columns(horizon: int, dead_band: float = 0.0) -> tuple[str, str]:
    """Names of the (forward return, direction) columns for these settings."""
    from .registry import format_param

    return (
        f"{LABEL_PREFIX}return_{horizon}",
        f"{LABEL_PREFIX}direction_{horizon}_{format_param(dead_band)}",
    )


def add_labels(
    frame: pd.DataFrame,
    horizon: int,
    dead_band: float = 0.0,
    *,
    close: str = "close",
    symbol: str = "symbol",
) -> tuple[pd.DataFrame, list[str]]:
    """Add ``y_return_<h>`` and ``y_direction_<h>_<band>`` to a copy of ``frame``.

    If ``frame`` has a ``symbol`` column, each symbol is labelled on its own rows (in their
    order in the frame, which must be time order); otherwise the frame is one symbol.
    """
    import numpy as np

    _check_horizon(horizon)
    if close not in frame.columns:
        raise DataError(f"cannot label: column {close!r} is missing",
                        hint="label candles that have a close price")
    prices = frame[close].to_numpy(dtype=np.float64, na_value=np.nan)
    fwd = np.full(prices.size, np.nan)
    if symbol in frame.columns:
        codes = frame[symbol].factorize()[0]
        for code in np.unique(codes):
            rows = np.flatnonzero(codes == code)
            fwd[rows] = forward_returns(prices[rows], horizon)
    else:
        fwd = forward_returns(prices, horizon)
    ret_col, dir_col = label_columns(horizon, dead_band)
    out = frame.copy()
    out[ret_col] = fwd
    out[dir_col] = direction(fwd, dead_band)
    return out, [ret_col, dir_col]


def _check_horizon(horizon: int) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise SpecError(
            f"label horizon must be a positive integer number of bars, got {horizon!r}",
            hint="set target.horizon to 1 or more",
        )


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0.0:
        raise SpecError(f"triple barrier {name} must be a positive number, got {value!r}",
                        hint=f"set the {name} barrier to a multiple of volatility above 0")


def barrier_volatility(close: np.ndarray, window: int) -> np.ndarray:
    """The causal volatility the barriers scale with: the population std of the last
    ``window`` one-bar log returns, known at the close of bar t (NaN during warm-up)."""
    import numpy as np

    from .transforms import rolling_moments

    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise SpecError(f"triple barrier vol_window must be an integer >= 2, got {window!r}",
                        hint="set vol_window to 2 or more bars")
    close = np.asarray(close, dtype=np.float64)
    logret = np.full(close.size, np.nan)
    if close.size > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            logret[1:] = np.log(close[1:] / close[:-1])
    return rolling_moments(logret, window)[1]


def triple_barrier(
    close: np.ndarray, horizon: int, upper: float = 2.0, lower: float = 2.0,
    vol_window: int = 50,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which barrier the price path after t touches first (label, bars to touch, return).

    Barriers are log returns from close[t]: ``+upper * sigma_t * sqrt(horizon)`` and
    ``-lower * sigma_t * sqrt(horizon)``, with ``sigma_t`` the causal one-bar volatility of
    :func:`barrier_volatility` (so the barriers are known at t; only the path looks ahead);
    the vertical barrier is ``horizon`` bars. Label +1 upper first, -1 lower first, 0 neither
    within the horizon; bars is 1..horizon (the touch is at row t + bars); the return is the
    log return at the touch. NaN where it cannot be decided (warm-up, gaps, the series end).
    """
    import numpy as np

    from ._label_kernels import triple_barrier as kernel

    _check_horizon(horizon)
    _check_positive("upper", upper)
    _check_positive("lower", lower)
    close = np.ascontiguousarray(close, dtype=np.float64)
    sigma = barrier_volatility(close, vol_window) * np.sqrt(float(horizon))
    return kernel(close, sigma, int(horizon), float(upper), float(lower))  # type: ignore[no-any-return]


def triple_barrier_columns(
    horizon: int, upper: float = 2.0, lower: float = 2.0, vol_window: int = 50,
) -> tuple[str, str, str]:
    """Names of the (label, bars to touch, return at touch) columns for these settings."""
    from .registry import format_param

    suffix = f"{horizon}_{format_param(upper)}_{format_param(lower)}_{vol_window}"
    return (f"{LABEL_PREFIX}tb_label_{suffix}", f"{LABEL_PREFIX}tb_bars_{suffix}",
            f"{LABEL_PREFIX}tb_return_{suffix}")


def add_triple_barrier(
    frame: pd.DataFrame,
    horizon: int,
    upper: float = 2.0,
    lower: float = 2.0,
    vol_window: int = 50,
    *,
    close: str = "close",
    symbol: str = "symbol",
    time: str = "open_time",
) -> tuple[pd.DataFrame, list[str]]:
    """Add the triple-barrier columns to a copy of ``frame`` (per symbol, like add_labels).

    With a ``time`` column, also ``y_tb_touch_<suffix>``: the time of the touching row (when
    the label became known), which a walk-forward split needs to purge overlapping labels.
    """
    import numpy as np
    import pandas as pd

    if close not in frame.columns:
        raise DataError(f"cannot label: column {close!r} is missing",
                        hint="label candles that have a close price")
    prices = frame[close].to_numpy(dtype=np.float64, na_value=np.nan)
    n = prices.size
    label = np.full(n, np.nan)
    bars = np.full(n, np.nan)
    ret = np.full(n, np.nan)
    touch_row = np.full(n, -1, dtype=np.int64)
    groups = ([np.flatnonzero(frame[symbol].factorize()[0] == code)
               for code in np.unique(frame[symbol].factorize()[0])]
              if symbol in frame.columns else [np.arange(n)])
    for rows in groups:
        lab, nbars, r = triple_barrier(prices[rows], horizon, upper, lower, vol_window)
        label[rows], bars[rows], ret[rows] = lab, nbars, r
        hit = np.flatnonzero(np.isfinite(nbars))
        touch_row[rows[hit]] = rows[hit + nbars[hit].astype(np.int64)]
    names = list(triple_barrier_columns(horizon, upper, lower, vol_window))
    out = frame.copy()
    out[names[0]] = label
    out[names[1]] = bars
    out[names[2]] = ret
    if time in frame.columns:
        times = frame[time].reset_index(drop=True)
        touch = times.iloc[np.maximum(touch_row, 0)].reset_index(drop=True)
        touch[touch_row < 0] = pd.NaT
        name = f"{LABEL_PREFIX}tb_touch_{names[0].removeprefix(LABEL_PREFIX + 'tb_label_')}"
        out[name] = touch.to_numpy()
        names.append(name)
    return out, names
