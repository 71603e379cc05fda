"""Benchmark: mlta indicators vs TA-Lib on the same 1M candles, in one process (not a test).

Run:  .venv/bin/python tests/bench/bench_indicators.py [--rows N] [--runs R] [--only a,b]

Every indicator with a TA-Lib counterpart is timed through ``Indicator.compute`` (parameter
validation, the finite-input check / NaN segmentation and the numba kernel) and TA-Lib's
function on the same arrays with the same parameters. Both get a warm-up call first (numba's
compilation or cache load is excluded), then runs alternate between the two libraries and the
best of R is kept for each, so a burst of load from elsewhere on the machine hits both rather
than one. Reported: a table per indicator (worst ratio first), the geometric mean of the ratios
and the ratio of the summed times. Indicators TA-Lib lacks are timed and listed separately.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.unit.features.reference import TALIB

from mlta.features.registry import list_indicators


def candles(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A geometric random walk with consistent OHLC and lognormal volume (all finite)."""
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


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_pair(
    ours: Callable[[], object], theirs: Callable[[], object] | None, runs: int
) -> tuple[float, float]:
    """Best-of-``runs`` seconds for both, alternating calls; theirs is nan when absent."""
    ours()
    if theirs is not None:
        theirs()
    best_ours = best_theirs = float("inf")
    for _ in range(runs):
        best_ours = min(best_ours, _once(ours))
        if theirs is not None:
            best_theirs = min(best_theirs, _once(theirs))
    return best_ours, best_theirs if theirs is not None else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated indicator names")
    args = parser.parse_args(argv)

    data = candles(args.rows)
    try:
        import talib  # noqa: F401
    except ImportError:
        sys.exit("TA-Lib is not installed (pip install ta-lib): nothing to compare against")
    only = {name for name in args.only.split(",") if name}
    rows: list[tuple[str, float, float]] = []
    alone: list[tuple[str, float]] = []
    for ind in list_indicators():
        if only and ind.name not in only:
            continue
        params = ind.resolve({})
        ref = TALIB.get(ind.name)
        ours, theirs = best_pair(
            partial(ind.compute, data, params),
            None if ref is None else partial(ref, data, params),
            args.runs,
        )
        if ref is None:
            alone.append((ind.name, ours))
        else:
            rows.append((ind.name, ours, theirs))

    print(f"{args.rows:,} candles; best of {args.runs} alternating runs; milliseconds")
    print(f"{'indicator':<22}{'mlta':>10}{'ta-lib':>10}{'ratio':>8}")
    for name, ours, theirs in sorted(rows, key=lambda r: r[1] / r[2], reverse=True):
        print(f"{name:<22}{ours * 1e3:>10.2f}{theirs * 1e3:>10.2f}{ours / theirs:>8.2f}")
    if rows:
        ratios = np.array([ours / theirs for _, ours, theirs in rows])
        total_ours = sum(r[1] for r in rows)
        total_theirs = sum(r[2] for r in rows)
        print(f"indicators compared: {len(rows)}; ratio <= 1: {int((ratios <= 1.0).sum())}")
        print(f"geometric mean ratio mlta / TA-Lib: {float(np.exp(np.log(ratios).mean())):.3f}")
        print(f"total time mlta {total_ours * 1e3:.1f} ms, TA-Lib {total_theirs * 1e3:.1f} ms, "
              f"ratio {total_ours / total_theirs:.3f}")
    if alone:
        print(f"without a TA-Lib counterpart ({len(alone)}): " + ", ".join(
            f"{name} {secs * 1e3:.1f}" for name, secs in sorted(alone)))


if __name__ == "__main__":
    main()
