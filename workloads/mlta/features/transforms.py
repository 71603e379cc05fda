"""Column transforms of the feature set: lags, differences, percent changes, rolling moments.

A ``TransformSpec`` names columns (feature names, glob patterns over them, or the candle
columns open/high/low/close/volume) and periods; each (column, period) gives one output column
``<input>__<suffix>_<period>`` (``f_rsi_14__lag_1``, ``f_close__zscore_50``). Transforms run in
spec order after the indicators, so a later transform may read an earlier one's output.

Every transform is causal: the value at row t reads rows t-period..t of its input and nothing
after, so truncating the series after t never changes it. Non-finite inputs give NaN:

- ``lag p``: x[t-p]; ``diff p``: x[t] - x[t-p]; ``pct_change p``: x[t] / x[t-p] - 1 (NaN when
  x[t-p] is 0, instead of an infinite feature).
- ``rolling_mean/std/zscore w``: moments of the last ``w`` rows, NaN unless all ``w`` are
  finite; population std; z-score (x - mean) / std, and 0 when the window has no dispersion.

The rolling moments keep running sums of ``x - k`` (``k`` the value at the last exact
re-summation, so a tiny variance next to a large mean does not cancel) and re-sum the window
exactly every ``w`` rows and whenever it becomes all-finite again. The schedule depends only on
the rows seen so far, so the streaming twin (``streaming/transforms.py``) performs the same
operations in the same order and agrees bit for bit; so does the same series cut short.

Planning imports neither numpy nor numba (the operator validates specs with it); the rolling
kernel lives in ``_transform_kernels`` and is imported when a transform first runs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlta.errors import SpecError

from . import FEATURE_PREFIX
from .registry import PRICE_INPUTS

if TYPE_CHECKING:
    import numpy as np

    from mlta.specs.datapipeline import TransformSpec

#: Output name suffix per transform kind.
SUFFIX = {
    "lag": "lag",
    "diff": "diff",
    "pct_change": "pct",
    "rolling_mean": "mean",
    "rolling_std": "std",
    "rolling_zscore": "zscore",
}
#: Kinds computed from the rolling moments, and which of (mean, std, zscore) each returns.
ROLLING = {"rolling_mean": 0, "rolling_std": 1, "rolling_zscore": 2}
SEPARATOR = "__"
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class TransformStep:
    """One input column transformed with every period of a spec: ``outputs[i]`` is the
    column for ``periods[i]``. ``source`` is a feature name or a candle column."""

    kind: str
    source: str
    periods: tuple[int, ...]
    outputs: tuple[str, ...]


def _kind(spec: TransformSpec) -> str:
    kind = spec.kind
    return str(getattr(kind, "value", kind))


def output_name(source: str, kind: str, period: int) -> str:
    """``f_rsi_14__lag_1``; a candle column is named as a feature (``close`` -> ``f_close``)."""
    base = source if source.startswith(FEATURE_PREFIX) else f"{FEATURE_PREFIX}{source}"
    return f"{base}{SEPARATOR}{SUFFIX[kind]}_{period}"


def match(pattern: str, available: Sequence[str]) -> list[str]:
    """Columns ``pattern`` names, in ``available`` order; a bare candle column matches itself."""
    if _GLOB.intersection(pattern):
        return [name for name in available if fnmatch.fnmatchcase(name, pattern)]
    if pattern in available or pattern in PRICE_INPUTS:
        return [pattern]
    return []


def plan_transforms(
    transforms: Iterable[TransformSpec], features: Sequence[str]
) -> list[TransformStep]:
    """Resolve column patterns against ``features`` (then earlier transforms' outputs).

    Raises SpecError when a pattern matches nothing (a typo would otherwise silently drop
    features) or a rolling window is below 2. Outputs that already exist are computed once.
    """
    available = list(features)
    known = set(available)
    steps: list[TransformStep] = []
    for index, spec in enumerate(transforms):
        kind = _kind(spec)
        if kind not in SUFFIX:
            raise SpecError(f"features.transforms[{index}]: unknown kind {kind!r}",
                            hint=f"use one of {sorted(SUFFIX)}")
        periods = tuple(int(p) for p in spec.periods)
        if kind in ROLLING and min(periods) < 2:
            raise SpecError(f"features.transforms[{index}]: {kind} windows {list(periods)} "
                            "must be at least 2", hint="set periods to 2 or more")
        sources: list[str] = []
        for pattern in spec.columns:
            found = match(pattern, available)
            if not found:
                raise SpecError(
                    f"features.transforms[{index}] ({kind}): column {pattern!r} matches no "
                    "feature",
                    hint="name a feature the indicators produce (see feature_columns), a glob "
                         "such as f_rsi_*, or a candle column open/high/low/close/volume",
                )
            sources.extend(name for name in found if name not in sources)
        for source in sources:
            names = [output_name(source, kind, p) for p in periods]
            fresh = [(p, n) for p, n in zip(periods, names, strict=True) if n not in known]
            if not fresh:
                continue
            known.update(n for _, n in fresh)
            available.extend(n for _, n in fresh)
            steps.append(TransformStep(kind, source, tuple(p for p, _ in fresh),
                                       tuple(n for _, n in fresh)))
    return steps


def excluded(columns: Sequence[str], exclude: Iterable[str]) -> set[str]:
    """The columns the ``exclude`` patterns name; a pattern naming none is a SpecError."""
    dropped: set[str] = set()
    for pattern in exclude:
        found = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
        if not found:
            raise SpecError(f"features.exclude: {pattern!r} matches no feature column",
                            hint="exclude names or glob patterns of computed feature columns")
        dropped.update(found)
    return dropped


def base_inputs(steps: Iterable[TransformStep]) -> set[str]:
    """Candle columns the transforms read directly."""
    return {step.source for step in steps if step.source in PRICE_INPUTS}


def lag(x: np.ndarray, p: int) -> np.ndarray:
    """x[t - p], NaN for the first ``p`` rows."""
    import numpy as np

    out = np.full(x.size, np.nan)
    if x.size > p:
        out[p:] = x[:-p]
    return out


def diff(x: np.ndarray, p: int) -> np.ndarray:
    """x[t] - x[t - p]."""
    import numpy as np

    out = np.full(x.size, np.nan)
    if x.size > p:
        out[p:] = x[p:] - x[:-p]
    return out


def pct_change(x: np.ndarray, p: int) -> np.ndarray:
    """x[t] / x[t - p] - 1, NaN where x[t - p] is 0."""
    import numpy as np

    out = np.full(x.size, np.nan)
    if x.size > p:
        prev = x[:-p]
        ok = prev != 0.0
        ratio = np.divide(x[p:], prev, out=np.full(prev.size, np.nan), where=ok)
        out[p:] = np.where(ok, ratio - 1.0, np.nan)
    return out


def rolling_moments(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, population std, z-score) of the last ``w`` rows; see the module doc."""
    import numpy as np

    from ._transform_kernels import rolling_moments as kernel

    return kernel(np.ascontiguousarray(x, dtype=np.float64), int(w))  # type: ignore[no-any-return]


_SIMPLE = {"lag": lag, "diff": diff, "pct_change": pct_change}


def apply(step: TransformStep, x: np.ndarray) -> dict[str, np.ndarray]:
    """The output columns of one step on its input array."""
    if step.kind in ROLLING:
        which = ROLLING[step.kind]
        return {name: rolling_moments(x, p)[which]
                for p, name in zip(step.periods, step.outputs, strict=True)}
    func = _SIMPLE[step.kind]
    return {name: func(x, p) for p, name in zip(step.periods, step.outputs, strict=True)}


def apply_transforms(
    steps: Sequence[TransformStep], columns: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Run ``steps`` in order; ``columns`` holds the features and the candle columns they read.
    Returns only the transforms' outputs."""
    values = dict(columns)
    outputs: dict[str, np.ndarray] = {}
    for step in steps:
        new = apply(step, values[step.source])
        values.update(new)
        outputs.update(new)
    return outputs
