"""Benchmark: the DataPipeline (Bronze -> Silver -> Gold) in bars per second, serial and on Ray.

Run:  .venv/bin/python tests/bench/bench_pipeline.py [--bars-per-symbol N] [--repeat R]

Data sets: every recorded candle file in the shared candles directory through the files
source (the 5m files as one pipeline, the 1m file as another), and generated candles from
the sample source (4 symbols x 250,000 bars = 1M by default), with the default indicator
set. Each run starts from an empty lake, so Bronze ingest, Silver quality and Gold features
are all inside the timing. Modes: serial (no Ray), then a local Ray started with
``num_cpus=1`` and again with ``num_cpus=2`` in this same process (one symbol per task); the
ratio of the two is the scaling from one worker to two, measured in the same run. Workers
are warmed (imports, numba kernels) before timing. Not part of any test suite.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlta.jobs.pipeline import run_pipeline, validate_spec

CANDLES = Path(os.environ.get("MLTA_SHARED_DATA",
                              Path(__file__).resolve().parents[3] / "shared" / "data")) / "candles"


def recorded_specs() -> list[tuple[str, dict[str, Any], int]]:
    """(label, spec, input bars) per interval found among the recorded files."""
    import pyarrow.feather as feather

    by_interval: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(CANDLES.glob("*.feather")):
        symbol, _, interval = path.stem.rpartition("-")
        by_interval.setdefault(interval, []).append(
            (symbol, feather.read_table(path, columns=["date"]).num_rows))
    out = []
    for interval, files in sorted(by_interval.items()):
        spec = {"source": {"type": "files", "symbols": [s for s, _ in files],
                           "interval": interval,
                           "files": {"uri": str(CANDLES), "format": "feather"}}}
        out.append((f"recorded {interval} ({len(files)} files)", spec, sum(n for _, n in files)))
    return out


def sample_spec(symbols: int, bars: int, seed: int = 7) -> dict[str, Any]:
    return {"source": {"type": "sample", "symbols": [f"SYM{i}USDT" for i in range(symbols)],
                       "sample": {"seed": seed, "bars": bars}}}


def timed_run(spec: dict[str, Any], runs: int) -> float:
    """Best wall time of ``runs`` pipeline runs, each into a fresh empty lake."""
    parsed = validate_spec(spec)
    best = float("inf")
    for _ in range(runs):
        root = tempfile.mkdtemp(prefix="mlta-bench-lake-")
        try:
            started = time.perf_counter()
            run_pipeline(parsed, "file://" + root, "bench", "pipeline")
            best = min(best, time.perf_counter() - started)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return best


def with_ray(num_cpus: int, body: Callable[[], None]) -> None:
    import ray

    ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False, object_store_memory=300 * 1024 * 1024,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        body()
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--bars-per-symbol", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; best is shown")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the pipeline logs per symbol; keep the table readable

    datasets = recorded_specs() if CANDLES.exists() else []
    if not datasets:
        print(f"recorded candles not found at {CANDLES}: generated data only")
    generated = args.symbols * args.bars_per_symbol
    datasets.append((f"sample {args.symbols}x{args.bars_per_symbol:,}",
                     sample_spec(args.symbols, args.bars_per_symbol), generated))
    warmup = sample_spec(4, 2_000, seed=1)

    results: dict[tuple[str, str], float] = {}

    def measure(mode: str) -> None:
        timed_run(warmup, 1)  # imports, numba kernels, Ray worker start-up: not timed
        for label, spec, _ in datasets:
            results[(label, mode)] = timed_run(spec, args.repeat)
            print(f"  {mode:<8} {label:<28} {results[(label, mode)]:8.2f} s", flush=True)

    print(f"DataPipeline Bronze->Silver->Gold, default indicators, {os.cpu_count()} CPUs; "
          f"best of {args.repeat}")
    measure("serial")
    with_ray(1, lambda: measure("ray-1"))
    with_ray(2, lambda: measure("ray-2"))

    modes = ("serial", "ray-1", "ray-2")
    print()
    print(f"{'data set':<28}{'bars':>11}" + "".join(f"{m + ' bars/s':>16}" for m in modes)
          + f"{'2w/1w':>8}")
    for label, _, bars in datasets:
        rates = [bars / results[(label, m)] for m in modes]
        speedup = results[(label, "ray-1")] / results[(label, "ray-2")]
        print(f"{label:<28}{bars:>11,}" + "".join(f"{r:>16,.0f}" for r in rates)
              + f"{speedup:>8.2f}")


if __name__ == "__main__":
    main()
