"""The default Gold feature set, as a whole: no feature looks ahead, streaming equals batch.

For every column of the default set (indicators, transforms, exclusions) the value at row t is
bit for bit the same computed on rows[:t+1] as on the whole series; labels are the only
columns that may differ, and they are recognised by the look-ahead marker alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.features.labels import add_labels, add_triple_barrier, is_lookahead
from mlta.features.pipeline import build_features
from mlta.features.streaming import StreamingFeatureSet
from mlta.specs.datapipeline import Features

from .conftest import generated_candles

SPEC = Features()


def _gold(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    return build_features(frame, SPEC.indicators, SPEC.transforms, SPEC.exclude)


def _gold_and_labels(frame: pd.DataFrame) -> pd.DataFrame:
    out, _ = _gold(frame)
    out, _ = add_labels(out, horizon=6, dead_band=0.001)
    out, _ = add_triple_barrier(out, horizon=12, upper=1.5, lower=1.0, vol_window=48)
    return out


def _gapped(n: int, seed: int) -> pd.DataFrame:
    frame = generated_candles(n, seed=seed)
    frame.loc[[150, 151, 700], "close"] = np.nan
    frame.loc[420, "volume"] = np.nan
    frame.loc[[900], ["high", "low"]] = np.nan
    return frame


def _cuts(n: int) -> list[int]:
    """Rows around the longest warm-ups, re-summation boundaries and spread over the data."""
    near = [0, 1, 13, 47, 48, 199, 200, 287, 288, 299, 300, 575, 576, 577, 599]
    spread = np.linspace(610, n - 2, 6).astype(int).tolist()
    return sorted({t for t in near + spread if t < n - 1})


def _assert_no_lookahead(frame: pd.DataFrame, label: str) -> None:
    full = _gold_and_labels(frame)
    new = [c for c in full.columns if c not in frame.columns]
    assert all(c.startswith("f_") or is_lookahead(c) for c in new), new
    features = [c for c in new if not is_lookahead(c)]
    labels = [c for c in new if is_lookahead(c)]
    assert len(features) >= 100 and len(labels) >= 5
    changed_labels: set[str] = set()
    for t in _cuts(len(frame)):
        prefix = _gold_and_labels(frame.iloc[: t + 1])
        for column in features:
            a = prefix[column].to_numpy()
            b = full[column].to_numpy()[: t + 1]
            assert np.array_equal(a, b, equal_nan=True), (
                f"{column} on {label}: rows <= {t} change when later rows exist")
        for column in labels:
            if not prefix[column].equals(full[column].iloc[: t + 1]):
                changed_labels.add(column)
    # the exemption is needed: every label does read rows after t
    assert changed_labels == set(labels)


def test_default_gold_features_are_causal_on_generated_candles_with_gaps() -> None:
    _assert_no_lookahead(_gapped(1400, seed=17), "generated with gaps")


def test_default_gold_features_are_causal_on_recorded(recorded: dict[str, pd.DataFrame]) -> None:
    for name, frame in recorded.items():
        _assert_no_lookahead(frame.iloc[:1500].reset_index(drop=True), name)


@pytest.mark.parametrize("source", ["recorded", "generated_gaps"])
def test_streaming_default_gold_equals_build_features(
    source: str, recorded: dict[str, pd.DataFrame]
) -> None:
    frames = recorded if source == "recorded" else {"gaps": _gapped(2000, seed=4)}
    for name, frame in frames.items():
        built, columns = _gold(frame)
        stream = StreamingFeatureSet.from_spec(SPEC)
        assert stream.columns == columns
        streamed = stream.run(frame)
        for column in columns:
            assert np.array_equal(streamed[column].to_numpy(), built[column].to_numpy(),
                                  equal_nan=True), f"{column} differs on {name}"


def test_streaming_reset_restarts_transforms_too() -> None:
    a = generated_candles(700, seed=1)
    b = generated_candles(700, seed=2, price=3.0)
    stream = StreamingFeatureSet.from_spec(SPEC)
    stream.run(a)
    stream.reset()
    built, columns = _gold(b)
    again = stream.run(b)
    assert np.array_equal(again.to_numpy(), built[columns].to_numpy(), equal_nan=True)
