"""No look-ahead: every indicator's value at t is the same computed on rows[:t+1] as on all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.registry import Indicator, list_indicators

from .conftest import generated_candles

INDICATORS = list_indicators()


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close",
                                                             "volume")}


def _cuts(n: int, warm: int) -> list[int]:
    """Cut points around the warm-up edge, re-summation boundaries and spread over the data."""
    near = [warm - 1, warm, warm + 1, 2 * warm + 3]
    spread = np.linspace(warm + 2, n - 2, 7).astype(int).tolist()
    return sorted({t for t in near + spread if 0 <= t < n - 1})


def _assert_causal(ind: Indicator, data: dict[str, np.ndarray], label: str) -> None:
    full = ind.compute(data)
    n = data["close"].size
    for t in _cuts(n, ind.warmup()):
        prefix = ind.compute({k: v[: t + 1] for k, v in data.items()})
        for output in ind.outputs:
            assert np.array_equal(prefix[output], full[output][: t + 1], equal_nan=True), (
                f"{ind.name}.{output} on {label}: rows <= {t} change when later rows exist")


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.name)
def test_causal_on_generated(ind: Indicator) -> None:
    frame = generated_candles(1500, seed=11)
    data = _data(frame)
    _assert_causal(ind, data, "generated")
    # with gaps: NaN rows split the series and must not leak either
    gapped = {k: v.copy() for k, v in data.items()}
    for row in (200, 201, 650, 1100):
        gapped["close"][row] = np.nan
        gapped["volume"][row + 7] = np.nan
    _assert_causal(ind, gapped, "generated with gaps")


@pytest.mark.parametrize("ind", INDICATORS, ids=lambda i: i.name)
def test_causal_on_recorded(ind: Indicator, recorded: dict[str, pd.DataFrame]) -> None:
    for name, frame in recorded.items():
        _assert_causal(ind, _data(frame), name)
