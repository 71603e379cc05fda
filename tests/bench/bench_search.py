"""Benchmark: the TrainingJob's search, Ray Tune against plain Optuna, ASHA against no pruning.

Run:  .venv/bin/python tests/bench/bench_search.py [--trials 32] [--bars 4000] [--rounds 100]

One Gold set (the DataPipeline job on the sample source, default features minus the
candlestick flags) and one search spec: LightGBM, XGBoost and CatBoost, the realized
volatility target (the sample generator's volatility regimes make it learnable, so the
scores mean something), walk-forward correlation as the metric. The random sampler draws
the same candidates whatever order results come back in, so all three runs train the same
trials (TPE would adapt to each run's results and make the runs incomparable: one CatBoost
trial of depth 8 costs ten LightGBM ones). Three runs, in this process, each with a fresh
trial ledger (no replays):

1. sequential Optuna in this process (the same trials, one after the other, no pruning);
2. Ray Tune with 2 concurrent trials on a local Ray with 2 CPUs, no pruning;
3. the same with ASHA.

Reported: the wall-time ratio 2/1 (goal <= 0.6 on this 2-core machine), the boosting rounds
ASHA saved (3 vs 2, goal >= 50 %) and the best walk-forward score of each (goal: within 1 %).
Not part of any test suite.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mlta.data.lake import read_dataset
from mlta.jobs import pipeline
from mlta.specs import JobEnvelope, TrainingJobSpec
from mlta.training.cv import fold_columns
from mlta.training.dataset import prepare
from mlta.training.tuning.search import SearchOutcome, run_search
from mlta.training.tuning.sequential import run_sequential
from mlta.training.tuning.trial import TrialPayload


def gold(lake: str, bars: int) -> tuple[Any, list[str]]:
    result = pipeline.run(JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "bench", "name": "search"},
        "spec": {"source": {"type": "sample", "symbols": ["BENCHA", "BENCHB"],
                            "sample": {"seed": 21, "bars": bars}}},
        "storageUri": lake, "correlationId": "bench", "submissionId": "bench-dp"}))
    assert result.ok, result.message
    frame, manifest = read_dataset(result.outputs["datasetUri"])
    return frame, list(manifest.feature_columns)


def spec(trials: int, rounds: int, pruning: bool) -> TrainingJobSpec:
    return TrainingJobSpec.model_validate({
        "dataPipeline": "search", "target": {"kind": "volatility", "horizon": 12},
        "validation": {"folds": 3, "testFraction": 0.15, "embargoBars": 12},
        "features": {"exclude": ["f_cdl*"]}, "model": {"numBoostRound": rounds},
        "search": {"trials": trials, "concurrentTrials": 2, "seed": 7, "metric": "correlation",
                   "sampler": "random",
                   "learners": ["lightgbm", "xgboost", "catboost"],
                   "pruning": {"enabled": pruning, "reportEveryRounds": 10, "graceRounds": 10,
                               "reductionFactor": 3}}})


def timed(label: str, fn: Any) -> tuple[float, SearchOutcome]:
    started = time.perf_counter()
    outcome: SearchOutcome = fn()
    wall = time.perf_counter() - started
    rounds = sum(r.rounds for r in outcome.rows)
    best = outcome.ranked()[0].best_score
    statuses = {s: sum(1 for r in outcome.rows if r.status == s) for s in ("completed", "pruned")}
    print(f"{label:34s} {wall:7.1f} s wall, {len(outcome.rows)} trials {statuses}, "
          f"{rounds} boosting rounds, best correlation {best:.4f}", flush=True)
    return wall, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=32)
    parser.add_argument("--bars", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import ray

    work = Path(tempfile.mkdtemp(prefix="mlta-bench-search-"))
    frame, features = gold(f"file://{work}/lake", args.bars)
    plain = spec(args.trials, args.rounds, pruning=False)
    data = prepare(frame, features, plain)
    columns = fold_columns(data, plain)[:-1]
    print(f"Gold: {len(data.y)} rows x {len(data.feature_names)} features; {args.trials} trials of "
          f"up to {args.rounds} rounds over 3 learners, 3 walk-forward folds", flush=True)

    def payload(s: TrainingJobSpec, name: str) -> TrialPayload:
        return TrialPayload(data=data, spec=s, columns=columns, ledger_root=f"file://{work}/{name}",
                            num_threads=1)

    seq_wall, seq = timed("sequential Optuna, 1 process", lambda: run_sequential(payload(plain, "seq")))
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        tune_wall, tune = timed("Ray Tune, 2 concurrent, no pruning",
                                lambda: run_search(payload(plain, "tune"), f"file://{work}/tune"))
        pruned = spec(args.trials, args.rounds, pruning=True)
        asha_wall, asha = timed("Ray Tune, 2 concurrent, ASHA",
                                lambda: run_search(payload(pruned, "asha"), f"file://{work}/asha"))
    finally:
        ray.shutdown()
    full = sum(r.rounds for r in tune.rows)
    saved = 1 - sum(r.rounds for r in asha.rows) / full
    best_plain, best_asha = tune.ranked()[0].best_score, asha.ranked()[0].best_score
    print()
    print(f"wall time Ray Tune / sequential Optuna: {tune_wall / seq_wall:.3f} (goal <= 0.6)")
    print(f"boosting rounds saved by ASHA: {100 * saved:.1f} % (goal >= 50 %); "
          f"wall time ASHA / no pruning {asha_wall / tune_wall:.3f}")
    print(f"best score ASHA vs no pruning: {best_asha:.4f} vs {best_plain:.4f}, "
          f"{100 * (best_asha - best_plain) / abs(best_plain):+.2f} % (goal within 1 %); "
          f"sequential {seq.ranked()[0].best_score:.4f}")


if __name__ == "__main__":
    main()
