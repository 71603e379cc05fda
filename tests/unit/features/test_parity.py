"""Every indicator against TA-Lib (1e-9) or an independent pandas/numpy formula."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import Indicator, list_indicators

from .reference import NUMPY, TALIB

INDICATORS = list_indicators()
NAMES = [i.name for i in INDICATORS]
# Non-default parameters as well, so a kernel that ignores a parameter is caught.
ALT_PARAMS: dict[str, dict[str, float]] = {
    "macd": {"fast": 5, "slow": 35, "signal": 5},
    "stoch": {"fastk": 5, "slowk": 4, "slowd": 2},
    "stochf": {"fastk": 9, "fastd": 4},
    "bbands": {"window": 10, "k": 1.5},
    "bollinger_pctb": {"window": 10, "k": 2.5},
    "keltner": {"window": 10, "k": 1.5},
    "adosc": {"fast": 5, "slow": 21},
    "stddev": {"window": 7, "k": 2.0},
}


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


def _param_sets(ind: Indicator) -> list[dict[str, float]]:
    sets: list[dict[str, float]] = [{}]
    if ind.name in ALT_PARAMS:
        sets.append(ALT_PARAMS[ind.name])
    elif any(p.name == "window" for p in ind.params):
        sets.append({"window": 5})
    return sets


def _compare(ind: Indicator, data: dict[str, np.ndarray], params: dict[str, float],
             rtol: float, atol: float, reference_table: dict[str, Any] | None = None) -> None:
    resolved = ind.resolve(params)
    ours = ind.compute(data, resolved)
    table = reference_table if reference_table is not None else (
        TALIB if ind.name in TALIB else NUMPY)
    reference = table[ind.name](data, resolved)
    assert len(reference) == len(ind.outputs)
    for output, expected in zip(ind.outputs, reference, strict=True):
        got = ours[output]
        expected = np.asarray(expected, dtype=np.float64)
        assert np.array_equal(np.isnan(got), np.isnan(expected)), (
            f"{ind.name}.{output} {resolved}: NaN pattern differs, first valid "
            f"{np.argmax(~np.isnan(got))} vs {np.argmax(~np.isnan(expected))}")
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol,
                                   err_msg=f"{ind.name}.{output} {resolved}")


def test_every_indicator_has_a_reference() -> None:
    missing = [n for n in NAMES if n not in TALIB and n not in NUMPY]
    assert not missing, f"indicators without a reference test: {missing}"
    for ind in INDICATORS:
        if ind.talib:
            assert ind.name in TALIB, f"{ind.name} declares TA-Lib {ind.talib} but is not compared"


@pytest.mark.parametrize("name", [n for n in NAMES if n in TALIB])
def test_matches_talib_on_generated(name: str, candles: pd.DataFrame) -> None:
    pytest.importorskip("talib")
    ind = next(i for i in INDICATORS if i.name == name)
    for params in _param_sets(ind):
        _compare(ind, _data(candles), params, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", [n for n in NAMES if n in TALIB])
def test_matches_talib_on_recorded(name: str, recorded: dict[str, pd.DataFrame]) -> None:
    """Prices are scaled to around 100 by a power of two (exact, so equal prices stay equal):
    TA-Lib treats values below 1e-14 as zero (and MFI flows below 1.0), which BTC-quoted
    prices near 1e-5 hit; the kernels deliberately do not."""
    pytest.importorskip("talib")
    ind = next(i for i in INDICATORS if i.name == name)
    for frame in recorded.values():
        data = _data(frame)
        scale = 2.0 ** round(np.log2(100.0 / float(np.median(data["close"]))))
        for column in ("open", "high", "low", "close"):
            data[column] = data[column] * scale
        atol = 1e-9
        if name == "adosc":
            # a difference of two EMAs of a cumulative line: round-off scales with the line
            atol = 1e-12 * float(np.max(np.abs(np.cumsum(data["volume"]))))
        if name in ("stddev", "var"):
            # TA-Lib's E[x^2] - E[x]^2 cancels (about 1e-12 absolute on prices near 100);
            # the exact two-pass comparison is test_variance_family_is_exact
            atol = 1e-8
        _compare(ind, data, {}, rtol=1e-9, atol=atol)


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_matches_numpy_reference(name: str, candles: pd.DataFrame) -> None:
    ind = next(i for i in INDICATORS if i.name == name)
    for params in _param_sets(ind):
        _compare(ind, _data(candles), params, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["stddev", "var", "bbands", "zscore"])
def test_variance_family_is_exact(name: str, recorded: dict[str, pd.DataFrame]) -> None:
    """Rolling variance agrees with a two-pass numpy std to 1e-12 relative, flat windows too."""
    ind = next(i for i in INDICATORS if i.name == name)
    w = int(ind.resolve({})["window"])
    for frame in recorded.values():
        close = frame["close"].to_numpy(dtype=np.float64)
        windows = np.lib.stride_tricks.sliding_window_view(close, w)
        std = np.full(close.size, np.nan)
        std[w - 1:] = windows.std(axis=1)
        mean = np.full(close.size, np.nan)
        mean[w - 1:] = windows.mean(axis=1)
        out = ind.compute({"close": close})
        if name == "stddev":
            got, expected = out["stddev"], std
        elif name == "var":
            got, expected = out["var"], std**2
        elif name == "bbands":
            got, expected = (out["upper"] - out["middle"]) / 2.0, std
        else:
            z = np.where(std > 0, (close - mean) / np.where(std > 0, std, 1.0), 0.0)
            got, expected = out["zscore"], np.where(np.isnan(std), np.nan, z)
            # a window that is flat up to round-off has an undefined z-score
            keep = ~(std < 1e-9 * np.abs(mean))
            got, expected = got[keep], expected[keep]
        atol = 1e-9 if name == "zscore" else 1e-12 * float(np.max(close))
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=atol)
