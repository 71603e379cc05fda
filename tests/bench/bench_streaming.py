"""Benchmark: streaming update time per candle (not part of the unit suite).

Run:  .venv/bin/python tests/bench/bench_streaming.py [candles]

Times ``StreamingFeatureSet.update`` (one candle in, the feature vector out) for the default
Gold feature set (``Features()``: ``default_indicators()`` + ``default_transforms()`` minus
``default_exclude()``, goal: under 50 µs per candle), for its indicators alone, and for every
streamable indicator with its default parameters, then each indicator's stream alone. Best of
three passes over the same candles; the first candles of a pass include the warm-up, as they
would in production. Wall time is what a caller waits; CPU time (``process_time``) is also
shown because the machine is shared and wall time includes waiting for a core.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlta.features.registry import get
from mlta.features.streaming import IndicatorStream, StreamingFeatureSet, streamable
from mlta.specs.datapipeline import Features, IndicatorSpec, default_indicators

GOAL_US = 50.0


def candles(n: int, seed: int = 1) -> list[tuple[float, float, float, float, float, int]]:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0.0, 0.001, n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.lognormal(7.0, 1.0, n)
    times = (1_700_000_000_000 + 300_000 * np.arange(n)).tolist()
    return list(zip(open_.tolist(), high.tolist(), low.tolist(), close.tolist(), volume.tolist(),
                    times, strict=True))


def per_candle_us(specs: list[IndicatorSpec] | Features, rows: Sequence[tuple[float, ...]],
                  ) -> tuple[float, int]:
    us, _, columns = per_candle_wall_cpu(specs, rows)
    return us, columns


def per_candle_wall_cpu(specs: list[IndicatorSpec] | Features,
                        rows: Sequence[tuple[float, ...]]) -> tuple[float, float, int]:
    """Best-of-three (wall µs, CPU µs) per candle and the column count."""
    best = best_cpu = float("inf")
    columns = 0
    for _ in range(3):
        stream = (StreamingFeatureSet.from_spec(specs) if isinstance(specs, Features)
                  else StreamingFeatureSet(specs))
        columns = len(stream.columns)
        update = stream.update
        cpu = time.process_time()
        start = time.perf_counter()
        for row in rows:
            update(*row)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best / len(rows) * 1e6, best_cpu / len(rows) * 1e6, columns


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rows = candles(n)
    print(f"{n:,} candles; best of 3 passes; microseconds per candle")
    spec = Features()
    gold, gold_cpu, gold_cols = per_candle_wall_cpu(spec, rows)
    only, only_cpu, only_cols = per_candle_wall_cpu(default_indicators(), rows)
    names = streamable()
    everything, all_cols = per_candle_us([IndicatorSpec(name=name) for name in names], rows)
    verdict = "OK" if gold < GOAL_US else "OVER GOAL"
    print(f"Gold default set   {len(spec.indicators):3d} indicators + {len(spec.transforms)} "
          f"transforms {gold_cols:3d} columns {gold:8.2f} us wall {gold_cpu:8.2f} us CPU "
          f"(goal < {GOAL_US:g} us: {verdict})")
    print(f"  its indicators   {len(spec.indicators):3d} indicators {only_cols:3d} columns "
          f"{only:8.2f} us wall {only_cpu:8.2f} us CPU")
    print(f"all streamable     {len(names):3d} indicators {all_cols:3d} columns {everything:8.2f} us")
    print("per indicator (IndicatorStream.update, defaults):")
    inputs = ("open", "high", "low", "close", "volume")
    timings = []
    for name in names:
        ind = get(name)
        idx = [inputs.index(i) for i in ind.inputs]
        args = [tuple(row[i] for i in idx) for row in rows[: min(n, 5000)]]
        best = float("inf")
        for _ in range(3):
            stream = IndicatorStream(ind)
            update = stream.update
            start = time.perf_counter()
            for a in args:
                update(*a)
            best = min(best, time.perf_counter() - start)
        timings.append((best / len(args) * 1e6, name))
    for us, name in sorted(timings, reverse=True):
        print(f"  {name:18s} {us:7.2f} us")


if __name__ == "__main__":
    main()
