"""A Gold frame turned into what training needs: a feature matrix, the target, the layout.

The labels come from the features package (:mod:`mlta.features.labels`, the one place that
may look ahead), per symbol: the direction of the forward return beyond a dead band, the
forward return, the triple-barrier outcome, or the realized volatility over the horizon.
Classification targets are 0/1 with NaN for "no decision" (inside the dead band; neither
barrier touched): those rows are never trained or scored on, but they still trade in the
backtest, which needs every bar. Rows whose features are not all present (indicator warm-up)
are dropped first.

Everything is numpy from here on: the search ships one :class:`Prepared` to every trial
through Ray's object store, and numpy arrays travel there without a copy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import DataError, TrainingError
from ..specs.trainingjob import CLASSIFICATION_TARGETS, TargetKind, TrainingJobSpec
from .adapters import Objective
from .splits import Layout, time_layout

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class Prepared:
    """The training data of one job, positional and aligned row for row."""

    X: np.ndarray            # (n, f) float64 features
    y: np.ndarray            # (n,) target; NaN = no label (never trained or scored on)
    feature_names: list[str]
    times: np.ndarray        # (n,) datetime64[ns] close times (UTC)
    symbols: np.ndarray      # (n,) symbol per row
    close: np.ndarray        # (n,) close price
    next_return: np.ndarray  # (n,) simple return from this close to the next (NaN at the end)
    objective: Objective
    kind: TargetKind
    layout: Layout

    @property
    def labelled(self) -> np.ndarray:
        import numpy as np

        return ~np.isnan(self.y)


def objective_of(kind: TargetKind | str) -> Objective:
    return Objective.BINARY if TargetKind(kind) in CLASSIFICATION_TARGETS else Objective.REGRESSION


def select_features(columns: list[str], exclude: list[str]) -> list[str]:
    """Feature columns minus ``exclude`` (exact names or shell globs such as ``f_cdl*``)."""
    kept = [c for c in columns if not any(fnmatch.fnmatchcase(c, pat) for pat in exclude)]
    if not kept:
        raise DataError(f"features.exclude {exclude} removes every feature column",
                        hint="exclude fewer columns")
    return kept


def _check_frame(frame: pd.DataFrame, feature_columns: list[str]) -> None:
    import pandas as pd

    missing = [c for c in ("symbol", "close_time", "close", *feature_columns) if c not in frame.columns]
    if missing:
        raise DataError(f"dataset lacks column(s) {missing}",
                        hint="train on a Gold dataset produced by a DataPipeline")
    bad = [c for c in feature_columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"feature column(s) {bad} are not numeric")


def _per_symbol(symbols: np.ndarray, close: np.ndarray, fn: object) -> np.ndarray:
    """Apply ``fn(close_of_one_symbol) -> array`` to each symbol's rows (in frame order)."""
    import numpy as np

    out = np.full(close.size, np.nan)
    codes = np.unique(symbols, return_inverse=True)[1]
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        out[rows] = fn(close[rows])  # type: ignore[operator]
    return out


def target(spec: TrainingJobSpec, symbols: np.ndarray, close: np.ndarray) -> np.ndarray:
    """The training target per row (see the module docstring for each kind)."""
    import numpy as np

    from ..features import labels

    t = spec.target
    kind = TargetKind(t.kind)
    if kind is TargetKind.VOLATILITY:
        return _per_symbol(symbols, close, lambda c: labels.realized_volatility(c, t.horizon))
    if kind is TargetKind.TRIPLE_BARRIER:
        b = t.barrier
        outcome = _per_symbol(symbols, close, lambda c: labels.triple_barrier(
            c, t.horizon, b.upper, b.lower, b.vol_window)[0])
        return np.where(outcome == 1.0, 1.0, np.where(outcome == -1.0, 0.0, np.nan))
    forward = _per_symbol(symbols, close, lambda c: labels.forward_returns(c, t.horizon))
    if kind is TargetKind.RETURN:
        return forward
    sign = labels.direction(forward, t.dead_band)
    return np.where(sign == 1.0, 1.0, np.where(sign == -1.0, 0.0, np.nan))


def prepare(frame: pd.DataFrame, feature_columns: list[str], spec: TrainingJobSpec) -> Prepared:
    """Labels, the next-bar return and the time layout of a Gold frame (rows in any order:
    they are sorted by symbol, then close time)."""
    import numpy as np

    from ..features import labels

    if not feature_columns:
        raise DataError("no feature columns to train on", hint="configure features in the DataPipeline")
    columns = select_features(list(feature_columns), spec.features.exclude)
    _check_frame(frame, columns)
    # Labels read each symbol's rows in frame order as time order: sort (a no-op on a Gold
    # dataset, which is stored sorted) so a frame from elsewhere cannot scramble them.
    data = frame.sort_values(["symbol", "close_time"], kind="stable").reset_index(drop=True)
    symbols = data["symbol"].astype(str).to_numpy()
    close = data["close"].to_numpy(dtype=np.float64, na_value=np.nan)
    y = target(spec, symbols, close)
    next_return = _per_symbol(symbols, close, lambda c: labels.forward_returns(c, 1))
    X = data[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    complete = np.isfinite(X).all(axis=1)
    if not complete.any():
        raise DataError("every row has a missing feature",
                        hint="train on a longer period than the indicators' warm-up")
    times = _utc_ns(data["close_time"])
    keep = np.flatnonzero(complete)
    v = spec.validation
    purge = v.purge_bars if v.purge_bars is not None else spec.target.horizon
    layout = time_layout(times[keep], folds=v.folds, test_fraction=v.test_fraction, purge=purge,
                         embargo=v.embargo_bars, lockbox_fraction=v.lockbox_fraction)
    prepared = Prepared(
        X=np.ascontiguousarray(X[keep]), y=y[keep], feature_names=columns, times=times[keep],
        symbols=symbols[keep], close=close[keep], next_return=next_return[keep],
        objective=objective_of(spec.target.kind), kind=TargetKind(spec.target.kind), layout=layout)
    check_layout(prepared, spec.validation.min_train_rows)
    return prepared


def _utc_ns(column: pd.Series) -> np.ndarray:
    import numpy as np
    import pandas as pd

    stamps = pd.to_datetime(column, utc=True)
    return np.asarray(stamps.dt.tz_convert("UTC").dt.tz_localize(None), dtype="datetime64[ns]")


def check_layout(data: Prepared, min_rows: int) -> None:
    """Every training window has enough labelled rows (and both classes for a classifier)."""
    import numpy as np

    labelled = data.labelled
    windows = [(f"fold {f.number}", f.train) for f in data.layout.folds]
    windows.append(("the final model (everything before the lockbox)", data.layout.lockbox.train))
    for name, rows in windows:
        y = data.y[rows[labelled[rows]]]
        if len(y) < min_rows:
            raise TrainingError(
                f"{name} has only {len(y)} labelled training rows (validation.minTrainRows is "
                f"{min_rows})",
                hint="train on a longer period, lower validation.folds, lockboxFraction or "
                     "target.deadBand, or lower validation.minTrainRows")
        if data.objective is Objective.BINARY and len(np.unique(y)) < 2:
            raise TrainingError(f"{name}: the training labels hold one class only",
                                hint="lower target.deadBand or train on a longer period")
    for fold in data.layout.folds:
        if not labelled[fold.test].any():
            raise TrainingError(f"fold {fold.number} has no labelled test rows",
                                hint="raise validation.testFraction, lower target.deadBand or "
                                     "train on a longer period")
    if not labelled[data.layout.lockbox.test].any():
        # The last target.horizon bars have no label, so a lockbox that short has none at all.
        raise TrainingError("the lockbox has no labelled rows",
                            hint="raise validation.lockboxFraction (the last target.horizon bars "
                                 "have no label), lower target.deadBand or train on a longer period")
