"""Training targets: forward returns and their direction, the only look-ahead columns.

Labels look ``horizon`` bars into the future by definition, so they are kept apart from
features by name: every label column starts with ``y_`` (features start with ``f_``), and the
training code must never use a ``y_`` column as an input. The last ``horizon`` rows of each
symbol have no label (NaN) and must be dropped, not filled. Labels are computed per symbol so
a label never reads another symbol's prices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlta.errors import DataError, SpecError

from . import LABEL_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


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
