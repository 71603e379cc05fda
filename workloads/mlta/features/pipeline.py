"""The feature pipeline: one symbol's candles in, the same frame with feature columns out.

The Gold layer calls ``build_features`` per symbol (indicators must never mix symbols). All
indicator and transform specs are validated before anything is computed (``plan_features``),
so a bad spec fails fast with a message naming the indicator or transform, the parameter and
the allowed range. The streaming twin (``streaming/featureset.py``) uses the same plan, so
column names and order are shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlta.errors import DataError, SpecError

from .registry import Indicator, Params, get
from .transforms import TransformStep, apply_transforms, base_inputs, excluded, plan_transforms

if TYPE_CHECKING:
    import pandas as pd

    from mlta.specs.datapipeline import Features, IndicatorSpec, TransformSpec

TIME_COLUMN = "open_time"


def plan(indicators: Sequence[IndicatorSpec]) -> list[tuple[Indicator, Params, list[str]]]:
    """Validate specs and resolve each to (indicator, params, column names).

    Specs that resolve to the same columns (``{}`` and the explicit defaults) are computed
    once. Raises SpecError on an unknown indicator or a bad parameter.
    """
    steps: list[tuple[Indicator, Params, list[str]]] = []
    seen: set[str] = set()
    for spec in indicators:
        indicator = get(spec.name)
        params = indicator.resolve(spec.params)
        columns = indicator.column_names(params)
        if seen.issuperset(columns):
            continue
        seen.update(columns)
        steps.append((indicator, params, columns))
    return steps


@dataclass(frozen=True)
class FeaturePlan:
    """Everything a feature set computes, resolved once for the batch and streaming forms.

    ``computed`` is every column in computation order (indicator columns, then transform
    outputs); ``columns`` is what the caller gets: ``computed`` minus ``exclude``.
    """

    indicators: list[tuple[Indicator, Params, list[str]]]
    transforms: list[TransformStep]
    computed: list[str]
    columns: list[str]


def plan_features(
    indicators: Sequence[IndicatorSpec],
    transforms: Sequence[TransformSpec] = (),
    exclude: Sequence[str] = (),
) -> FeaturePlan:
    """Validate and resolve a whole feature set (raises SpecError naming the bad part)."""
    steps = plan(indicators)
    features = [column for _, _, columns in steps for column in columns]
    transform_steps = plan_transforms(transforms, features)
    computed = features + [name for step in transform_steps for name in step.outputs]
    dropped = excluded(computed, exclude)
    columns = [c for c in computed if c not in dropped]
    if not columns:
        raise SpecError("features.exclude drops every feature column",
                        hint="exclude only intermediate columns")
    return FeaturePlan(steps, transform_steps, computed, columns)


def plan_spec(features: Features) -> FeaturePlan:
    """:func:`plan_features` for a ``Features`` spec."""
    return plan_features(features.indicators, features.transforms, features.exclude)


def feature_columns(
    indicators: Sequence[IndicatorSpec],
    transforms: Sequence[TransformSpec] = (),
    exclude: Sequence[str] = (),
) -> list[str]:
    """The column names ``build_features`` would add, without computing anything."""
    return plan_features(indicators, transforms, exclude).columns


def build_features(
    frame: pd.DataFrame,
    indicators: list[IndicatorSpec],
    transforms: Sequence[TransformSpec] = (),
    exclude: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str]]:
    """Add float64 ``f_*`` feature columns to a copy of one symbol's candles.

    ``frame`` is sorted by time and has columns open/high/low/close/volume (and usually
    open_time/close_time). Warm-up rows are NaN; a row with a NaN input is NaN and the
    indicators re-warm after it. Every value at row t uses rows <= t only. ``transforms`` run
    after the indicators (see ``transforms.py``); ``exclude`` names computed columns to leave
    out. Returns the new frame and the added column names, in spec order.
    """
    import numpy as np
    import pandas as pd

    feature_plan = plan_features(indicators, transforms, exclude)
    steps = feature_plan.indicators
    needed = sorted({name for indicator, _, _ in steps for name in indicator.inputs}
                    | base_inputs(feature_plan.transforms))
    missing = [name for name in needed if name not in frame.columns]
    if missing:
        raise DataError(
            f"candles are missing column(s) {missing} needed by the feature set",
            hint="pass candles with open, high, low, close and volume columns",
        )
    if TIME_COLUMN in frame.columns and not frame[TIME_COLUMN].is_monotonic_increasing:
        raise DataError(
            f"candles are not sorted by {TIME_COLUMN}",
            hint="sort one symbol's candles by time before building features",
        )
    data = {
        name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in needed
    }
    computed: dict[str, np.ndarray] = {}
    for indicator, params, columns in steps:
        outputs = indicator.compute(data, params)
        for column, output in zip(columns, indicator.outputs, strict=True):
            computed[column] = outputs[output]
    if feature_plan.transforms:
        computed.update(apply_transforms(feature_plan.transforms, {**data, **computed}))
    new_columns = {name: computed[name] for name in feature_plan.columns}
    extra = pd.DataFrame(new_columns, index=frame.index, dtype=np.float64)
    base = frame.drop(columns=[c for c in new_columns if c in frame.columns])
    return pd.concat([base, extra], axis=1), list(new_columns)


def featurizer(
    transforms: Sequence[TransformSpec] = (), exclude: Sequence[str] = ()
) -> Callable[[pd.DataFrame, list[IndicatorSpec]], tuple[pd.DataFrame, list[str]]]:
    """``build_features`` with the transforms and exclusions bound, in the
    ``(frame, indicators)`` shape the Gold layer calls (``mlta.data.gold.featurize``)."""
    return functools.partial(build_features, transforms=list(transforms),
                             exclude=list(exclude))
