"""Walk-forward splits: properties checked over many random layouts (seeded, reproducible)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import TrainingError
from mlta.training.splits import walk_forward_splits


def _layouts(count: int = 150):
    rng = np.random.default_rng(1234)
    for _ in range(count):
        m = int(rng.integers(40, 400))
        folds = int(rng.integers(1, 6))
        test_fraction = float(rng.uniform(0.02, 0.9 / folds))
        purge = int(rng.integers(0, 12))
        embargo = int(rng.integers(0, 12))
        symbols = int(rng.integers(1, 4))
        yield m, folds, test_fraction, purge, embargo, symbols


def _stacked_times(m: int, symbols: int) -> np.ndarray:
    """Rows sorted by symbol then time, like a Gold frame: positions are not time order."""
    one = pd.date_range("2024-01-01", periods=m, freq="5min", tz="UTC")
    return pd.Series(np.tile(one, symbols)).reset_index(drop=True)


@pytest.mark.parametrize("layout", list(_layouts()))
def test_split_properties(layout: tuple[int, int, float, int, int, int]) -> None:
    m, folds, test_fraction, purge, embargo, symbols = layout
    times = _stacked_times(m, symbols)
    k = int(test_fraction * m)
    if k < 1 or m - folds * k - purge < 1:
        with pytest.raises(TrainingError):
            walk_forward_splits(times, folds=folds, test_fraction=test_fraction,
                                purge=purge, embargo=embargo)
        return
    splits = walk_forward_splits(times, folds=folds, test_fraction=test_fraction,
                                 purge=purge, embargo=embargo)
    distinct = np.sort(times.unique())
    rank = {t: i for i, t in enumerate(distinct)}
    pos = np.array([rank[t] for t in times])
    assert len(splits) == folds
    previous_end = None
    tested: list[np.ndarray] = []
    for fold in splits:
        train_t, test_t = pos[fold.train], pos[fold.test]
        # sizes: every symbol contributes k bars to every test fold
        assert len(fold.test) == k * symbols
        assert len(np.unique(test_t)) == k
        # the test fold is one contiguous block of time, following the previous one
        assert test_t.min() == fold.test_start and test_t.max() == fold.test_end - 1
        if previous_end is not None:
            assert fold.test_start == previous_end
        previous_end = fold.test_end
        # no overlap, nothing from the test period or after it, purge respected
        assert not np.intersect1d(fold.train, fold.test).size
        assert len(fold.train) > 0
        assert train_t.max() < fold.test_start - purge
        # expanding: the full past minus purge and embargoes
        for earlier in splits[: fold.number]:
            hidden = (train_t >= earlier.test_end) & (train_t < earlier.test_end + embargo)
            assert not hidden.any()
        # indices are ascending positions into the frame
        assert np.all(np.diff(fold.train) > 0) and np.all(np.diff(fold.test) > 0)
        tested.append(fold.test)
    assert previous_end == m  # the folds end at the end of the series
    all_tested = np.concatenate(tested)
    assert len(np.unique(all_tested)) == len(all_tested)


def test_expanding_window_grows_by_one_fold() -> None:
    times = np.arange(100)
    splits = walk_forward_splits(times, folds=3, test_fraction=0.1, purge=4, embargo=0)
    assert [len(f.train) for f in splits] == [66, 76, 86]
    assert [f.test_start for f in splits] == [70, 80, 90]


def test_embargo_removes_bars_after_earlier_test_folds() -> None:
    times = np.arange(100)
    splits = walk_forward_splits(times, folds=3, test_fraction=0.1, purge=2, embargo=3)
    last = set(splits[2].train.tolist())
    assert {80, 81, 82}.isdisjoint(last)  # after fold 0 (70..79)
    assert 83 in last and 79 in last
    assert max(last) == 87  # fold 2 starts at 90, purge 2


def test_unsorted_multi_symbol_rows_share_time_boundaries() -> None:
    times = pd.Series(pd.date_range("2024-01-01", periods=50, freq="h", tz="UTC"))
    frame = pd.DataFrame({"symbol": ["A"] * 50 + ["B"] * 50,
                          "close_time": pd.concat([times, times], ignore_index=True)})
    splits = walk_forward_splits(frame["close_time"], folds=2, test_fraction=0.2, purge=1)
    for fold in splits:
        test = frame.iloc[fold.test]
        assert set(test.groupby("symbol")["close_time"].min()) == {test["close_time"].min()}
        assert frame.iloc[fold.train]["close_time"].max() < test["close_time"].min()


def test_too_short_series_says_how_to_fix() -> None:
    with pytest.raises(TrainingError, match="no training rows") as info:
        walk_forward_splits(np.arange(20), folds=4, test_fraction=0.2, purge=5)
    assert "validation.folds" in str(info.value)
