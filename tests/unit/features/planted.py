"""Generated candles with rare candlestick patterns planted in them.

Some TA-Lib patterns (concealing baby swallow, mat hold, three stars in the south) never occur
in the generated or recorded test candles, others (two crows, abandoned baby, breakaway) only in
the recorded ones, so a TA-Lib comparison there would only compare
zeros. These candles are a random walk with textbook instances of them written over it every
~60 bars (scaled to the local price), so the comparisons see them fire; the bars around
each instance stay random, so the running candle averages they are judged against are real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .conftest import generated_candles

# (open, high, low, close) per bar, relative to a price of 100
TEMPLATES: dict[str, list[tuple[float, float, float, float]]] = {
    "concealbabyswall": [
        (103.0, 103.0, 100.0, 100.0),   # black marubozu
        (100.0, 100.0, 97.0, 97.0),     # black marubozu
        (96.5, 97.5, 95.8, 96.0),       # black, gaps down, upper shadow into the prior body
        (98.0, 98.0, 95.0, 95.0),       # black, engulfs the third with its shadows
    ],
    "mathold": [
        (100.0, 103.1, 99.9, 103.0),    # long white
        (103.6, 103.7, 103.3, 103.4),   # small black gapping up
        (103.2, 103.3, 102.8, 102.9),   # small, falling, inside the first body
        (103.0, 103.1, 102.6, 102.7),   # small, falling
        (102.8, 104.6, 102.7, 104.5),   # white closing above the reaction highs
    ],
    "3starsinsouth": [
        (103.0, 103.0, 96.5, 100.0),    # long black, long lower shadow
        (101.5, 101.6, 98.0, 99.5),     # smaller black inside its range, with a lower shadow
        (99.8, 99.8, 99.5, 99.5),       # small black marubozu inside the second's range
    ],
    # These three do occur in the recorded candles, but the tests must not need them there
    # (the recorded set is optional, and the JIT-disabled pass reads only its first bars).
    "2crows": [
        (100.0, 103.1, 99.9, 103.0),    # long white
        (104.0, 104.6, 103.6, 103.7),   # black, real body gapping up
        (103.85, 103.9, 101.4, 101.5),  # black, opens in the second body, closes in the first
    ],
    "abandonedbaby": [
        (100.0, 103.1, 99.9, 103.0),    # long white
        (104.0, 104.2, 103.8, 104.0),   # doji, shadows gapping up
        (103.5, 103.6, 100.4, 100.5),   # black, gapping down, closing deep in the first body
    ],
    "breakaway": [
        (100.0, 103.1, 99.9, 103.0),    # long white
        (103.5, 104.1, 103.4, 104.0),   # white, real body gapping up
        (104.1, 104.6, 103.9, 104.5),   # higher high, higher low
        (104.6, 105.1, 104.4, 105.0),   # white, higher high, higher low
        (105.0, 105.1, 103.1, 103.2),   # black, closing inside the gap
    ],
}


def planted_candles(n: int = 3000, seed: int = 31, every: int = 60) -> pd.DataFrame:
    frame = generated_candles(n, seed=seed)
    names = list(TEMPLATES)
    columns = ("open", "high", "low", "close")
    values = {c: frame[c].to_numpy(dtype=np.float64, copy=True) for c in columns}
    for k, start in enumerate(range(every, n - 10, every)):
        template = TEMPLATES[names[k % len(names)]]
        scale = values["close"][start - 1] / 100.0
        for j, bar in enumerate(template):
            for column, value in zip(columns, bar, strict=True):
                values[column][start + j] = value * scale
    for column in columns:
        frame[column] = values[column]
    return frame
