"""Generated candles with rare candlestick patterns planted in them.

Some TA-Lib patterns (concealing baby swallow, mat hold, three stars in the south) never occur
in the generated or recorded test candles, so a TA-Lib comparison there would only compare
zeros. These candles are a random walk with textbook instances of them written over it every
~120 bars (scaled to the local price), so the comparisons see them fire; the bars around
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
}


def planted_candles(n: int = 3000, seed: int = 31, every: int = 120) -> pd.DataFrame:
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
