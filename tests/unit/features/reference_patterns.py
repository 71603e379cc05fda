"""TA-Lib references for the candlestick patterns: TA-Lib's integer output as float, NaN
over TA-Lib's own lookback (where it writes 0), so the warm-up is checked as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _pattern(talib_name: str) -> Ref:
    def ref(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
        import talib
        from talib import abstract

        out = getattr(talib, talib_name)(d["open"], d["high"], d["low"], d["close"], **p)
        fn = abstract.Function(talib_name)
        fn.set_parameters(**p)
        values = np.asarray(out, dtype=np.float64).copy()
        values[: int(fn.lookback)] = np.nan
        return (values,)

    return ref


def pattern_references(names: list[tuple[str, str]]) -> dict[str, Ref]:
    """{our name: reference} for (our name, TA-Lib function) pairs."""
    return {ours: _pattern(theirs) for ours, theirs in names}
