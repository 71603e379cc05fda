"""Labels: forward returns per symbol, direction classes with a dead band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import DataError
from mlta.specs.trainingjob import TargetSpec
from mlta.training.labels import forward_return, make_labels, next_bar_return


def _frame() -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=5, freq="h", tz="UTC")
    return pd.DataFrame({
        "symbol": ["A"] * 5 + ["B"] * 5,
        "close_time": list(t) * 2,
        "close": [100, 101, 100, 103, 103.05, 10, 9, 9, 12, 6],
    })


def test_forward_return_stays_inside_each_symbol() -> None:
    ret = forward_return(_frame(), 2)
    expected = [0.0, 103 / 101 - 1, 103.05 / 100 - 1, np.nan, np.nan,
                -0.1, 12 / 9 - 1, 6 / 9 - 1, np.nan, np.nan]
    np.testing.assert_allclose(ret.to_numpy(), expected)


def test_direction_labels_drop_the_dead_band() -> None:
    labels = make_labels(_frame(), TargetSpec(kind="direction", horizon=1, dead_band=0.005))
    # A: +1%, -0.99%, +3%, +0.05% (inside band), none; B: -10%, 0% (band), +33%, -50%, none
    expected = [1, 0, 1, np.nan, np.nan, 0, np.nan, 1, 0, np.nan]
    np.testing.assert_array_equal(labels.to_numpy(), np.array(expected, dtype=float))


def test_direction_without_dead_band_keeps_zero_moves_out() -> None:
    labels = make_labels(_frame(), TargetSpec(kind="direction", horizon=1, dead_band=0.0))
    assert np.isnan(labels.iloc[6])  # exactly 0 return is neither up nor down
    assert labels.iloc[3] == 1.0


def test_return_target_is_the_forward_return() -> None:
    frame = _frame()
    labels = make_labels(frame, TargetSpec(kind="return", horizon=3))
    pd.testing.assert_series_equal(labels, forward_return(frame, 3).rename("label"))
    assert labels.isna().sum() == 6  # last 3 bars of each symbol


def test_next_bar_return() -> None:
    assert next_bar_return(_frame()).iloc[0] == pytest.approx(0.01)


def test_missing_close_is_a_data_error() -> None:
    with pytest.raises(DataError, match="close"):
        forward_return(_frame().drop(columns="close"), 1)
