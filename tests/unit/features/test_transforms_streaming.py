"""Streaming transforms equal the batch transforms bit for bit, value by value."""

from __future__ import annotations

import numpy as np
import pytest

from mlta.features.streaming.transforms import run
from mlta.features.transforms import SUFFIX, TransformStep, apply, output_name

from .test_transforms import _series

PERIODS = [(1,), (3,), (2, 5, 17), (50,), (7, 120)]


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    noisy = _series(900, seed=8)
    offset = _series(900, seed=8, offset=1e7)  # running sums far from zero
    tiny = rng.normal(0.0, 1e-9, 900)  # values near the rounding floor
    steps = np.repeat(rng.integers(-2, 3, 90).astype(np.float64), 10)  # many ties, zeros
    steps[500:650] = 1.0
    return {"noisy": noisy, "offset": offset, "tiny": tiny, "steps": steps}


# Rolling windows start at 2 (the spec refuses 1), so those pairs are not generated.
CASES = [(kind, periods) for kind in sorted(SUFFIX) for periods in PERIODS
         if not (kind.startswith("rolling_") and min(periods) < 2)]


@pytest.mark.parametrize(("kind", "periods"), CASES, ids=[f"{k}-{p}" for k, p in CASES])
def test_streaming_equals_batch(kind: str, periods: tuple[int, ...]) -> None:
    for label, x in _inputs().items():
        step = TransformStep(kind, "f_x", periods, tuple(output_name("f_x", kind, p)
                                                         for p in periods))
        batch = apply(step, x)
        streamed = run(step, x.tolist())
        assert list(streamed) == list(batch)
        for name, values in batch.items():
            got = np.array(streamed[name], dtype=np.float64)
            assert np.array_equal(got, values, equal_nan=True), (
                f"{name} on {label}: first difference at row "
                f"{np.flatnonzero(~((got == values) | (np.isnan(got) & np.isnan(values))))[:1]}")
