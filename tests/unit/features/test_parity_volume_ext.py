"""The volume / volatility extras against TA-Lib with non-default parameters (test_parity
varies only 'window'), on generated candles.

CMF is not run with a 2-bar window here: on two consecutive zero-volume bars TA-Lib's running
volume sum keeps a round-off residue and divides by it (a value of ~5 where the window traded
nothing); the kernel re-sums exactly and returns 0 there, as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import get

from .conftest import generated_candles
from .reference import TALIB

CASES: list[tuple[str, dict[str, float]]] = [
    ("pvo", {"fast": 5, "slow": 30}),
    ("massi", {"fast": 5, "slow": 12}),
    ("cvi", {"window": 7, "roc": 3}),
    ("cvi", {"window": 2, "roc": 1}),
    ("efi", {"window": 1}),
    ("cmf", {"window": 7}),
]


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


@pytest.mark.parametrize(("name", "params"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_talib_with_other_parameters(name: str, params: dict[str, float]) -> None:
    pytest.importorskip("talib")
    ind = get(name)
    resolved = ind.resolve(params)
    frames = [generated_candles(3000, seed=13), generated_candles(3000, seed=21)]
    for frame in frames:
        data = _data(frame)
        ours = ind.compute(data, resolved)
        for output, expected in zip(ind.outputs, TALIB[name](data, resolved), strict=True):
            expected = np.asarray(expected, dtype=np.float64)
            assert np.array_equal(np.isnan(ours[output]), np.isnan(expected)), (name, output)
            np.testing.assert_allclose(ours[output], expected, rtol=1e-9, atol=1e-9,
                                       err_msg=f"{name}.{output} {resolved}")
