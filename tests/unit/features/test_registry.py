"""Registry metadata, parameter validation, warm-up lengths and NaN / short-series handling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import SpecError
from mlta.features import registry
from mlta.features.registry import CATEGORIES, PRICE_INPUTS, Indicator, get, list_indicators
from mlta.specs.datapipeline import default_indicators

from .conftest import generated_candles

INDICATORS = list_indicators()


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in PRICE_INPUTS}


def test_defaults_and_catalogue_are_registered() -> None:
    for spec in default_indicators():
        assert get(spec.name).name == spec.name
    assert len(INDICATORS) >= 50
    assert {i.category for i in INDICATORS} == set(CATEGORIES)
    assert [i.name for i in list_indicators("momentum")] == sorted(
        i.name for i in INDICATORS if i.category == "momentum")


def test_metadata_is_consistent() -> None:
    for ind in INDICATORS:
        assert ind.inputs and set(ind.inputs) <= set(PRICE_INPUTS), ind.name
        assert ind.outputs and len(set(ind.outputs)) == len(ind.outputs), ind.name
        for p in ind.params:
            assert p.low <= p.default <= p.high, (ind.name, p.name)
        names = ind.column_names()
        assert len(names) == len(ind.outputs) and all(n.startswith("f_") for n in names)


def test_column_names_are_deterministic() -> None:
    assert get("rsi").column_names({"window": 14.0}) == ["f_rsi_14"]
    assert get("rsi").column_names() == ["f_rsi_14"]
    assert get("bollinger_pctb").column_names({"window": 20, "k": 2}) == ["f_bollinger_pctb_20_2"]
    assert get("bbands").column_names({"k": 2.5}) == [
        "f_bbands_upper_20_2p5", "f_bbands_middle_20_2p5", "f_bbands_lower_20_2p5"]
    assert get("macd").column_names() == [
        "f_macd_12_26_9", "f_macd_signal_12_26_9", "f_macd_hist_12_26_9"]
    assert get("obv").column_names() == ["f_obv"]


def test_unknown_indicator_lists_known_names() -> None:
    with pytest.raises(SpecError, match="unknown indicator 'rsx'") as err:
        get("rsx")
    assert "rsi" in str(err.value)


@pytest.mark.parametrize(("name", "params", "fragment"), [
    ("rsi", {"window": 0}, "parameter 'window' must be an integer in [2, 100000]"),
    ("rsi", {"window": -3}, "got -3"),
    ("rsi", {"window": 14.5}, "an integer"),
    ("rsi", {"window": float("nan")}, "'window'"),
    ("sma", {"window": 1e9}, "[2, 100000]"),
    ("bbands", {"k": 0.0}, "parameter 'k' must be a number in [0.01, 100]"),
    ("rsi", {"period": 14}, "has no parameter 'period'"),
    ("macd", {"fast": 30, "slow": 26}, "'fast' (30) must be below 'slow' (26)"),
])
def test_bad_parameters_name_indicator_param_and_range(
    name: str, params: dict[str, float], fragment: str
) -> None:
    with pytest.raises(SpecError) as err:
        get(name).resolve(params)
    text = str(err.value)
    assert name in text and fragment in text


def test_validation_happens_before_any_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: str) -> None:
        raise AssertionError(f"kernel {path} resolved for an invalid spec")

    monkeypatch.setattr(registry, "_resolve_kernel", refuse)
    with pytest.raises(SpecError):
        get("atr").compute(_data(generated_candles(50)), {"window": 0})


def _param_sets(ind: Indicator) -> list[dict[str, float]]:
    sets: list[dict[str, float]] = [{}]
    small = {p.name: p.low + (1 if p.integer and p.name != "slow" else 0) for p in ind.params}
    try:
        ind.resolve(small)
        sets.append(small)
    except SpecError:
        pass
    return sets


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.name)
def test_warmup_matches_lookback_and_no_nan_after(ind: Indicator) -> None:
    data = _data(generated_candles(800, seed=3))
    for params in _param_sets(ind):
        warm = ind.warmup(params)
        out = ind.compute(data, params)
        for output, values in out.items():
            assert values.dtype == np.float64
            assert np.isnan(values[:warm]).all(), (ind.name, output, params)
            assert np.isfinite(values[warm:]).all(), (
                ind.name, output, params, np.flatnonzero(~np.isfinite(values[warm:]))[:5] + warm)


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.name)
def test_short_and_empty_series_are_all_nan(ind: Indicator) -> None:
    data = _data(generated_candles(200, seed=5))
    warm = ind.warmup()
    for n in sorted({0, 1, 2, max(warm - 1, 0), warm}):
        if n > warm:
            continue
        out = ind.compute({k: v[:n] for k, v in data.items()})
        for output, values in out.items():
            assert values.shape == (n,)
            assert np.isnan(values).all(), (ind.name, output, n)


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.name)
def test_nan_rows_stay_nan_and_indicator_rewarms(ind: Indicator) -> None:
    data = _data(generated_candles(600, seed=9))
    warm = ind.warmup()
    gap = 300
    for column in ind.inputs:
        broken = {k: v.copy() for k, v in data.items()}
        broken[column][gap] = np.nan
        out = ind.compute(broken)
        after = ind.compute({k: v[gap + 1:] for k, v in data.items()})
        before = ind.compute({k: v[:gap] for k, v in data.items()})
        for output, values in out.items():
            assert np.isnan(values[gap]), (ind.name, output, column)
            np.testing.assert_array_equal(values[:gap], before[output])
            np.testing.assert_array_equal(values[gap + 1:], after[output])
            assert np.isfinite(values[gap + 1 + warm:]).all()


def test_all_nan_input_is_all_nan() -> None:
    data = {c: np.full(100, np.nan) for c in PRICE_INPUTS}
    for ind in INDICATORS:
        for values in ind.compute(data).values():
            assert np.isnan(values).all(), ind.name
