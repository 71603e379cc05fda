"""Streaming (incremental) forms of the indicators: one candle in, O(1) work per indicator
(O(window) for the batch kernels that re-sum their window every row: CCI, AVGDEV, BETA, ALMA,
FRAMA and the linear-regression family), values equal to the batch kernels' bit for bit.

Layout mirrors ``kernels/``: ``streaming/<module>.py`` holds ``STREAMS``, a table from kernel
function name to a class that takes the kernel's parameters and ``update``s with the kernel's
inputs for one row. ``_base.py`` mirrors ``kernels/_common.py``'s helpers (rolling sums with
the same re-summation rows, seeded EMAs, rolling extremes), which is what makes the equality
structural. The parity tests run both forms over recorded and generated candles, and a test
fails for any registered indicator without a streaming form.

Importing this package imports neither numpy nor pandas nor numba; they load with first use.
"""

from __future__ import annotations

from .featureset import IndicatorStream, Stream, StreamingFeatureSet, stream_factory


def streamable() -> list[str]:
    """Names of the registered indicators that have a streaming form."""
    from ..registry import list_indicators

    return [ind.name for ind in list_indicators() if stream_factory(ind) is not None]


def missing_streams() -> list[str]:
    """Names of the registered indicators that have no streaming form (should be empty)."""
    from ..registry import list_indicators

    return [ind.name for ind in list_indicators() if stream_factory(ind) is None]


__all__ = [
    "IndicatorStream",
    "Stream",
    "StreamingFeatureSet",
    "missing_streams",
    "stream_factory",
    "streamable",
]
