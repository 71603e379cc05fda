"""TA-Lib references for the volume / volatility extras (merged into ``reference.TALIB``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _talib() -> Any:
    import talib

    return talib


TALIB_VOLUME_EXT: dict[str, Ref] = {
    "cmf": lambda d, p: (_talib().CMF(d["high"], d["low"], d["close"], d["volume"],
                                      timeperiod=p["window"]),),
    "efi": lambda d, p: (_talib().EFI(d["close"], d["volume"], timeperiod=p["window"]),),
    "nvi": lambda d, p: (_talib().NVI(d["close"], d["volume"]),),
    "pvi": lambda d, p: (_talib().PVI(d["close"], d["volume"]),),
    "pvt": lambda d, p: (_talib().PVT(d["close"], d["volume"]),),
    "pvo": lambda d, p: (_talib().PVO(d["volume"], fastperiod=p["fast"], slowperiod=p["slow"],
                                      matype=1),),
    "massi": lambda d, p: (_talib().MASSI(d["high"], d["low"], fastperiod=p["fast"],
                                          slowperiod=p["slow"]),),
    "cvi": lambda d, p: (_talib().CVI(d["high"], d["low"], timeperiod=p["window"],
                                      rocperiod=p["roc"]),),
}
