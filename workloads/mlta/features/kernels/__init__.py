"""Numba kernels: float64 numpy arrays in, float64 numpy arrays out.

Conventions every kernel follows (the registry relies on them):

- Inputs are finite. The registry splits a series at NaN rows and runs kernels on each finite
  segment, so a gap re-starts the warm-up instead of poisoning a recursive state forever.
- Outputs have the input's length; the first ``lookback`` values are NaN (TA-Lib's lookback),
  and a series shorter than that is all NaN, never an out-of-bounds read.
- Intermediate arrays may start with NaN (an EMA of an EMA); kernels that are composed accept
  leading NaNs and seed from the first finite value.
- Every value at index t is computed from inputs at indices <= t only (causality), and the
  definitions follow TA-Lib (EMA seeded with the SMA of the first window, Wilder smoothing for
  RSI/ATR/ADX) so results agree with it to floating point round-off.
- Rolling sums are re-summed exactly every ``window`` steps, at absolute indices, so the
  round-off of a long running sum does not accumulate (a volume spike leaving the window would
  otherwise leave residue) and the result on a prefix is still identical to the full run.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _drop_stale_numba_cache() -> None:
    """Delete numba's on-disk cache when any kernel source changed.

    numba invalidates a cached function only when *its own* file changes, so editing a helper
    in ``_common.py`` would keep running the old compiled helper inside the callers' caches.
    Hashing all kernel sources into a stamp makes any edit drop every cached kernel.
    """
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for source in sorted(here.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "kernels.sha256"
    try:
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        cache.mkdir(exist_ok=True)
        for stale in (*cache.glob("*.nbi"), *cache.glob("*.nbc")):
            stale.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:
        return  # a read-only install: numba falls back to its user cache directory


_drop_stale_numba_cache()
