"""The gate (every criterion, NaN fails), the evaluation around it (baselines per target kind
incl. volatility persistence, DSR/PBO wiring) and the report's building blocks."""

from __future__ import annotations

import dataclasses
import io
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from small_jobs import small_prepared, small_spec

from mlta.registry import GateStatus
from mlta.specs.trainingjob import GateSpec, TargetKind
from mlta.training import metrics as m
from mlta.training.baselines import Evaluation, evaluate_positions
from mlta.training.evaluate import (
    PBO_SPLITS,
    SelectionBias,
    baselines_on,
    baselines_report,
    persistence_baselines,
    selection_bias,
)
from mlta.training.gate import comparison_metric, evaluate_gate
from mlta.training.report import _json_safe, prefixed, trials_table
from mlta.training.scoring import trade_frame
from mlta.training.stats import deflated_sharpe_ratio
from mlta.training.tuning.search import TrialRow


def _evaluation(name: str, drift: float, scores: dict[str, float] | None = None) -> Evaluation:
    """A backtested strategy on generated rows: long with prob. 0.5 + drift where the next
    bar rises (so drift sets its skill)."""
    data = small_prepared()
    rows = data.layout.lockbox.test
    rng = np.random.default_rng(sum(name.encode()))  # str hash() differs per process
    up = np.nan_to_num(data.next_return[rows]) > 0
    right = rng.random(rows.size) < 0.5 + drift
    position = np.where(right == up, 1.0, -1.0)
    return evaluate_positions(name, trade_frame(data, rows), position, fee_bps=0.0,
                              slippage_bps=0.0, scores=scores or {})


def _bias(dsr: float | None = None, pbo: float | None = None) -> SelectionBias:
    bias = SelectionBias()
    if dsr is not None:
        real = deflated_sharpe_ratio(np.random.default_rng(0).normal(0.01, 0.1, 200), [0.1, 0.05])
        bias.dsr = dataclasses.replace(real, dsr=dsr)
    if pbo is not None:
        from mlta.training.pbo import pbo_cscv

        real_pbo = pbo_cscv(np.random.default_rng(0).normal(size=(160, 4)), n_splits=8)
        bias.pbo = dataclasses.replace(real_pbo, pbo=pbo)
    return bias


GOOD = {"auc": 0.6, "correlation": 0.2, "sharpe": 1.5, "maxDrawdown": 0.1}

#: (criterion, threshold, lockbox figures, bias, passes, reason fragment)
CRITERIA: list[tuple[str, float, dict[str, float], dict[str, float | None], bool, str]] = [
    ("minLockboxAuc", 0.55, GOOD, {}, True, ""),
    ("minLockboxAuc", 0.65, GOOD, {}, False, "lockbox AUC is 0.6, the gate needs >= 0.65"),
    ("minLockboxAuc", 0.55, {**GOOD, "auc": math.nan}, {}, False, "lockbox AUC is undefined"),
    ("minLockboxAuc", 0.55, {}, {}, False, "lockbox AUC is undefined"),
    ("minLockboxAuc", 0.6, GOOD, {}, True, ""),  # at the threshold passes
    ("minLockboxCorrelation", 0.1, GOOD, {}, True, ""),
    ("minLockboxCorrelation", 0.3, GOOD, {}, False, "lockbox correlation is 0.2"),
    ("minNetSharpe", 1.0, GOOD, {}, True, ""),
    ("minNetSharpe", 2.0, GOOD, {}, False, "lockbox net Sharpe is 1.5, the gate needs >= 2"),
    ("minNetSharpe", -1.0, {**GOOD, "sharpe": math.nan}, {}, False, "net Sharpe is undefined"),
    ("maxDrawdown", 0.2, GOOD, {}, True, ""),
    ("maxDrawdown", 0.05, GOOD, {}, False, "lockbox max drawdown is 0.1, the gate needs <= 0.05"),
    ("maxDrawdown", 0.2, {**GOOD, "maxDrawdown": math.nan}, {}, False, "drawdown is undefined"),
    ("minDeflatedSharpe", 0.9, GOOD, {"dsr": 0.95}, True, ""),
    ("minDeflatedSharpe", 0.9, GOOD, {"dsr": 0.5}, False, "Deflated Sharpe Ratio is 0.5"),
    ("minDeflatedSharpe", 0.9, GOOD, {"dsr": math.nan}, False, "Deflated Sharpe Ratio is undefined"),
    ("minDeflatedSharpe", 0.9, GOOD, {}, False, "Deflated Sharpe Ratio is undefined"),
    ("maxPbo", 0.3, GOOD, {"pbo": 0.1}, True, ""),
    ("maxPbo", 0.3, GOOD, {"pbo": 0.6}, False, "Probability of Backtest Overfitting is 0.6"),
    ("maxPbo", 0.3, GOOD, {}, False, "Probability of Backtest Overfitting is undefined"),
]


@pytest.mark.parametrize(("criterion", "threshold", "lockbox", "bias", "passes", "reason"),
                         CRITERIA)
def test_each_criterion_passes_fails_and_fails_when_undefined(
        criterion: str, threshold: float, lockbox: dict[str, float],
        bias: dict[str, float | None], passes: bool, reason: str) -> None:
    gate = GateSpec.model_validate({criterion: threshold, "beatBaselines": False})
    model = _evaluation("model", 0.1)
    info = evaluate_gate(gate, TargetKind.DIRECTION, lockbox, model, [], _bias(**bias))
    assert list(info.checks) == [criterion]
    check = info.checks[criterion]
    assert check["passed"] is passes and check["threshold"] == threshold
    assert info.status is (GateStatus.PASSED if passes else GateStatus.FAILED)
    if passes:
        assert info.reasons == []
    else:
        (text,) = info.reasons
        assert reason in text
        if "undefined" in reason:
            assert check["value"] is None


def test_no_criterion_set_passes_and_every_failure_is_listed() -> None:
    model = _evaluation("model", 0.1)
    empty = evaluate_gate(GateSpec(beat_baselines=False), TargetKind.DIRECTION, {}, model, [],
                          SelectionBias())
    assert empty.status is GateStatus.PASSED and empty.checks == {}
    strict = GateSpec(min_lockbox_auc=0.9, min_net_sharpe=5, max_pbo=0.01, beat_baselines=False)
    info = evaluate_gate(strict, TargetKind.DIRECTION, GOOD, model, [], _bias(pbo=0.5))
    assert info.status is GateStatus.FAILED and len(info.reasons) == 3
    assert set(info.checks) == {"minLockboxAuc", "minNetSharpe", "maxPbo"}


@pytest.mark.parametrize(("kind", "metric"), [
    ("direction", "auc"), ("tripleBarrier", "auc"), ("return", "correlation"),
    ("volatility", "rmse")])
def test_baselines_are_compared_on_the_targets_own_score(kind: str, metric: str) -> None:
    assert comparison_metric(TargetKind(kind)) == metric


def test_beating_the_baselines_is_a_criterion() -> None:
    gate = GateSpec()  # beatBaselines defaults to on
    skilled = _evaluation("model", 0.25, {"auc": 0.7})
    weak = [_evaluation("flat", -0.2, {"auc": 0.5}), _evaluation("buy_and_hold", -0.1)]
    ok = evaluate_gate(gate, TargetKind.DIRECTION, {}, skilled, weak, SelectionBias())
    assert ok.status is GateStatus.PASSED and ok.checks["beatBaselines"]["passed"] is True
    strong = [_evaluation("momentum_3", 0.4, {"auc": 0.8})]
    lost = evaluate_gate(gate, TargetKind.DIRECTION, {}, skilled, strong, SelectionBias())
    assert lost.status is GateStatus.FAILED and lost.checks["beatBaselines"]["value"] is False
    assert all(r.startswith("lockbox: ") for r in lost.reasons)
    assert any("momentum_3" in r and "auc" in r for r in lost.reasons)
    assert any("net Sharpe" in r for r in lost.reasons)


def test_a_volatility_model_is_gated_on_rmse_against_persistence() -> None:
    model = Evaluation("model", None, {"rmse": 0.01})
    better = [Evaluation("persistence", None, {"rmse": 0.02})]
    worse = [Evaluation("persistence", None, {"rmse": 0.005})]
    assert evaluate_gate(GateSpec(), TargetKind.VOLATILITY, {}, model, better,
                         SelectionBias()).status is GateStatus.PASSED
    info = evaluate_gate(GateSpec(), TargetKind.VOLATILITY, {}, model, worse, SelectionBias())
    assert info.status is GateStatus.FAILED and "persistence" in info.reasons[0]


# --- baselines per kind ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["direction", "tripleBarrier", "return"])
def test_tradable_targets_get_the_naive_baselines(kind: str) -> None:
    spec = small_spec(target={"kind": kind, "barrier": {"upper": 0.7, "lower": 0.7,
                                                        "volWindow": 20}})
    data = small_prepared(spec)
    fold = data.layout.folds[0]
    names = [e.name for e in baselines_on(data, fold.train, fold.test, spec)]
    assert names == ["buy_and_hold", "flat", "momentum_3"]
    flat = baselines_on(data, fold.train, fold.test, spec)[1]
    expected_scores = {"auc", "accuracy", "logLoss"} if kind != "return" else {
        "rmse", "mae", "correlation"}
    assert set(flat.scores) == expected_scores
    table, lockbox = baselines_report(data, spec)
    assert list(table) == names and [e.name for e in lockbox] == names
    for entry in table.values():
        assert {"sharpe", "totalReturn"} <= entry["lockbox"].keys() and entry["cv"]


def test_volatility_baselines_are_persistence_and_the_training_mean() -> None:
    spec = small_spec(target={"kind": "volatility", "horizon": 4})
    data = small_prepared(spec)
    fold = data.layout.folds[1]
    persistence, mean = baselines_on(data, fold.train, fold.test, spec)
    assert (persistence.name, mean.name) == ("persistence", "training_mean")
    assert persistence.backtest is None and mean.backtest is None
    # persistence: the realized volatility of the last 4 bars, known at the bar (causal)
    test = fold.test[data.labelled[fold.test]]
    trailing = []
    for row in test:
        same = np.flatnonzero(data.symbols == data.symbols[row])
        at = int(np.searchsorted(same, row))
        closes = data.close[same[at - 4:at + 1]]
        trailing.append(np.sqrt(np.sum(np.diff(np.log(closes)) ** 2)))
    expected = m.regression_metrics(data.y[test], np.array(trailing))
    assert persistence.scores == pytest.approx(expected, rel=1e-9)
    train_mean = np.nanmean(data.y[fold.train])
    assert mean.scores == pytest.approx(
        m.regression_metrics(data.y[test], np.full(test.size, train_mean)), nan_ok=True)


def test_persistence_is_undefined_during_its_warm_up() -> None:
    """The first ``horizon`` bars of a symbol have too short a past: they are left out."""
    spec = small_spec(target={"kind": "volatility", "horizon": 4})
    data = small_prepared(spec)
    first = np.flatnonzero(data.symbols == data.symbols[0])[:6]
    (persistence, _) = persistence_baselines(data, first, first, 4)
    logs = np.log(data.close[first])
    forecast = [np.sqrt(np.sum(np.diff(logs[t - 4:t + 1]) ** 2)) for t in (4, 5)]
    expected = m.regression_metrics(data.y[first[4:]], np.array(forecast))
    assert persistence.scores == pytest.approx(expected, rel=1e-9)


# --- DSR and PBO wiring ------------------------------------------------------------------------


def _returns(n: int, drift: float, seed: int) -> pd.Series:
    index = pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")
    return pd.Series(np.random.default_rng(seed).normal(drift, 0.01, n), index=index)


def test_selection_bias_deflates_the_chosen_against_every_trial() -> None:
    trials = {f"t{i}": _returns(400, 0.0005 * i, i) for i in range(5)}
    chosen = trials["t4"]
    bias = selection_bias(trials, chosen, n_trials=7)
    assert bias.dsr is not None and bias.dsr.n_trials == 7 and bias.dsr.n_obs == 400
    sharpes = [s.mean() / s.std(ddof=1) for s in trials.values()]
    np.testing.assert_allclose(list(bias.trial_sharpes.values()), sharpes, rtol=1e-9)
    assert bias.dsr.dsr == pytest.approx(
        deflated_sharpe_ratio(chosen.to_numpy(), sharpes, n_trials=7).dsr)
    assert bias.pbo is not None and bias.pbo.n_splits == PBO_SPLITS and bias.pbo.n_trials == 5
    assert set(bias.to_dict()) == {"deflatedSharpe", "pbo"}


def test_short_searches_use_fewer_pbo_blocks_or_none() -> None:
    short = {f"t{i}": _returns(60, 0.0, i) for i in range(3)}
    bias = selection_bias(short, short["t0"], 3)
    assert bias.pbo is not None and bias.pbo.n_splits == 6
    tiny = {f"t{i}": _returns(1, 0.0, i) for i in range(3)}
    assert selection_bias(tiny, tiny["t0"], 3).pbo is None
    assert selection_bias({}, None, 0).to_dict() == {}
    assert selection_bias(short, None, 3).dsr is None


# --- report pieces -----------------------------------------------------------------------------


def test_prefixed_keeps_finite_numbers_only() -> None:
    assert prefixed("cv", {"auc": 0.6, "logLoss": math.nan, "trades": 3, "x": "text"}) == {
        "cvAuc": 0.6, "cvTrades": 3.0}


def test_the_trial_table_is_parquet_with_a_row_per_trial() -> None:
    rows = [TrialRow("trial_00000", "k0", "lightgbm", {"num_leaves": 7}, "completed", 20, 10,
                     0.55, {"auc": 0.55, "sharpe": 1.0}, 1.5),
            TrialRow("trial_00001", "k1", "xgboost", {}, "failed", 0, None, None, {}, 0.1,
                     error="TrainingError: boom")]
    table = pq.read_table(io.BytesIO(trials_table(rows))).to_pylist()
    assert [r["trial_id"] for r in table] == ["trial_00000", "trial_00001"]
    assert table[0]["params"] == '{"num_leaves": 7}' and table[0]["cv_auc"] == 0.55
    assert table[1]["cv_sharpe"] is None and table[1]["error"] == "TrainingError: boom"
    assert table[1]["best_rounds"] is None and table[1]["status"] == "failed"


def test_json_safe_turns_nan_and_numpy_into_plain_json() -> None:
    raw: dict[Any, Any] = {"a": math.nan, 1: [np.float64(0.5), np.int64(3), (math.inf, "s")],
                           "b": {"c": np.float32(2.0)}, "d": b"x"}
    assert _json_safe(raw) == {"a": None, "1": [0.5, 3, [None, "s"]], "b": {"c": 2.0}, "d": b"x"}
    assert type(_json_safe(np.int64(3))) is int
