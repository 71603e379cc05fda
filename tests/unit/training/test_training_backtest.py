"""The cost-aware backtest: costs, equal weighting, annualisation, figures, bad input.

The expected values come from the rules written out by hand (small cases) or from a plain
loop over the rows that shares no code with the vectorised implementation (random cases).
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from gold_frames import make_gold_frame

from mlta.errors import DataError, SpecError
from mlta.specs.trainingjob import TargetKind
from mlta.training.backtest import (
    SECONDS_PER_YEAR,
    aligned_returns,
    backtest,
    bars_per_year,
    drawdown_series,
    max_drawdown,
    signal_positions,
)

HOUR = pd.Timedelta("1h")
START = pd.Timestamp("2024-03-01", tz="UTC")


def _frame(rows: list[tuple[str, int, float, float]], step: pd.Timedelta = HOUR) -> pd.DataFrame:
    """Rows of (symbol, bar number, position, next_return)."""
    return pd.DataFrame({
        "symbol": [r[0] for r in rows],
        "close_time": [START + r[1] * step for r in rows],
        "position": [r[2] for r in rows],
        "next_return": [r[3] for r in rows],
    })


def test_costs_are_paid_per_unit_per_side_on_open_flip_resize_and_final_close():
    frame = _frame([("BTC", 0, 1.0, 0.01), ("BTC", 1, -1.0, -0.02), ("BTC", 2, 0.5, math.nan)])
    result = backtest(frame, fee_bps=10, slippage_bps=5)
    cost = 0.0015
    # open 1 unit; flip long->short trades 2; -1 -> 0.5 trades 1.5, then 0.5 closed after.
    net = [0.01 - 1 * cost, 0.02 - 2 * cost, 0.0 - (1.5 + 0.5) * cost]
    assert result.cost_per_unit == pytest.approx(cost)
    np.testing.assert_allclose(result.gross_returns.to_numpy(), [0.01, 0.02, 0.0])
    np.testing.assert_allclose(result.net_returns.to_numpy(), net)
    equity = np.cumprod(1 + np.array(net))
    np.testing.assert_allclose(result.equity.to_numpy(), equity)
    assert result.total_return == pytest.approx(equity[-1] - 1)
    assert result.trades == 3
    assert result.turnover == pytest.approx((1 + 2 + 2) / 3)
    assert result.turnover_annual == pytest.approx((1 + 2 + 2) / 3 * 8760)
    assert result.exposure == 1.0
    assert result.mean_abs_position == pytest.approx(2.5 / 3)
    assert result.hit_rate == pytest.approx(2 / 3)
    assert result.max_drawdown == pytest.approx(1 - equity[2] / equity[1])
    assert result.periods == 3
    assert result.periods_per_year == 8760
    assert result.sharpe == pytest.approx(statistics.mean(net) / statistics.stdev(net) * math.sqrt(8760))
    downside = math.sqrt(sum(min(v, 0.0) ** 2 for v in net) / 3)
    assert result.sortino == pytest.approx(statistics.mean(net) / downside * math.sqrt(8760))
    assert result.annual_return == pytest.approx(equity[-1] ** (8760 / 3) - 1)


def test_symbols_present_at_a_time_are_equally_weighted():
    frame = _frame([
        ("BTC", 0, 1.0, 0.02), ("BTC", 1, 1.0, 0.01), ("BTC", 2, 1.0, 0.0),
        ("ETH", 1, -1.0, 0.03), ("ETH", 2, -1.0, -0.01),
    ])
    result = backtest(frame, fee_bps=0, slippage_bps=0)
    # bar 0: BTC alone; bars 1 and 2: the mean of BTC and ETH.
    np.testing.assert_allclose(result.net_returns.to_numpy(), [0.02, (0.01 - 0.03) / 2, (0.0 + 0.01) / 2])
    np.testing.assert_allclose(result.gross_returns.to_numpy(), result.net_returns.to_numpy())
    assert list(result.net_returns.index) == [START, START + HOUR, START + 2 * HOUR]


def _loop_reference(frame: pd.DataFrame, unit_cost: float) -> dict[str, object]:
    """The rules applied row by row with plain Python: an independent second opinion."""
    by_symbol: dict[str, list[tuple[pd.Timestamp, float, float]]] = {}
    for row in frame.itertuples():
        ret = 0.0 if math.isnan(row.next_return) else row.next_return
        by_symbol.setdefault(row.symbol, []).append((row.close_time, row.position, ret))
    per_time: dict[pd.Timestamp, list[tuple[float, float, float]]] = {}
    held = wins = trades = 0
    for rows in by_symbol.values():
        rows.sort()
        previous = 0.0
        for number, (time, position, ret) in enumerate(rows):
            traded = abs(position - previous)
            if number == len(rows) - 1:
                traded += abs(position)
            gross = position * ret
            net = gross - unit_cost * traded
            per_time.setdefault(time, []).append((gross, net, traded))
            trades += traded > 0
            if position != 0:
                held += 1
                wins += net > 0
            previous = position
    times = sorted(per_time)
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {
        "times": times,
        "gross": [mean([g for g, _, _ in per_time[t]]) for t in times],
        "net": [mean([n for _, n, _ in per_time[t]]) for t in times],
        "turnover": mean([mean([x for _, _, x in per_time[t]]) for t in times]),
        "trades": trades,
        "hit_rate": wins / held,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_a_row_by_row_reference_on_random_portfolios(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for symbol in ("BTC", "ETH", "SOL"):
        bars = np.sort(rng.choice(80, size=rng.integers(20, 80), replace=False))
        for bar in bars:
            position = float(rng.choice([-1.0, -0.5, 0.0, 0.25, 1.0]))
            ret = math.nan if rng.random() < 0.05 else float(rng.normal(0, 0.01))
            rows.append((symbol, int(bar), position, ret))
    frame = _frame(rows).sample(frac=1.0, random_state=seed)  # any row order
    result = backtest(frame, fee_bps=7.5, slippage_bps=2.5)
    expected = _loop_reference(frame, 0.001)
    assert list(result.net_returns.index) == expected["times"]
    np.testing.assert_allclose(result.gross_returns.to_numpy(), expected["gross"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.net_returns.to_numpy(), expected["net"], rtol=1e-12, atol=1e-15)
    assert result.turnover == pytest.approx(expected["turnover"], rel=1e-12)
    assert result.trades == expected["trades"]
    assert result.hit_rate == pytest.approx(expected["hit_rate"])


def test_a_flat_strategy_is_a_result_not_an_error():
    frame = _frame([("BTC", i, 0.0, 0.01 * (-1) ** i) for i in range(10)])
    result = backtest(frame, fee_bps=10, slippage_bps=10)
    assert result.total_return == 0.0
    assert result.annual_return == 0.0
    assert math.isnan(result.sharpe)
    assert math.isnan(result.sortino)
    assert math.isnan(result.hit_rate)
    assert result.max_drawdown == 0.0
    assert result.trades == 0
    assert result.turnover == 0.0
    assert result.exposure == 0.0
    assert (result.equity == 1.0).all()


def test_without_costs_net_equals_gross_and_costs_only_lower_returns():
    frame = make_gold_frame(bars=200)
    frame["next_return"] = frame.groupby("symbol")["close"].shift(-1) / frame["close"] - 1
    frame["position"] = np.sign(frame["f_state"].fillna(0.0))
    free = backtest(frame, fee_bps=0, slippage_bps=0)
    pd.testing.assert_series_equal(free.net_returns, free.gross_returns, check_names=False)
    dear = backtest(frame, fee_bps=10, slippage_bps=20)
    assert (dear.net_returns <= free.net_returns + 1e-18).all()
    assert dear.total_return < free.total_return
    traded_units = dear.turnover * dear.periods
    assert free.total_return - dear.total_return > 0
    assert (free.net_returns - dear.net_returns).sum() == pytest.approx(0.003 * traded_units)


def test_sharpe_and_sortino_without_variance_or_losses_are_nan():
    steady = backtest(_frame([("BTC", i, 1.0, 0.01) for i in range(5)]), fee_bps=0, slippage_bps=0)
    assert math.isnan(steady.sharpe) and math.isnan(steady.sortino)
    gains = backtest(_frame([("BTC", i, 1.0, 0.01 * (i + 1)) for i in range(5)]),
                     fee_bps=0, slippage_bps=0)
    assert gains.sharpe > 0 and math.isnan(gains.sortino)


@pytest.mark.parametrize(("step", "expected"), [
    (pd.Timedelta("1D"), 365.0),
    (pd.Timedelta("1h"), 8760.0),
    (pd.Timedelta("5min"), 105_120.0),
])
def test_periods_per_year_are_on_365_day_years_from_the_median_spacing(step, expected):
    bars = [0, 1, 2, 3, 5, 6, 7, 20]  # gaps do not move the median spacing
    frame = _frame([("BTC", b, 1.0, 0.001 * b) for b in bars], step=step)
    result = backtest(frame, fee_bps=0, slippage_bps=0)
    assert result.periods_per_year == pytest.approx(expected)
    assert SECONDS_PER_YEAR == 365 * 86_400


def test_periods_per_year_override_and_a_single_bar():
    single = _frame([("BTC", 0, 1.0, 0.01), ("ETH", 0, -1.0, 0.02)])
    result = backtest(single, fee_bps=0, slippage_bps=0)
    assert math.isnan(result.periods_per_year) and math.isnan(result.annual_return)
    assert result.total_return == pytest.approx((0.01 - 0.02) / 2)
    forced = backtest(single, fee_bps=0, slippage_bps=0, periods_per_year=365)
    assert forced.annual_return == pytest.approx((1 - 0.005) ** 365 - 1)
    assert bars_per_year(np.array([5, 5], dtype=np.int64)) != bars_per_year(np.array([0, 10**9]))


def test_losing_everything_annualises_to_minus_one():
    frame = _frame([("BTC", 0, 1.0, -1.0), ("BTC", 1, 1.0, 0.0)])
    result = backtest(frame, fee_bps=10, slippage_bps=0)
    assert result.total_return < -1.0
    assert result.annual_return == -1.0


def test_times_in_another_zone_are_read_as_utc():
    frame = _frame([("BTC", i, 1.0, 0.01) for i in range(3)])
    berlin = frame.assign(close_time=frame["close_time"].dt.tz_convert("Europe/Berlin"))
    result = backtest(berlin, fee_bps=0, slippage_bps=0)
    assert str(result.equity.index.tz) == "UTC"
    assert result.equity.index[0] == START


def test_millisecond_timestamps_like_gold_give_the_same_annualisation():
    frame = _frame([("BTC", i, 1.0, 0.01 * (-1) ** i) for i in range(6)])
    ms = frame.assign(close_time=frame["close_time"].dt.as_unit("ms"))
    assert backtest(ms, fee_bps=0, slippage_bps=0).periods_per_year == pytest.approx(8760)


def test_drawdown_helpers():
    equity = np.array([1.1, 0.99, 1.2, 0.6, 0.9])
    assert max_drawdown(equity) == pytest.approx(0.5)
    assert max_drawdown(np.array([0.9, 0.8])) == pytest.approx(0.2)  # the start is a peak
    assert max_drawdown(np.array([1.0, 1.5])) == 0.0
    index = pd.date_range(START, periods=5, freq="h")
    series = drawdown_series(pd.Series(equity, index=index))
    np.testing.assert_allclose(series.to_numpy(), [0, 0.1, 0, 0.5, 0.25])
    assert (series.index == index).all()


def test_metrics_are_named_for_the_registry():
    frame = _frame([("BTC", 0, 1.0, 0.01), ("BTC", 1, 0.0, 0.01)])
    named = backtest(frame, fee_bps=10, slippage_bps=0).metrics()
    assert named["totalReturn"] == pytest.approx((1 + 0.01 - 0.001) * (1 - 0.001) - 1)
    assert named["grossTotalReturn"] == pytest.approx(0.01)
    assert named["trades"] == 2.0
    assert {"sharpe", "sortino", "maxDrawdown", "hitRate", "turnover", "turnoverAnnual",
            "exposure", "meanAbsPosition", "annualReturn", "periods", "periodsPerYear"} <= set(named)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="position"), "lacks column"),
    (lambda f: f.iloc[0:0], "no rows"),
    (lambda f: f.assign(position=[1.0, math.nan, 0.0]), "NaN"),
    (lambda f: f.assign(position=[1.0, 1.5, 0.0]), r"\[-1, 1\]"),
    (lambda f: f.assign(position=["long", "short", "flat"]), "numeric"),
    (lambda f: f.assign(next_return=[0.0, math.inf, 0.0]), "infinite"),
    (lambda f: f.assign(close_time=f["close_time"].dt.tz_localize(None)), "timezone-aware"),
    (lambda f: f.assign(close_time=[START, pd.NaT, START]).astype({"close_time": "datetime64[ns, UTC]"}),
     "missing"),
    (lambda f: f.assign(close_time=[START, START, START + HOUR]), "twice"),
])
def test_bad_frames_are_rejected_with_a_reason(change, message):
    frame = _frame([("BTC", 0, 1.0, 0.01), ("BTC", 1, -1.0, 0.01), ("BTC", 2, 0.0, 0.01)])
    with pytest.raises(DataError, match=message):
        backtest(change(frame), fee_bps=1, slippage_bps=1)


@pytest.mark.parametrize("kwargs", [
    {"fee_bps": -1, "slippage_bps": 0},
    {"fee_bps": 1, "slippage_bps": math.nan},
    {"fee_bps": 1, "slippage_bps": 0, "periods_per_year": 0},
    {"fee_bps": 1, "slippage_bps": 0, "periods_per_year": math.inf},
])
def test_bad_costs_and_annualisation_are_rejected(kwargs):
    frame = _frame([("BTC", 0, 1.0, 0.01)])
    with pytest.raises(SpecError):
        backtest(frame, **kwargs)


def test_same_symbol_at_the_same_time_twice_is_caught_but_other_symbols_may_share_it():
    frame = _frame([("BTC", 0, 1.0, 0.01), ("ETH", 0, 1.0, 0.01)])
    assert backtest(frame, fee_bps=0, slippage_bps=0).periods == 1


class TestSignalPositions:
    def test_probabilities_go_long_above_and_short_below_the_band(self):
        pred = np.array([0.9, 0.56, 0.55, 0.5, 0.45, 0.44, 0.1, math.nan])
        np.testing.assert_array_equal(signal_positions(pred, "direction", band=0.05),
                                      [1, 1, 0, 0, 0, -1, -1, 0])
        np.testing.assert_array_equal(signal_positions(pred, "tripleBarrier"),
                                      [1, 1, 1, 0, -1, -1, -1, 0])

    def test_return_forecasts_use_the_sign_with_a_band(self):
        pred = [0.002, 0.0005, 0.0, -0.0005, -0.003]
        np.testing.assert_array_equal(signal_positions(pred, TargetKind.RETURN, band=0.001),
                                      [1, 0, 0, 0, -1])
        np.testing.assert_array_equal(signal_positions(pred, "return"), [1, 1, 0, -1, -1])

    def test_enum_kinds_and_long_only(self):
        pred = [0.8, 0.2]
        np.testing.assert_array_equal(signal_positions(pred, TargetKind.DIRECTION), [1, -1])
        np.testing.assert_array_equal(signal_positions(pred, "direction", long_only=True), [1, 0])

    @pytest.mark.parametrize(("kind", "band", "message"), [
        ("volatility", 0.0, "no trading direction"),
        ("direction", 0.5, "below 0.5"),
        ("return", -0.1, ">= 0"),
        ("return", math.nan, ">= 0"),
    ])
    def test_bad_kind_or_band(self, kind, band, message):
        with pytest.raises(SpecError, match=message):
            signal_positions([0.5], kind, band=band)


def test_aligned_returns_is_the_pbo_matrix_with_gaps_as_nan():
    early = backtest(_frame([("BTC", i, 1.0, 0.01 * i) for i in range(4)]), fee_bps=0, slippage_bps=0)
    late = backtest(_frame([("BTC", i, -1.0, 0.02) for i in range(2, 6)]), fee_bps=10, slippage_bps=0)
    matrix = aligned_returns({"a": early, "b": late})
    assert list(matrix.columns) == ["a", "b"]
    assert list(matrix.index) == [START + i * HOUR for i in range(6)]
    np.testing.assert_allclose(matrix["a"].to_numpy()[:4], early.net_returns.to_numpy())
    assert matrix["a"].iloc[4:].isna().all() and matrix["b"].iloc[:2].isna().all()
    gross = aligned_returns({"b": late, "raw": early.net_returns}, gross=True)
    np.testing.assert_allclose(gross["b"].dropna().to_numpy(), late.gross_returns.to_numpy())
    with pytest.raises(DataError, match="no trials"):
        aligned_returns({})
    twice = pd.concat([early.net_returns, early.net_returns])
    with pytest.raises(DataError, match="more than one return"):
        aligned_returns({"twice": twice})
