"""Compile every feature kernel once, into the content-keyed cache of :mod:`mlta.features.jit`.

    python -m mlta.jobs.warm [--jobs N] [--seed DIR]

A process that computes features compiles each kernel on its first call unless the cache has
it. On a cold cache (a new machine, a new container, any change to a feature source) every
process that computes features pays for it at once: the test tiers' workers, each Ray worker
of a pipeline, about five CPU-minutes each for the whole registry on this project's machine,
the same kernels compiled side by side. This compiles them once, in ``--jobs`` processes that
share the indicators, and marks the cache complete, so a second run returns at once.

What it runs: every registered indicator at its default parameters, every transform kind and
the labels, on generated float64 candles: the argument types every caller passes (inputs are
cast to float64 and parameters coerced by the registry), so each kernel's one signature is
the one compiled. ``make test`` runs it before its tiers; the Ray image at build time
(images/ray/Dockerfile), so its pods load the kernels instead of compiling them, seeded by
``--seed`` with the cache ``make images`` warmed on the host (a cache directory holding the
same digest: same sources; numba itself checks that the CPU matches, and compiles again on
another one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ..features import jit

if TYPE_CHECKING:
    import numpy as np

MARKER = ".complete"


def cache_active() -> bool:
    """Whether this process uses the content-keyed cache (importing jit sets numba's locator
    setting to it unless the user chose numba's cache or turned it off)."""
    return os.environ.get(jit.LOCATORS_ENV) == jit.locator_setting()


def marker() -> Path:
    return jit.cache_root() / jit.sources_digest() / MARKER


def candles(n: int = 400, seed: int = 11) -> dict[str, np.ndarray]:
    """``n`` candles of the sample source as the float64 arrays the kernels receive."""
    from ..data.sources.sample import SampleSource

    table = SampleSource(seed=seed, bars=n).fetch("WARMUSDT", "5m", None, None)
    return {name: table[name].to_numpy().astype("float64")
            for name in ("open", "high", "low", "close", "volume")}


def compile_part(part: int, parts: int) -> int:
    """Run every ``parts``-th indicator from ``part`` (and, in part 0, the transforms and
    labels); returns how many indicators ran."""
    from ..features.registry import list_indicators

    data = candles()
    chosen = list_indicators()[part::parts]
    for indicator in chosen:
        indicator.compute(data)
    if part == 0:
        _transforms_and_labels(data)
    return len(chosen)


def _transforms_and_labels(data: dict[str, np.ndarray]) -> None:
    import pandas as pd

    from mlta.specs.datapipeline import TransformSpec

    from ..features.labels import add_labels, add_triple_barrier
    from ..features.transforms import SUFFIX, apply_transforms, plan_transforms

    specs = [TransformSpec.model_validate({"kind": kind, "columns": ["close"], "periods": [3]})
             for kind in SUFFIX]
    apply_transforms(plan_transforms(specs, []), data)
    frame = pd.DataFrame(data)
    add_labels(frame, horizon=3)
    add_triple_barrier(frame, horizon=3)


def seed_from(root: Path) -> bool:
    """Copy ``root/<digest>`` (another cache of the same sources) into this cache; False when
    ``root`` has none."""
    source, target = root / jit.sources_digest(), jit.cache_root() / jit.sources_digest()
    if not source.is_dir() or source.resolve() == target.resolve():
        return False
    shutil.copytree(source, target, dirs_exist_ok=True)
    return True


def warm(jobs: int | None = None, seed: Path | None = None) -> float:
    """Compile what the cache lacks; returns the seconds it took (0 when already complete)."""
    done = marker()
    if seed is not None and not done.exists():
        seed_from(seed)
    if done.exists():
        return 0.0
    started = time.monotonic()
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1:
        compile_part(0, 1)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(compile_part, range(jobs), [jobs] * jobs))
    try:
        done.parent.mkdir(parents=True, exist_ok=True)
        done.touch()
    except OSError:  # an unwritable cache: numba's own locators kept what they could
        pass
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlta.jobs.warm",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=None,
                        help="processes compiling at once (default: one per core)")
    parser.add_argument("--seed", type=Path, default=None,
                        help="another kernel cache directory to copy this digest from first")
    opts = parser.parse_args(argv)
    if not cache_active():
        print("mlta.jobs.warm: the content-keyed kernel cache is off "
              "(NUMBA_CACHE_DIR, NUMBA_CACHE_LOCATOR_CLASSES or MLTA_KERNEL_CACHE=off); "
              "nothing to warm", file=sys.stderr)
        return 0
    seconds = warm(opts.jobs, opts.seed)
    where = marker().parent
    print(f"feature kernels: {'compiled' if seconds else 'already cached'} in {where}"
          + (f" ({seconds:.0f}s)" if seconds else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
