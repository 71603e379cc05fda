"""time_layout: walk-forward folds, a purge, then the lockbox; and the argument checks of
walk_forward_splits (its fold properties are tested in test_training_splits.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlta.errors import TrainingError
from mlta.training.splits import time_layout, walk_forward_splits


def _layouts(count: int = 60):
    rng = np.random.default_rng(4321)
    for _ in range(count):
        m = int(rng.integers(60, 400))
        folds = int(rng.integers(1, 5))
        yield (m, folds, float(rng.uniform(0.03, 0.8 / folds)), int(rng.integers(0, 10)),
               int(rng.integers(0, 6)), float(rng.uniform(0.02, 0.45)), int(rng.integers(1, 4)))


@pytest.mark.parametrize("layout", list(_layouts()))
def test_lockbox_is_last_and_never_reached_by_a_fold(layout: tuple[Any, ...]) -> None:
    m, folds, test_fraction, purge, embargo, lockbox_fraction, symbols = layout
    one = pd.date_range("2024-01-01", periods=m, freq="h", tz="UTC")
    times = pd.Series(np.tile(one, symbols))  # stacked by symbol: positions are not time
    layout_ = time_layout(times, folds=folds, test_fraction=test_fraction, purge=purge,
                          embargo=embargo, lockbox_fraction=lockbox_fraction)
    rank = pd.Series(np.arange(m), index=one)
    pos = rank[times].to_numpy()
    lock = layout_.lockbox
    size = int(lockbox_fraction * m)
    assert lock.number == folds and (lock.test_start, lock.test_end) == (m - size, m)
    assert np.array_equal(lock.test, np.flatnonzero(pos >= m - size))
    assert np.array_equal(lock.train, np.flatnonzero(pos < m - size - purge))
    assert np.array_equal(layout_.cv_rows, lock.train)
    assert len(layout_.folds) == folds
    for fold in layout_.folds:
        assert np.isin(fold.train, lock.train).all() and np.isin(fold.test, lock.train).all()
        assert pos[fold.train].max() < pos[fold.test].min() - purge
        # fold boundaries are in the inner (pre-lockbox) timestamp numbering, which is the
        # same as the full one since the lockbox is at the end
        assert pos[fold.test].min() == fold.test_start and pos[fold.test].max() == fold.test_end - 1
    # every fold's test rows lie before the lockbox's purge
    assert pos[layout_.folds[-1].test].max() < m - size - purge


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lockbox_fraction": 0.0}, "lockbox_fraction must be in (0, 1)"),
    ({"lockbox_fraction": 1.0}, "lockbox_fraction must be in (0, 1)"),
    ({"purge": -1}, "purge must be >= 0"),
    ({"lockbox_fraction": 0.001}, "empty lockbox at lockboxFraction=0.001"),
    ({"lockbox_fraction": 0.95, "purge": 5}, "leave nothing before the lockbox"),
])
def test_time_layout_refuses_impossible_layouts(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"folds": 2, "test_fraction": 0.2, "purge": 2, "lockbox_fraction": 0.2}
    with pytest.raises(TrainingError) as info:
        time_layout(np.arange(100), **{**args, **kwargs})
    assert message in str(info.value)


def test_time_layout_refuses_a_matrix_of_times() -> None:
    with pytest.raises(TrainingError, match="one-dimensional"):
        time_layout(np.zeros((10, 2)), folds=1, test_fraction=0.2, purge=0, lockbox_fraction=0.2)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"folds": 0}, "folds must be at least 1"),
    ({"test_fraction": 0.0}, "test_fraction must be in (0, 1)"),
    ({"test_fraction": 1.0}, "test_fraction must be in (0, 1)"),
    ({"purge": -1}, "purge and embargo must be >= 0"),
    ({"embargo": -2}, "purge and embargo must be >= 0"),
    ({"test_fraction": 0.001}, "empty test folds"),
])
def test_walk_forward_refuses_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"folds": 2, "test_fraction": 0.2, "purge": 1}
    with pytest.raises(TrainingError) as info:
        walk_forward_splits(np.arange(100), **{**args, **kwargs})
    assert message in str(info.value)
    with pytest.raises(TrainingError, match="one-dimensional"):
        walk_forward_splits(np.zeros((10, 2)), folds=1, test_fraction=0.2, purge=0)
