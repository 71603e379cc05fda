"""Triple-barrier labels: first touch, vertical barrier, causal barriers, per symbol, marked y_."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import SpecError
from mlta.features.labels import (
    LOOKAHEAD_PREFIX,
    add_labels,
    add_triple_barrier,
    barrier_volatility,
    is_lookahead,
    triple_barrier,
    triple_barrier_columns,
)

from .conftest import generated_candles


def _reference(close: np.ndarray, sigma: np.ndarray, h: int, up: float, lo: float,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python first touch, written independently of the kernel."""
    n = close.size
    label = np.full(n, np.nan)
    bars = np.full(n, np.nan)
    for t in range(n):
        if not np.isfinite(sigma[t]) or t + h >= n:
            continue
        path = np.log(close[t + 1: t + h + 1] / close[t])
        hits_up = np.flatnonzero(path >= up * sigma[t])
        hits_dn = np.flatnonzero(path <= -lo * sigma[t])
        first_up = hits_up[0] if hits_up.size else h
        first_dn = hits_dn[0] if hits_dn.size else h
        if first_up == h and first_dn == h:
            label[t], bars[t] = 0.0, h
        elif first_up < first_dn:
            label[t], bars[t] = 1.0, first_up + 1
        else:
            label[t], bars[t] = -1.0, first_dn + 1
    return label, bars


def test_barrier_volatility_is_the_std_of_past_log_returns() -> None:
    close = generated_candles(400)["close"].to_numpy()
    sigma = barrier_volatility(close, 30)
    logret = pd.Series(np.log(close)).diff()
    expected = logret.rolling(30).std(ddof=0).to_numpy()
    assert np.isnan(sigma[:30]).all() and np.isfinite(sigma[30:]).all()
    np.testing.assert_allclose(sigma, expected, rtol=1e-9)


@pytest.mark.parametrize(("h", "up", "lo"), [(6, 1.0, 1.0), (12, 2.0, 0.5), (1, 0.3, 0.3)])
def test_first_touch_against_a_plain_reference(h: int, up: float, lo: float) -> None:
    close = generated_candles(1200, seed=4)["close"].to_numpy()
    label, bars, ret = triple_barrier(close, h, up, lo, vol_window=40)
    sigma = barrier_volatility(close, 40) * np.sqrt(h)
    ref_label, ref_bars = _reference(close, sigma, h, up, lo)
    decided = np.isfinite(ref_label)
    np.testing.assert_array_equal(label[decided], ref_label[decided])
    np.testing.assert_array_equal(bars[decided], ref_bars[decided])
    rows = np.flatnonzero(decided)
    touch = rows + bars[decided].astype(int)
    np.testing.assert_allclose(ret[decided], np.log(close[touch] / close[rows]), rtol=1e-12)
    assert set(np.unique(label[decided])) <= {-1.0, 0.0, 1.0}
    # near the end, only rows that touched a barrier before the data ran out are labelled
    tail = np.flatnonzero(np.isfinite(label) & ~decided)
    assert (label[tail] != 0.0).all() and (tail + bars[tail] < close.size).all()


def test_hand_made_paths() -> None:
    # a flat warm-up with alternating +-1% moves gives sigma = 0.01 per bar
    warm = 100.0 * np.exp(np.cumsum(np.tile([0.01, -0.01], 10)))
    up_path = warm[-1] * np.exp(np.array([0.005, 0.03, -0.05]))
    close = np.concatenate((warm, up_path, [up_path[-1]] * 3))
    label, bars, _ = triple_barrier(close, horizon=4, upper=1.0, lower=1.0, vol_window=10)
    t = warm.size - 1  # barriers +-0.01 * sqrt(4) = +-2%: the +3% at t+2 comes first
    assert label[t] == 1.0 and bars[t] == 2.0
    flat = np.full(30, 50.0)
    flat[::2] = 50.5
    label, bars, _ = triple_barrier(np.concatenate((flat, np.full(8, 50.2))), horizon=3,
                                    upper=5.0, lower=5.0, vol_window=10)
    assert label[30] == 0.0 and bars[30] == 3.0  # nothing touched: the vertical barrier


def test_barriers_do_not_move_with_the_future() -> None:
    close = generated_candles(600, seed=2)["close"].to_numpy()
    sigma = barrier_volatility(close, 50)
    changed = close.copy()
    changed[400:] *= 1.3
    # the volatility (barrier width) at t reads rows <= t only
    np.testing.assert_array_equal(barrier_volatility(changed, 50)[:400], sigma[:400])


def test_add_triple_barrier_per_symbol_with_touch_time() -> None:
    a = generated_candles(300, seed=1).assign(symbol="AAA")
    b = generated_candles(200, seed=2, price=5.0).assign(symbol="BBB")
    frame = pd.concat([a, b], ignore_index=True)
    out, columns = add_triple_barrier(frame, horizon=8, upper=1.5, lower=1.0, vol_window=30)
    names = triple_barrier_columns(8, 1.5, 1.0, 30)
    assert columns == [*names, "y_tb_touch_8_1p5_1_30"]
    assert all(is_lookahead(c) for c in columns) and LOOKAHEAD_PREFIX == "y_"
    for sym, part in (("AAA", a), ("BBB", b)):
        rows = out[out["symbol"] == sym]
        label, bars, _ = triple_barrier(part["close"].to_numpy(), 8, 1.5, 1.0, 30)
        np.testing.assert_array_equal(rows[names[0]].to_numpy(), label)
        np.testing.assert_array_equal(rows[names[1]].to_numpy(), bars)
        known = np.isfinite(bars)
        expected = part["open_time"].to_numpy()[np.flatnonzero(known) + bars[known].astype(int)]
        np.testing.assert_array_equal(rows[columns[3]].to_numpy()[known], expected)
        assert rows[columns[3]][~known].isna().all()
        # a symbol's last rows never borrow the next symbol's prices
        assert rows[names[0]].iloc[-1:].isna().all()


def test_every_label_column_is_marked_lookahead() -> None:
    frame = generated_candles(200)
    _, plain = add_labels(frame, horizon=3)
    _, barrier = add_triple_barrier(frame, horizon=3)
    assert all(is_lookahead(c) for c in plain + barrier)
    assert not is_lookahead("f_rsi_14") and not is_lookahead("close")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"horizon": 0}, "horizon"),
    ({"horizon": 3, "upper": 0.0}, "upper"),
    ({"horizon": 3, "lower": -1.0}, "lower"),
    ({"horizon": 3, "vol_window": 1}, "vol_window"),
])
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        add_triple_barrier(generated_candles(50), **kwargs)  # type: ignore[arg-type]
