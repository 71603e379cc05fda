"""Benchmark: mlta indicator kernels vs TA-Lib on 1M candles (not part of the unit suite).

Run:  .venv/bin/python tests/bench/bench_indicators.py [rows]

Each indicator is timed through ``Indicator.compute`` (validation, NaN segmentation and the
numba kernel) after a warm-up call that compiles it; the best of three runs is reported, next
to TA-Lib's best of three on the same arrays, and the ratio mlta / TA-Lib.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.unit.features.reference import TALIB

from mlta.features.registry import list_indicators


def candles(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 0.001, n)) * close
    return {
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "volume": rng.lognormal(7.0, 1.0, n),
    }


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data = candles(n)
    small = {k: v[:500] for k, v in data.items()}
    try:
        import talib  # noqa: F401

        have_talib = True
    except ImportError:
        have_talib = False
        print("TA-Lib is not installed: timing mlta only (pip install ta-lib)")
    print(f"{n:,} candles; best of 3 runs; ms")
    print(f"{'indicator':<18}{'mlta':>10}{'ta-lib':>10}{'ratio':>8}")
    ratios = []
    for ind in list_indicators():
        params = ind.resolve({})
        ind.compute(small, params)  # compile (or load the numba cache) outside the timing
        ours = best_of(lambda ind=ind, params=params: ind.compute(data, params))
        line = f"{ind.name:<18}{ours * 1e3:>10.1f}"
        if have_talib and ind.name in TALIB:
            ref = TALIB[ind.name]
            theirs = best_of(lambda ref=ref, params=params: ref(data, params))
            ratios.append(ours / theirs)
            line += f"{theirs * 1e3:>10.1f}{ours / theirs:>8.2f}"
        print(line)
    if ratios:
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"geometric mean ratio mlta / TA-Lib over {len(ratios)} indicators: {geo:.2f}")


if __name__ == "__main__":
    main()
