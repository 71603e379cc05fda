"""Streaming forms equal the batch kernels bit for bit, and every indicator has one.

Each registered indicator with a streaming form is run both ways over the recorded candles and
over generated candles (flat bars, zero volume, NaN/inf gaps, segments shorter than the
warm-up), with default, alternative and lower-bound parameters; the outputs must be
``np.array_equal`` with NaN in the same places: not close, equal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import SpecError
from mlta.features.registry import Indicator, list_indicators
from mlta.features.streaming import IndicatorStream, missing_streams, stream_factory

from .conftest import generated_candles

INDICATORS = list_indicators()
STREAMABLE = [i for i in INDICATORS if stream_factory(i) is not None]
INPUTS = ("open", "high", "low", "close", "volume")
MA_TYPES = (0, 1, 2, 3, 4, 5, 6, 8)  # TA-Lib MA types offered by the ``matype`` parameters
# Non-default parameters beyond {"window": 5}, so a stream that ignores a parameter is caught.
ALT_PARAMS: dict[str, dict[str, float]] = {
    "macd": {"fast": 5, "slow": 35, "signal": 5},
    "stoch": {"fastk": 5, "slowk": 4, "slowd": 2},
    "stochf": {"fastk": 9, "fastd": 4},
    "bbands": {"window": 10, "k": 1.5},
    "bollinger_pctb": {"window": 10, "k": 2.5},
    "keltner": {"window": 10, "k": 1.5},
    "adosc": {"fast": 5, "slow": 21},
    "stddev": {"window": 7, "k": 2.0},
}


def _param_sets(ind: Indicator) -> list[dict[str, float]]:
    """Defaults, an alternative, and every parameter at its lower bound when that is valid."""
    sets: list[dict[str, float]] = [{}]
    if ind.name in ALT_PARAMS:
        sets.append(ALT_PARAMS[ind.name])
    elif any(p.name == "window" for p in ind.params):
        sets.append({"window": 5})
    ma_params = [p.name for p in ind.params if p.name == "matype" or p.name.endswith("_ma")]
    for matype in MA_TYPES if ma_params else ():
        sets.append({name: matype for name in ma_params})
    lowest = {p.name: p.low for p in ind.params}
    try:
        ind.resolve(lowest)
    except SpecError:
        return sets
    if lowest:
        sets.append(lowest)
    return sets


def _data(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy(dtype=np.float64, copy=True) for c in INPUTS}


def gapped_candles() -> dict[str, np.ndarray]:
    """Generated candles with NaN and inf rows: single gaps, a run of gaps, a short stretch
    between gaps (shorter than most warm-ups) and gaps in one input only."""
    data = _data(generated_candles(2500, seed=23))
    for row in (150, 151, 152, 900):
        data["close"][row] = np.nan
    data["close"][160] = np.nan  # a 7-row stretch between gaps
    data["high"][1300] = np.inf
    data["volume"][1700] = np.nan
    data["open"][2100] = np.nan
    return data


@pytest.fixture(scope="module")
def datasets(recorded: dict[str, pd.DataFrame]) -> dict[str, dict[str, np.ndarray]]:
    sets = {name: _data(frame) for name, frame in recorded.items()}
    sets["generated"] = _data(generated_candles(3000))
    sets["generated_gaps"] = gapped_candles()
    return sets


def assert_stream_equals_batch(ind: Indicator, data: dict[str, np.ndarray],
                               params: dict[str, float], label: str) -> None:
    batch = ind.compute(data, params)
    streamed = IndicatorStream(ind, params).run(data)
    for output in ind.outputs:
        b, s = batch[output], streamed[output]
        same = (b == s) | (np.isnan(b) & np.isnan(s))
        if not same.all():
            row = int(np.argmin(same))
            pytest.fail(f"{ind.name}.{output} {ind.resolve(params)} on {label}: "
                        f"{int((~same).sum())} rows differ, first at {row}: "
                        f"batch {b[row]!r} stream {s[row]!r}")
        assert np.array_equal(b, s, equal_nan=True)


def test_every_registered_indicator_has_a_streaming_form() -> None:
    """Coverage is enforced: registering an indicator without a streaming form fails here."""
    missing = missing_streams()
    assert not missing, (
        f"{len(missing)} indicator(s) have no streaming form: {missing}; add a class to the "
        "STREAMS table of mlta/features/streaming/<kernel module>.py (or set Indicator.stream)")


def test_the_coverage_check_sees_a_new_indicator(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlta.features import registry

    registry.registry()  # load the catalog first
    fake = Indicator("fake_no_stream", "overlap", "test only", ("close",), ("fake_no_stream",),
                     "overlap.fake_no_stream", lambda p: 0)
    monkeypatch.setitem(registry._REGISTRY, fake.name, fake)
    assert "fake_no_stream" in missing_streams()
    assert stream_factory(fake) is None
    with pytest.raises(SpecError, match="no streaming form"):
        IndicatorStream(fake)
    # a stream named explicitly is found through Indicator.stream
    named = Indicator("fake_named", "overlap", "test only", ("close",), ("fake_named",),
                      "overlap.fake_no_stream", lambda p: 19, stream="overlap.sma")
    assert stream_factory(named) is stream_factory(registry.get("sma"))


@pytest.mark.parametrize("ind", STREAMABLE, ids=lambda i: i.name)
def test_stream_equals_batch(ind: Indicator, datasets: dict[str, dict[str, np.ndarray]]) -> None:
    for params in _param_sets(ind):
        for label, data in datasets.items():
            assert_stream_equals_batch(ind, data, params, label)


@pytest.mark.parametrize("name", ["sma", "rsi", "atr", "bbands", "obv", "mfi"])
def test_state_resets_after_a_gap(name: str) -> None:
    """After a NaN row the stream re-warms: the values equal a fresh run on the rows after it."""
    ind = next(i for i in INDICATORS if i.name == name)
    data = _data(generated_candles(600, seed=5))
    data["close"][300] = np.nan
    stream = IndicatorStream(ind).run(data)
    fresh = IndicatorStream(ind).run({k: v[301:] for k, v in data.items()})
    for output in ind.outputs:
        assert np.isnan(stream[output][300])
        assert np.array_equal(stream[output][301:], fresh[output], equal_nan=True)
        assert np.isnan(stream[output][301:301 + ind.warmup()]).all()
