"""Naive baselines on the model's rows and costs, and the rule for beating them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from gold_frames import make_gold_frame

from mlta.errors import DataError, SpecError
from mlta.specs.trainingjob import TargetKind
from mlta.training.backtest import backtest, signal_positions
from mlta.training.baselines import (
    BaselineVerdict,
    Evaluation,
    beats_baselines,
    buy_and_hold,
    evaluate_positions,
    flat,
    majority_class_scores,
    momentum,
    momentum_positions,
    naive_baselines,
    zero_return_scores,
)

COSTS = {"fee_bps": 10.0, "slippage_bps": 5.0}


def _gold(bars: int = 240, seed: int = 7) -> pd.DataFrame:
    frame = make_gold_frame(bars=bars, seed=seed)
    return frame.assign(
        next_return=frame.groupby("symbol")["close"].shift(-1) / frame["close"] - 1.0
    )


def test_buy_and_hold_pays_one_entry_and_one_exit():
    frame = _gold().query("symbol == 'BTCUSDT'").reset_index(drop=True)
    result = buy_and_hold(frame, **COSTS).backtest
    returns = frame["next_return"].fillna(0.0).to_numpy()
    net = returns.copy()
    net[0] -= 0.0015
    net[-1] -= 0.0015
    assert result.total_return == pytest.approx(np.prod(1 + net) - 1, rel=1e-12)
    assert result.trades == 2 and result.exposure == 1.0
    market = frame["close"].iloc[-1] / frame["close"].iloc[0] - 1
    assert result.metrics()["grossTotalReturn"] == pytest.approx(market, rel=1e-9)


def test_flat_never_trades_and_scores_the_majority_class():
    frame = _gold()
    train = np.r_[np.ones(70), np.zeros(30), [np.nan]]
    test = np.r_[np.ones(40), np.zeros(60), [np.nan, np.nan]]
    result = flat(frame, kind=TargetKind.DIRECTION, train_labels=train, test_labels=test, **COSTS)
    assert result.name == "flat"
    assert result.backtest.total_return == 0.0 and result.backtest.trades == 0
    assert result.scores["auc"] == 0.5
    assert result.scores["accuracy"] == pytest.approx(0.4)  # the test share of class 1
    expected_loss = -(0.4 * math.log(0.7) + 0.6 * math.log(0.3))
    assert result.scores["logLoss"] == pytest.approx(expected_loss)
    assert result.summary()["auc"] == 0.5 and result.summary()["totalReturn"] == 0.0


def test_majority_tie_predicts_class_zero_and_one_class_tests_have_no_auc():
    scores = majority_class_scores([1, 0, 1, 0], [0, 0, 0, 1])
    assert scores["accuracy"] == pytest.approx(0.75)
    assert math.isnan(majority_class_scores([1, 1, 0], [1, 1])["auc"])


def test_zero_return_forecast_scores():
    y = np.array([0.01, -0.02, 0.005, np.nan])
    scores = zero_return_scores(y)
    assert scores["rmse"] == pytest.approx(math.sqrt((0.01**2 + 0.02**2 + 0.005**2) / 3))
    assert scores["mae"] == pytest.approx(0.035 / 3)
    assert math.isnan(scores["correlation"])
    result = flat(_gold(), kind="return", test_labels=y, **COSTS)
    assert result.scores == scores


def test_flat_without_labels_has_no_scores_and_bad_labels_are_rejected():
    assert dict(flat(_gold(), **COSTS).scores) == {}
    with pytest.raises(DataError, match="training labels"):
        flat(_gold(), kind="direction", test_labels=[1, 0], **COSTS)
    with pytest.raises(DataError, match="no labelled rows"):
        majority_class_scores([np.nan], [1.0])


def _momentum_by_loop(frame: pd.DataFrame, lookback: int) -> np.ndarray:
    out = np.zeros(len(frame))
    for symbol in frame["symbol"].unique():
        rows = np.flatnonzero(frame["symbol"].to_numpy() == symbol)
        rows = rows[np.argsort(frame["close_time"].to_numpy()[rows], kind="stable")]
        close = frame["close"].to_numpy()[rows]
        for k in range(lookback, len(rows)):
            out[rows[k]] = np.sign(close[k] / close[k - lookback] - 1.0)
    return out


def test_momentum_is_the_sign_of_the_trailing_return_per_symbol():
    frame = _gold().sample(frac=1.0, random_state=3)  # any row order
    positions = momentum_positions(frame, 12)
    np.testing.assert_array_equal(positions, _momentum_by_loop(frame, 12))
    assert set(np.unique(positions)) <= {-1.0, 0.0, 1.0}
    result = momentum(frame, lookback=12, **COSTS)
    assert result.name == "momentum_12"
    expected = backtest(frame[["symbol", "close_time", "next_return"]].assign(position=positions), **COSTS)
    assert result.backtest.total_return == pytest.approx(expected.total_return, rel=1e-12)


def test_momentum_is_causal():
    frame = _gold(bars=200)
    full = momentum_positions(frame, 8)
    cut = frame["close_time"] <= frame["close_time"].sort_values().iloc[len(frame) // 3]
    early = frame[cut]
    np.testing.assert_array_equal(momentum_positions(early, 8), full[cut.to_numpy()])


def test_warmup_rows_seed_the_lookback_without_being_evaluated():
    frame = _gold(bars=120)
    start = frame["close_time"].sort_values().unique()[60]
    history, evaluated = frame[frame["close_time"] < start], frame[frame["close_time"] >= start]
    cold = momentum_positions(evaluated, 10)
    warm = momentum_positions(evaluated, 10, warmup=history)
    assert (cold[:10] == 0).all()
    full = momentum_positions(frame, 10)
    np.testing.assert_array_equal(warm, full[(frame["close_time"] >= start).to_numpy()])
    other = history.assign(symbol="DOGEUSDT")  # rows of symbols not evaluated are ignored
    np.testing.assert_array_equal(momentum_positions(evaluated, 10, warmup=other), cold)
    with pytest.raises(DataError, match="overlap"):
        momentum_positions(evaluated, 10, warmup=frame)


@pytest.mark.parametrize("lookback", [0, -3, 2.5, True])
def test_momentum_lookback_must_be_whole_bars(lookback):
    with pytest.raises(SpecError, match="lookback"):
        momentum_positions(_gold(), lookback)


def test_momentum_needs_closes():
    with pytest.raises(DataError, match="close"):
        momentum_positions(_gold().drop(columns="close"), 5)
    with pytest.raises(DataError, match="warmup lacks"):
        momentum_positions(_gold(), 5, warmup=_gold()[["symbol", "close_time"]])


def test_naive_baselines_share_rows_and_costs():
    frame = _gold()
    labels = (frame["next_return"] > 0).astype(float).where(frame["next_return"].notna())
    found = naive_baselines(frame, kind="direction", train_labels=labels, test_labels=labels,
                            lookback=6, **COSTS)
    assert [b.name for b in found] == ["buy_and_hold", "flat", "momentum_6"]
    assert len({b.backtest.periods for b in found}) == 1
    assert {b.backtest.cost_per_unit for b in found} == {0.0015}
    assert found[1].scores["auc"] == 0.5


def test_evaluate_positions_checks_alignment():
    with pytest.raises(DataError, match="one position per row"):
        evaluate_positions("model", _gold(), np.zeros(3), **COSTS)


def _evaluation(name: str, sharpe_shift: float, scores: dict[str, float] | None = None) -> Evaluation:
    frame = _gold()
    positions = signal_positions(frame["f_state"].fillna(0.0) + sharpe_shift, "return")
    return evaluate_positions(name, frame, positions, scores=scores, **COSTS)


class TestBeatsBaselines:
    def test_a_model_with_an_edge_beats_every_naive_baseline(self):
        frame = _gold()
        model = _evaluation("model", 0.0, {"auc": 0.61, "logLoss": 0.66})
        baselines = naive_baselines(
            frame, kind="direction", train_labels=[1, 0, 1], test_labels=[1, 0, 0, 1], **COSTS)
        verdict = beats_baselines(model, baselines, "auc")
        assert verdict == BaselineVerdict(passed=True, reasons=())
        assert beats_baselines(model, baselines, "logLoss").passed  # lower is better

    def test_losing_to_buy_and_hold_names_it(self):
        rng = np.random.default_rng(1)
        times = pd.date_range("2024-01-01", periods=300, freq="h", tz="UTC")
        rising = pd.DataFrame({"symbol": "BTCUSDT", "close_time": times,
                               "next_return": 0.002 + rng.normal(0, 0.004, 300)})
        always_short = evaluate_positions("model", rising, -np.ones(300), **COSTS)
        hold = buy_and_hold(rising, **COSTS)
        verdict = beats_baselines(always_short, [hold])
        assert not verdict.passed
        assert verdict.reasons == (
            f"net Sharpe {always_short.backtest.sharpe:.4g} does not beat buy_and_hold's "
            f"{hold.backtest.sharpe:.4g}",
            f"net total return {always_short.backtest.total_return:.4g} does not beat "
            f"buy_and_hold's {hold.backtest.total_return:.4g}",
        )

    def test_must_make_money_to_beat_flat(self):
        frame = _gold()
        losing = evaluate_positions("model", frame, np.tile([1.0, -1.0], len(frame) // 2), **COSTS)
        verdict = beats_baselines(losing, [flat(frame, **COSTS)])
        assert losing.backtest.total_return < 0
        assert not verdict.passed
        total = losing.backtest.total_return
        assert verdict.reasons == (f"net total return {total:.4g} does not beat flat's 0",)

    def test_a_model_that_never_trades_cannot_pass(self):
        frame = _gold()
        idle = evaluate_positions("model", frame, np.zeros(len(frame)), **COSTS)
        verdict = beats_baselines(idle, [flat(frame, **COSTS)])
        assert not verdict.passed and "model: net Sharpe is undefined" in verdict.reasons

    def test_scores_must_beat_chance_and_every_baseline(self):
        model = _evaluation("model", 0.0, {"auc": 0.5, "logLoss": 0.7})
        rival = _evaluation("rival", 10.0, {"auc": 0.45, "logLoss": 0.69})
        verdict = beats_baselines(model, [rival], "auc")
        assert "auc 0.5 does not beat chance's 0.5" in verdict.reasons
        lost = beats_baselines(model, [rival], "logLoss").reasons[-1]
        assert lost == "logLoss 0.7 does not beat rival's 0.69"
        missing = beats_baselines(_evaluation("model", 0.0), [rival], "auc")
        assert "model: auc is undefined" in missing.reasons


def test_recorded_candles_buy_and_hold_earns_the_price_move(candles_dir):
    raw = pd.read_feather(candles_dir / "ETH_BTC-5m.feather")
    frame = pd.DataFrame({"symbol": "ETHBTC", "close_time": raw["date"] + pd.Timedelta("5min"),
                          "close": raw["close"]})
    frame["next_return"] = frame["close"].shift(-1) / frame["close"] - 1.0
    hold = buy_and_hold(frame, **COSTS).backtest
    assert hold.periods_per_year == pytest.approx(365 * 288)
    market = frame["close"].iloc[-1] / frame["close"].iloc[0] - 1.0
    assert hold.metrics()["grossTotalReturn"] == pytest.approx(market, rel=1e-9)
    assert hold.total_return < hold.metrics()["grossTotalReturn"]
    trend = momentum(frame, lookback=48, **COSTS).backtest
    assert trend.trades > 10 and math.isfinite(trend.sharpe) and 0 < trend.exposure <= 1


def test_a_numpy_lookback_is_whole_bars():
    frame = _gold()
    np.testing.assert_array_equal(momentum_positions(frame, np.int64(6)), momentum_positions(frame, 6))
