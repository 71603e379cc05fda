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


@dataclass(frozen=True)
class Layout:
    """The whole time layout: walk-forward folds for the search, then the lockbox.

    ``lockbox.train`` is every row before the lockbox minus the purge (what the final model is
    fitted on); ``lockbox.test`` the lockbox rows. The folds live entirely before that purge,
    so no fold, and no label of a fold's training row, ever reads a lockbox price.
    """

    folds: list[Fold]
    lockbox: Fold

    @property
    def cv_rows(self) -> np.ndarray:
        """Rows the search may see (every fold's train and test rows)."""
        return self.lockbox.train


def time_layout(
    times: npt.ArrayLike,
    *,
    folds: int,
    test_fraction: float,
    purge: int,
    embargo: int = 0,
    lockbox_fraction: float,
) -> Layout:
    """Folds over the first part of ``times``, a purge, and the last ``lockbox_fraction``.

    Raises TrainingError naming the setting when the layout leaves no room for it.
    """
    import numpy as np

    if not 0 < lockbox_fraction < 1:
        raise TrainingError(f"lockbox_fraction must be in (0, 1), got {lockbox_fraction}")
    if purge < 0:
        raise TrainingError(f"purge must be >= 0, got {purge}")
    values = _as_sortable(times)
    if values.ndim != 1:
        raise TrainingError("times must be one-dimensional (one timestamp per row)")
    distinct, position = np.unique(values, return_inverse=True)
    m = len(distinct)
    size = int(lockbox_fraction * m)
    if size < 1:
        raise TrainingError(
            f"{m} distinct timestamps give an empty lockbox at lockboxFraction={lockbox_fraction}",
            hint="train on a longer period or raise validation.lockboxFraction")
    lock_start = m - size
    rows = np.arange(len(values))
    before = rows[position < lock_start - purge]
    if before.size == 0:
        raise TrainingError(
            f"{m} distinct timestamps leave nothing before the lockbox ({size} bars, purge {purge})",
            hint="train on a longer period or lower validation.lockboxFraction or purgeBars")
    inner = walk_forward_splits(values[before], folds=folds, test_fraction=test_fraction,
                                purge=purge, embargo=embargo)
    mapped = [Fold(f.number, before[f.train], before[f.test], f.test_start, f.test_end)
              for f in inner]
    lockbox = Fold(number=folds, train=before, test=rows[position >= lock_start],
                   test_start=lock_start, test_end=m)
    return Layout(folds=mapped, lockbox=lockbox)
