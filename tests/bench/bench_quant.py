"""Benchmark: the backtest and CSCV at search sizes, against simple baselines (not unit tests).

Run:  .venv/bin/python tests/bench/bench_quant.py

- backtest: 10 symbols x 100,000 bars; baseline is the previous pandas ``metrics.backtest``
  (sort + groupby) on the same rows, which computes less (three figures).
- PBO by CSCV: 16 blocks (all 12,870 splits), 100 trials x 10,000 bars; baseline is the
  direct form, every split's in- and out-of-sample Sharpe ratios recomputed from the rows
  (numpy across trials, one split at a time), timed on the first 10 % of the splits (it
  takes minutes for all) and compared per split. Both give the same logits (checked).
- the equity-curve PNG of the 100,000-bar portfolio.

Best of three, wall and CPU time (the machine is shared: wall time includes waiting).
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlta.training.backtest import backtest
from mlta.training.plots import equity_curve_png
from mlta.training.stats import pbo_cscv


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def portfolio(symbols: int = 10, bars: int = 100_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2020-01-01", periods=bars, freq="5min", tz="UTC")
    return pd.DataFrame({
        "symbol": np.repeat([f"S{i}" for i in range(symbols)], bars),
        "close_time": np.tile(times, symbols),
        "position": rng.choice([-1.0, 0.0, 1.0], symbols * bars, p=[0.3, 0.2, 0.5]),
        "next_return": rng.normal(0, 0.002, symbols * bars),
    })


def direct_pbo_logits(matrix: np.ndarray, n_splits: int, limit: int) -> np.ndarray:
    blocks = np.split(matrix, n_splits)
    logits = []
    for pick in itertools.islice(itertools.combinations(range(n_splits), n_splits // 2), limit):
        rest = [b for b in range(n_splits) if b not in pick]
        ins = np.concatenate([blocks[b] for b in pick])
        outs = np.concatenate([blocks[b] for b in rest])
        sr_in = ins.mean(axis=0) / ins.std(axis=0, ddof=1)
        sr_out = outs.mean(axis=0) / outs.std(axis=0, ddof=1)
        best = int(np.argmax(sr_in))
        rank = (sr_out < sr_out[best]).sum() + ((sr_out == sr_out[best]).sum() + 1) / 2
        omega = rank / (matrix.shape[1] + 1)
        logits.append(np.log(omega / (1 - omega)))
    return np.array(logits)


def main() -> None:
    frame = portfolio()
    wall, cpu, result = best_of(lambda: backtest(frame, fee_bps=10, slippage_bps=5))
    rows = len(frame)
    print(f"backtest   {rows:,} rows: {wall * 1e3:7.1f} ms wall ({cpu * 1e3:.1f} ms CPU), "
          f"{wall / rows * 1e9:.0f} ns/row")

    rng = np.random.default_rng(2)
    matrix = rng.normal(0, 0.01, size=(10_000, 100))
    wall, cpu, pbo = best_of(lambda: pbo_cscv(matrix, n_splits=16))
    limit = pbo.n_combinations // 10
    base_wall, _base_cpu, direct = best_of(lambda: direct_pbo_logits(matrix, 16, limit), repeat=1)
    same = np.allclose(pbo.logits[:limit], direct, rtol=1e-9)
    per_split, base_per_split = wall / pbo.n_combinations, base_wall / limit
    print(f"pbo_cscv   T=10,000 N=100 S=16 ({pbo.n_combinations:,} splits): {wall * 1e3:7.1f} ms wall "
          f"({cpu * 1e3:.1f} CPU), {per_split * 1e6:.1f} µs/split; direct form "
          f"{base_per_split * 1e6:.0f} µs/split over {limit:,} splits; ratio "
          f"{per_split / base_per_split:.4f}; same logits: {same}; PBO {pbo.pbo:.3f}")

    wall, cpu, png = best_of(lambda: equity_curve_png(result, None, "bench"))
    print(f"equity PNG {len(result.equity):,} bars: {wall * 1e3:7.1f} ms wall ({cpu * 1e3:.1f} CPU), "
          f"{len(png) / 1024:.0f} KiB")
    if not same:
        raise SystemExit("CSCV logits differ from the direct form")


if __name__ == "__main__":
    main()
