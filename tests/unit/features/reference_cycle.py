"""TA-Lib references for the Hilbert-transform family and MAMA (merged into
``reference.TALIB``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]
HT_TRENDMODE_LOOKBACK = 63


def _talib() -> Any:
    import talib

    return talib


def _close(f: str) -> Ref:
    def ref(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
        out = getattr(_talib(), f)(d["close"])
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)

    return ref


def _trendmode(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """TA-Lib's integer output as float, NaN over its lookback (where it writes 0)."""
    from talib import abstract

    out = np.asarray(_talib().HT_TRENDMODE(d["close"]), dtype=np.float64).copy()
    lookback = int(abstract.Function("HT_TRENDMODE").lookback)
    assert lookback == HT_TRENDMODE_LOOKBACK
    out[:lookback] = np.nan
    return (out,)


TALIB_CYCLE: dict[str, Ref] = {
    **{n: _close(n.upper()) for n in (
        "ht_dcperiod", "ht_dcphase", "ht_phasor", "ht_sine", "ht_trendline")},
    "ht_trendmode": _trendmode,
    "mama": lambda d, p: _talib().MAMA(d["close"], fastlimit=p["fastlimit"],
                                       slowlimit=p["slowlimit"]),
}
