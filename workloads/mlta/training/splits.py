"""Walk-forward splits by time with purge and embargo (López de Prado, AFML ch. 7).

Why by timestamp and not by row position: a Gold frame holds several symbols stacked
(sorted by symbol, then time), so row positions say nothing about time. Every fold boundary
is a point in time shared by all symbols; a row belongs to a fold by its ``close_time``.

Layout over the sorted distinct timestamps ``0..m-1`` with ``k = floor(test_fraction * m)``:

    fold i tests timestamps [s_i, s_i + k) with s_i = m - (folds - i) * k   (i = 0..folds-1)
    fold i trains on timestamps t < s_i - purge  (expanding window, only the past)
                  minus, for every earlier fold j < i, the embargo [s_j + k, s_j + k + embargo)

Purge: a label at t looks ``horizon`` bars ahead, so a training row with t >= s_i - horizon
has a label window that reaches into the test fold; with ``purge = horizon`` (the default)
no training label ever sees a test-period price. Embargo: rows right after a test fold are
serially correlated with it; they are skipped before they are used for later training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: positional row indices into the frame, ascending."""

    number: int
    train: np.ndarray
    test: np.ndarray
    test_start: int  # index of the fold's first timestamp among the distinct timestamps
    test_end: int    # one past the fold's last timestamp


def _as_sortable(times: npt.ArrayLike) -> np.ndarray:
    """A numpy array of ``times``; tz-aware pandas timestamps become naive UTC datetime64."""
    import numpy as np
    import pandas as pd

    if isinstance(times, pd.Series | pd.Index) and isinstance(times.dtype, pd.DatetimeTZDtype):
        naive = pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None)
        return np.asarray(naive)
    return np.asarray(times)


def walk_forward_splits(
    times: npt.ArrayLike,
    *,
    folds: int,
    test_fraction: float,
    purge: int,
    embargo: int = 0,
) -> list[Fold]:
    """Walk-forward folds over ``times`` (one timestamp per row, any order).

    Returns folds in time order; each fold's ``train`` and ``test`` are positional indices
    into ``times``. Raises TrainingError when the series is too short for the layout.
    """
    import numpy as np

    if folds < 1:
        raise TrainingError(f"folds must be at least 1, got {folds}")
    if not 0 < test_fraction < 1:
        raise TrainingError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if purge < 0 or embargo < 0:
        raise TrainingError(f"purge and embargo must be >= 0, got {purge} and {embargo}")
    values = _as_sortable(times)
    if values.ndim != 1:
        raise TrainingError("times must be one-dimensional (one timestamp per row)")
    distinct, position = np.unique(values, return_inverse=True)
    m = len(distinct)
    k = int(test_fraction * m)
    if k < 1:
        raise TrainingError(
            f"{m} distinct timestamps give empty test folds at test_fraction={test_fraction}",
            hint="train on a longer period or raise validation.testFraction",
        )
    first_start = m - folds * k
    if first_start - purge < 1:
        raise TrainingError(
            f"{m} distinct timestamps leave no training rows before the first test fold "
            f"({folds} folds x {k} bars, purge {purge})",
            hint="train on a longer period, or lower validation.folds, testFraction or purgeBars",
        )
    rows = np.arange(len(values))
    out: list[Fold] = []
    for i in range(folds):
        start = first_start + i * k
        end = start + k
        keep = position < start - purge
        for j in range(i):
            earlier_end = first_start + (j + 1) * k
            keep &= ~((position >= earlier_end) & (position < earlier_end + embargo))
        test = rows[(position >= start) & (position < end)]
        out.append(Fold(number=i, train=rows[keep], test=test, test_start=start, test_end=end))
    return out
