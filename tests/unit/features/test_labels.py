"""Labels look ahead on purpose, by exactly the horizon, per symbol, under a y_ prefix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import SpecError
from mlta.features.labels import add_labels, direction, forward_returns, label_columns

from .conftest import generated_candles


def test_forward_returns_and_direction() -> None:
    close = np.array([100.0, 101.0, 99.0, 99.0, 102.0])
    fwd = forward_returns(close, 2)
    np.testing.assert_allclose(fwd[:3], [99 / 100 - 1, 99 / 101 - 1, 102 / 99 - 1])
    assert np.isnan(fwd[3:]).all()
    np.testing.assert_array_equal(direction(np.array([0.02, -0.02, 0.001, np.nan]), 0.005),
                                  [1.0, -1.0, 0.0, np.nan])
    np.testing.assert_array_equal(direction(np.array([0.0, 1e-9])), [0.0, 1.0])


def test_labels_are_per_symbol_and_named_y() -> None:
    a = generated_candles(50, seed=1).assign(symbol="AAA")
    b = generated_candles(30, seed=2, price=5.0).assign(symbol="BBB")
    frame = pd.concat([a, b], ignore_index=True)
    out, columns = add_labels(frame, horizon=3, dead_band=0.001)
    assert columns == list(label_columns(3, 0.001)) == ["y_return_3", "y_direction_3_0p001"]
    for sym, part in (("AAA", a), ("BBB", b)):
        rows = out[out["symbol"] == sym]
        expected = part["close"].shift(-3) / part["close"] - 1
        np.testing.assert_allclose(rows["y_return_3"].to_numpy(), expected.to_numpy())
        # the last horizon rows of each symbol have no label: never another symbol's price
        assert rows["y_return_3"].iloc[-3:].isna().all()
        assert rows["y_direction_3_0p001"].iloc[-3:].isna().all()


def test_labels_use_the_future_by_exactly_the_horizon() -> None:
    frame = generated_candles(100)
    base, _ = add_labels(frame, horizon=5)
    changed = frame.copy()
    changed.loc[60, "close"] *= 1.5
    moved, _ = add_labels(changed, horizon=5)
    diff = np.flatnonzero(~np.isclose(base["y_return_5"], moved["y_return_5"], equal_nan=True))
    assert diff.tolist() == [55, 60]


@pytest.mark.parametrize("horizon", [0, -1, 2.5, True])
def test_bad_horizon(horizon: object) -> None:
    with pytest.raises(SpecError, match="horizon"):
        add_labels(generated_candles(20), horizon=horizon)  # type: ignore[arg-type]


def test_negative_dead_band() -> None:
    with pytest.raises(SpecError, match="dead_band"):
        add_labels(generated_candles(20), horizon=1, dead_band=-0.1)
