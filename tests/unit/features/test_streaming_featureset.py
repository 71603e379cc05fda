"""StreamingFeatureSet: the streaming twin of build_features, one candle at a time."""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd
import pytest

from mlta.errors import DataError, SpecError
from mlta.features.pipeline import build_features, feature_columns
from mlta.features.registry import Indicator, list_indicators
from mlta.features.streaming import StreamingFeatureSet, streamable
from mlta.specs.datapipeline import IndicatorSpec, default_indicators

from .conftest import generated_candles


def _all_specs() -> list[IndicatorSpec]:
    """Every streamable indicator with defaults, plus a duplicate (computed once by plan)."""
    specs = [IndicatorSpec(name=name) for name in streamable()]
    return [*specs, IndicatorSpec(name="rsi", params={"window": 14})]


def _assert_frames_equal(batch: pd.DataFrame, streamed: pd.DataFrame) -> None:
    assert list(streamed.columns) == list(batch.columns)
    for column in batch.columns:
        b = batch[column].to_numpy()
        s = streamed[column].to_numpy()
        assert np.array_equal(b, s, equal_nan=True), f"{column} differs"


#: Bars of each recorded series the whole-registry case streams. Each indicator's stream is
#: already held equal to its kernel over every recorded bar (test_streaming_parity.py); this
#: case checks the set's assembly (plan, dedupe, column order, shared inputs), which 3000
#: bars, past every warm-up, show as well as 30000 in a fifth of the time (it was the
#: slowest test of the suite under coverage: 200 s).
ALL_SPECS_BARS = 3000


@pytest.mark.parametrize("which", ["gold", "all"])
def test_feature_vectors_equal_build_features(which: str, recorded: dict[str, pd.DataFrame]) -> None:
    specs = default_indicators() if which == "gold" else _all_specs()
    gapped = generated_candles(1200, seed=3)
    gapped.loc[[100, 101, 640], "close"] = np.nan
    gapped.loc[800, "volume"] = np.nan
    series = recorded if which == "gold" else {
        name: frame.iloc[:ALL_SPECS_BARS].reset_index(drop=True) for name, frame in recorded.items()}
    frames = {**series, "generated_gaps": gapped}
    for frame in frames.values():
        built, columns = build_features(frame, specs)
        stream = StreamingFeatureSet(specs)
        assert stream.columns == columns == feature_columns(specs)
        _assert_frames_equal(built[columns], stream.run(frame))


def test_update_returns_the_current_row(recorded: dict[str, pd.DataFrame]) -> None:
    frame = next(iter(recorded.values())).iloc[:400]
    specs = default_indicators()
    built, columns = build_features(frame, specs)
    stream = StreamingFeatureSet(specs)
    for i, row in enumerate(frame.to_dict("records")):
        vector = stream.update_row(row)
        assert vector.dtype == np.float64 and vector.shape == (len(columns),)
        assert np.array_equal(vector, built[columns].iloc[i].to_numpy(), equal_nan=True)


def test_reset_starts_a_new_series() -> None:
    a = generated_candles(300, seed=1)
    b = generated_candles(300, seed=2)
    specs = default_indicators()
    stream = StreamingFeatureSet(specs)
    stream.run(a)
    stream.reset()
    fresh = StreamingFeatureSet(specs).run(b)
    _assert_frames_equal(fresh, stream.run(b))


def test_candles_out_of_order_are_refused() -> None:
    frame = generated_candles(5)
    stream = StreamingFeatureSet(default_indicators())
    rows = frame.to_dict("records")
    stream.update_row(rows[1])
    with pytest.raises(DataError, match="older than the previous"):
        stream.update_row(rows[0])
    stream.update_row(rows[1])  # the same time again is allowed, as in the batch pipeline


def test_specs_are_validated_like_the_batch_pipeline() -> None:
    with pytest.raises(SpecError, match="window"):
        StreamingFeatureSet([IndicatorSpec(name="rsi", params={"window": 0})])
    with pytest.raises(SpecError, match="unknown indicator"):
        StreamingFeatureSet([IndicatorSpec(name="no_such_indicator")])


def test_an_indicator_without_stream_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlta.features import registry

    registry.registry()
    fake = Indicator("fake_batch_only", "overlap", "test only", ("close",), ("fake_batch_only",),
                     "overlap.sma", lambda p: 0, stream="overlap.no_such_stream")
    monkeypatch.setitem(registry._REGISTRY, fake.name, fake)
    with pytest.raises(SpecError, match="fake_batch_only"):
        StreamingFeatureSet([IndicatorSpec(name="fake_batch_only"), *default_indicators()])


def test_state_stays_bounded() -> None:
    """O(1) memory per indicator: the buffers hold at most a window, however long the stream."""
    specs = [IndicatorSpec(name=i.name) for i in list_indicators() if i.name in streamable()]
    stream = StreamingFeatureSet(specs)
    frame = generated_candles(2000, seed=9)
    stream.run(frame)

    def sizes() -> list[int]:
        found: list[int] = []
        for s in stream._streams:
            stack = [s.state]
            while stack:
                obj = stack.pop()
                for slot in getattr(type(obj), "__slots__", ()):
                    value = getattr(obj, slot, None)
                    if isinstance(value, deque):
                        found.append(len(value))
                    elif hasattr(value, "__slots__"):
                        stack.append(value)
        return found

    before = sizes()
    stream.run(generated_candles(2000, seed=10).assign(
        open_time=frame["open_time"] + pd.Timedelta(days=30)))
    assert sizes() == before
    assert max(before) <= 200
