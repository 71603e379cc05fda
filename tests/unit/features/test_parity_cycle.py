"""Checks that keep the parity of the Hilbert-transform family meaningful (the generic tests
in test_parity / test_streaming_parity / test_causality cover the defaults):

- MAMA with other limits than the defaults, against TA-Lib;
- HT_TRENDMODE takes both values and HT_DCPHASE wraps around, in the test candles, so the
  branches that decide them are exercised by the TA-Lib comparison;
- a series starting on an odd bar (the filters pick their odd / even buffers by bar index).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import get, list_indicators

from .conftest import generated_candles
from .reference import TALIB

CYCLE = [i.name for i in list_indicators("cycle")] + ["ht_trendline", "mama"]


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


def _assert_matches_talib(name: str, data: dict[str, np.ndarray],
                          params: dict[str, float] | None = None) -> None:
    ind = get(name)
    resolved = ind.resolve(params)
    ours = ind.compute(data, resolved)
    for output, expected in zip(ind.outputs, TALIB[name](data, resolved), strict=True):
        expected = np.asarray(expected, dtype=np.float64)
        assert np.array_equal(np.isnan(ours[output]), np.isnan(expected)), (name, output)
        np.testing.assert_allclose(ours[output], expected, rtol=1e-9, atol=1e-9,
                                   err_msg=f"{name}.{output} {resolved}")


@pytest.mark.parametrize("params", [{"fastlimit": 0.3, "slowlimit": 0.1},
                                    {"fastlimit": 0.9, "slowlimit": 0.01},
                                    {"fastlimit": 0.05, "slowlimit": 0.5}])
def test_mama_with_other_limits(params: dict[str, float]) -> None:
    pytest.importorskip("talib")
    for seed in (7, 21):
        _assert_matches_talib("mama", _data(generated_candles(3000, seed=seed)), params)


@pytest.mark.parametrize("name", CYCLE)
def test_series_starting_on_an_odd_bar(name: str) -> None:
    pytest.importorskip("talib")
    data = {k: v[1:] for k, v in _data(generated_candles(1500, seed=4)).items()}
    _assert_matches_talib(name, data)


def test_trendmode_and_phase_branches_are_exercised(
        recorded: dict[str, pd.DataFrame]) -> None:
    frames = [_data(generated_candles(3000))] + [_data(f) for f in recorded.values()]
    modes: set[float] = set()
    wraps = 0
    for data in frames:
        mode = get("ht_trendmode").compute(data)["ht_trendmode"]
        modes |= set(np.unique(mode[~np.isnan(mode)]).tolist())
        phase = get("ht_dcphase").compute(data)["ht_dcphase"]
        wraps += int(np.count_nonzero(np.abs(np.diff(phase[~np.isnan(phase)])) > 180.0))
    assert modes == {0.0, 1.0}
    assert wraps > 0
