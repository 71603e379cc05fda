"""The remaining candlestick patterns where they actually fire.

Concealing baby swallow, mat hold and three stars in the south never occur in the generated
or recorded candles, so they are compared with TA-Lib (and the streaming forms with the batch
kernels) on candles with textbook instances planted in a random walk (``planted.py``); the
test asserts they fire there. Mat hold is also run with other penetrations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import get, list_indicators
from mlta.features.streaming import IndicatorStream

from .planted import TEMPLATES, planted_candles
from .reference import TALIB

NEW = [i.name for i in list_indicators("pattern") if i.kernel.startswith("patterns_ext.")]


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


@pytest.fixture(scope="module")
def planted() -> dict[str, np.ndarray]:
    return _data(planted_candles())


def test_the_kernel_module_holds_the_ten_patterns() -> None:
    assert len(NEW) == 10


@pytest.mark.parametrize("name", [f"cdl_{n}" for n in TEMPLATES])
def test_planted_patterns_fire(name: str, planted: dict[str, np.ndarray]) -> None:
    hits = int(np.count_nonzero(np.nan_to_num(get(name).compute(planted)[name])))
    assert hits >= 5, f"{name} fired {hits} times on the planted candles"


CASES = [(n, {}) for n in NEW] + [("cdl_mathold", {"penetration": p}) for p in (0.0, 0.2, 1.0)]


@pytest.mark.parametrize(("name", "params"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_talib_and_stream_on_planted(name: str, params: dict[str, float],
                                             planted: dict[str, np.ndarray]) -> None:
    pytest.importorskip("talib")
    ind = get(name)
    resolved = ind.resolve(params)
    ours = ind.compute(planted, resolved)[name]
    (expected,) = TALIB[name](planted, resolved)
    np.testing.assert_array_equal(ours, np.asarray(expected, dtype=np.float64))
    streamed = IndicatorStream(ind, resolved).run(planted)[name]
    assert np.array_equal(ours, streamed, equal_nan=True)
