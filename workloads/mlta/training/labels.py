"""Labels: the forward return over ``horizon`` bars, per symbol, from the close.

The label at bar t is ``close[t + horizon] / close[t] - 1`` inside the same symbol; the last
``horizon`` bars of every symbol have no label (NaN) and are never trained on. For the
``direction`` target, the class is 1 above ``dead_band``, 0 below ``-dead_band`` and NaN
inside the band: tiny moves are noise, not a direction, so they are left out of training.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DataError
from ..specs.trainingjob import TargetKind, TargetSpec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _check(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"frame lacks column(s) {missing}",
                        hint="train on a Gold dataset (symbol, close_time, close, f_* columns)")


def forward_return(frame: pd.DataFrame, horizon: int) -> pd.Series:
    """``close[t+horizon]/close[t] - 1`` per symbol; NaN where the future is not in the frame.

    Assumes rows are sorted by symbol then close_time (the Gold contract).
    """
    _check(frame, ("symbol", "close"))
    if horizon < 1:
        raise DataError(f"horizon must be >= 1, got {horizon}")
    future = frame.groupby("symbol", sort=False)["close"].shift(-horizon)
    return (future / frame["close"] - 1.0).rename(f"fwd_return_{horizon}")


def make_labels(frame: pd.DataFrame, target: TargetSpec) -> pd.Series:
    """The training target for ``target``: class 0/1 (direction) or the forward return.

    NaN marks rows without a usable label (no future yet, or inside the dead band).
    """
    import numpy as np

    ret = forward_return(frame, target.horizon)
    if TargetKind(target.kind) is TargetKind.RETURN:
        return ret.rename("label")
    label = np.full(len(ret), np.nan)
    values = ret.to_numpy(dtype="float64", na_value=np.nan)
    label[values > target.dead_band] = 1.0
    label[values < -target.dead_band] = 0.0
    import pandas as pd

    return pd.Series(label, index=frame.index, name="label")


def next_bar_return(frame: pd.DataFrame) -> pd.Series:
    """One-bar forward return per symbol: what a position taken at bar t earns by t+1."""
    return forward_return(frame, 1).rename("next_return")
