"""The feature pipeline: one symbol's candles in, the same frame with feature columns out.

The Gold layer calls ``build_features`` per symbol (indicators must never mix symbols). All
indicator specs are validated before anything is computed, so a bad spec fails fast with a
message naming the indicator, the parameter and the allowed range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlta.errors import DataError

from .registry import Indicator, Params, get

if TYPE_CHECKING:
    import pandas as pd

    from mlta.specs.datapipeline import IndicatorSpec

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


def feature_columns(indicators: Sequence[IndicatorSpec]) -> list[str]:
    """The column names ``build_features`` would add, without computing anything."""
    return [column for _, _, columns in plan(indicators) for column in columns]


def build_features(
    frame: pd.DataFrame, indicators: list[IndicatorSpec]
) -> tuple[pd.DataFrame, list[str]]:
    """Add float64 ``f_*`` feature columns to a copy of one symbol's candles.

    ``frame`` is sorted by time and has columns open/high/low/close/volume (and usually
    open_time/close_time). Warm-up rows are NaN; a row with a NaN input is NaN and the
    indicators re-warm after it. Every value at row t uses rows <= t only.
    Returns the new frame and the added column names, in spec order.
    """
    import numpy as np
    import pandas as pd

    steps = plan(indicators)
    needed = sorted({name for indicator, _, _ in steps for name in indicator.inputs})
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
    new_columns: dict[str, np.ndarray] = {}
    for indicator, params, columns in steps:
        outputs = indicator.compute(data, params)
        for column, output in zip(columns, indicator.outputs, strict=True):
            new_columns[column] = outputs[output]
    extra = pd.DataFrame(new_columns, index=frame.index, dtype=np.float64)
    base = frame.drop(columns=[c for c in new_columns if c in frame.columns])
    return pd.concat([base, extra], axis=1), list(new_columns)
