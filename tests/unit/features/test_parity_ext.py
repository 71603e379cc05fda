"""Checks that keep the TA-Lib parity of the added indicators meaningful.

- Every candlestick pattern must fire somewhere in the test candles: parity with TA-Lib on
  data where neither fires would prove nothing.
- BETA is compared with TA-Lib on generated candles here; on recorded ones its reference is
  a two-pass numpy formula (TA-Lib's running sums of squared tick-sized returns keep residue).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import get, list_indicators

from .conftest import generated_candles
from .planted import planted_candles
from .reference_talib_ext import TALIB_GENERATED_ONLY

PATTERNS = [i.name for i in list_indicators("pattern")]


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


@pytest.fixture(scope="module")
def frames(recorded: dict[str, pd.DataFrame]) -> list[dict[str, np.ndarray]]:
    out = [_data(generated_candles(3000)), _data(generated_candles(3000, seed=21))]
    out.extend(_data(frame) for frame in recorded.values())
    out.append(_data(planted_candles()))  # rare patterns planted in a random walk
    return out


@pytest.mark.parametrize("name", PATTERNS)
def test_pattern_fires_in_the_test_candles(name: str,
                                           frames: list[dict[str, np.ndarray]]) -> None:
    ind = get(name)
    hits = sum(int(np.count_nonzero(np.nan_to_num(ind.compute(d)[name]))) for d in frames)
    assert hits > 0, f"{name} never fires: its TA-Lib parity test would be vacuous"


@pytest.mark.parametrize("name", sorted(TALIB_GENERATED_ONLY))
@pytest.mark.parametrize("params", [{}, {"window": 12}])
def test_matches_talib_on_generated_only(name: str, params: dict[str, float]) -> None:
    pytest.importorskip("talib")
    ind = get(name)
    resolved = ind.resolve(params)
    data = _data(generated_candles(3000))
    ours = ind.compute(data, resolved)
    for output, expected in zip(ind.outputs, TALIB_GENERATED_ONLY[name](data, resolved),
                                strict=True):
        np.testing.assert_allclose(ours[output], expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}.{output} {resolved}")


# Non-default parameters (test_parity varies only 'window'), so an ignored parameter shows.
ALT_PARAMS: list[tuple[str, dict[str, float]]] = [
    ("macdext", {"fast": 5, "fast_ma": 1, "slow": 20, "slow_ma": 2, "signal": 4,
                 "signal_ma": 4}),
    ("macdext", {"fast": 8, "fast_ma": 3, "slow": 21, "slow_ma": 5, "signal": 5,
                 "signal_ma": 6}),
    ("apo", {"fast": 6, "slow": 19, "matype": 1}),
    ("ppo", {"fast": 6, "slow": 19, "matype": 8}),
    ("t3", {"window": 7, "vfactor": 0.5}),
    ("sar", {"acceleration": 0.03, "maximum": 0.3}),
    ("sarext", {"init": 0.01, "acceleration": 0.03, "maximum": 0.25, "offset": 0.01}),
    ("stochrsi", {"window": 9, "fastk": 7, "fastd": 4}),
    ("ultosc", {"fast": 5, "mid": 10, "slow": 20}),
    ("supertrend", {"window": 7, "multiplier": 1.5}),
    ("ao", {"fast": 3, "slow": 20}),
    ("ac", {"fast": 3, "slow": 20, "signal": 3}),
    ("coppock", {"window": 6, "roc1": 7, "roc2": 12}),
    ("tsi", {"first": 13, "second": 7}),
    ("macdfix", {"signal": 5}),
    ("plus_dm", {"window": 1}),
    ("cdl_darkcloudcover", {"penetration": 0.3}),
    ("cdl_morningstar", {"penetration": 0.5}),
    ("cdl_abandonedbaby", {"penetration": 0.1}),
]


@pytest.mark.parametrize(("name", "params"), ALT_PARAMS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALT_PARAMS)])
def test_matches_talib_with_other_parameters(name: str, params: dict[str, float],
                                             frames: list[dict[str, np.ndarray]]) -> None:
    pytest.importorskip("talib")
    from .reference import TALIB

    ind = get(name)
    resolved = ind.resolve(params)
    for data in frames[:2]:
        ours = ind.compute(data, resolved)
        for output, expected in zip(ind.outputs, TALIB[name](data, resolved), strict=True):
            expected = np.asarray(expected, dtype=np.float64)
            assert np.array_equal(np.isnan(ours[output]), np.isnan(expected)), (name, output)
            np.testing.assert_allclose(ours[output], expected, rtol=1e-9, atol=1e-9,
                                       err_msg=f"{name}.{output} {resolved}")
