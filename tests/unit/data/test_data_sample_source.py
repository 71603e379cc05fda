"""The sample generator: deterministic, realistic, and stable across processes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from mlta.data.sources import make_source, source_key
from mlta.data.sources.base import STANDARD_COLUMNS
from mlta.data.sources.sample import BLOCK, DEFAULT_ORIGIN, SampleSource, stable_hash
from mlta.errors import SourceError
from mlta.specs.datapipeline import Source


def test_same_inputs_give_identical_candles() -> None:
    a = SampleSource(seed=7, bars=2000).fetch("BTCUSDT", "5m", None, None)
    b = SampleSource(seed=7, bars=2000).fetch("BTCUSDT", "5m", None, None)
    assert a.equals(b)
    assert a.num_rows == 2000
    assert tuple(a.column_names) == STANDARD_COLUMNS
    assert a.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")


def test_seed_symbol_interval_and_origin_change_the_stream() -> None:
    base = SampleSource(seed=7, bars=500).fetch("BTCUSDT", "5m", None, None)
    other_seed = SampleSource(seed=8, bars=500).fetch("BTCUSDT", "5m", None, None)
    other_symbol = SampleSource(seed=7, bars=500).fetch("ETHUSDT", "5m", None, None)
    other_interval = SampleSource(seed=7, bars=500).fetch("BTCUSDT", "1h", None, None)
    later = SampleSource(seed=7, bars=500, origin=DEFAULT_ORIGIN + timedelta(days=1))
    for changed in (other_seed, other_symbol, other_interval,
                    later.fetch("BTCUSDT", "5m", None, None)):
        assert not np.allclose(changed["close"].to_numpy(), base["close"].to_numpy())


def test_symbol_hash_is_stable_across_processes() -> None:
    """Python's hash() is salted per process; the generator must not depend on it."""
    code = ("from mlta.data.sources.sample import SampleSource;"
            "t = SampleSource(seed=3, bars=300).fetch('SOLUSDT', '5m', None, None);"
            "print(repr(t['close'].to_pylist()[-1]))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
            for seed in ("1", "2")}
    local = SampleSource(seed=3, bars=300).fetch("SOLUSDT", "5m", None, None)
    assert outs == {repr(local["close"].to_pylist()[-1]) + "\n"}
    assert stable_hash("SOLUSDT") == stable_hash("SOLUSDT") != stable_hash("SOLUSDC")


def test_a_slice_equals_the_same_rows_of_a_full_fetch_across_blocks() -> None:
    src = SampleSource(seed=1, bars=BLOCK + 5000)
    full = src.fetch("BTCUSDT", "1m", None, None)
    t0 = DEFAULT_ORIGIN + timedelta(minutes=BLOCK - 100)
    part = src.fetch("BTCUSDT", "1m", t0, t0 + timedelta(minutes=300))
    assert part.num_rows == 300
    assert part.equals(full.slice(BLOCK - 100, 300))
    # Resuming right after the last stored candle continues the same stream.
    tail = src.fetch("BTCUSDT", "1m", t0 + timedelta(minutes=300), None)
    assert tail.num_rows == full.num_rows - (BLOCK - 100 + 300)
    assert tail.equals(full.slice(BLOCK + 200))


def test_candles_are_on_the_grid_and_ohlc_consistent() -> None:
    t = SampleSource(seed=5, bars=20_000).fetch("ETHUSDT", "15m", None, None)
    ms = t["open_time"].cast(pa.int64()).to_numpy()
    assert (np.diff(ms) == 900_000).all() and (ms % 900_000 == 0).all()
    assert (t["close_time"].cast(pa.int64()).to_numpy() == ms + 900_000 - 1).all()
    o, h, lo, c, v = (t[n].to_numpy() for n in ("open", "high", "low", "close", "volume"))
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    assert (lo > 0).all() and (v > 0).all()
    assert np.allclose(o[1:], c[:-1])  # continuous: each bar opens at the previous close


def test_volatility_regimes_fat_tails_and_volume_follow_the_move() -> None:
    t = SampleSource(seed=11, bars=60_000).fetch("BTCUSDT", "5m", None, None)
    ret = np.diff(np.log(t["close"].to_numpy()))
    rolling = np.array([ret[i:i + 500].std() for i in range(0, len(ret) - 500, 500)])
    assert rolling.max() / rolling.min() > 2.5          # regimes: calm and turbulent spells
    kurtosis = ((ret - ret.mean()) ** 4).mean() / ret.var() ** 2
    assert kurtosis > 4                                  # fat tails, unlike a plain normal
    volume = t["volume"].to_numpy()[1:]
    assert np.corrcoef(np.abs(ret), volume)[0, 1] > 0.3  # volume grows with |return|


def test_range_filters_and_bounds() -> None:
    src = SampleSource(seed=1, bars=1000)
    start = DEFAULT_ORIGIN + timedelta(minutes=5 * 10)
    t = src.fetch("BTCUSDT", "5m", start, start + timedelta(minutes=5 * 20))
    assert t.num_rows == 20
    assert t["open_time"][0].as_py() == start
    past_end = src.fetch("BTCUSDT", "5m", DEFAULT_ORIGIN + timedelta(days=365), None)
    assert past_end.num_rows == 0 and past_end.column_names == list(STANDARD_COLUMNS)
    naive = src.fetch("BTCUSDT", "5m", start.replace(tzinfo=None), None)
    assert naive["open_time"][0].as_py() == start
    with pytest.raises(SourceError, match="unknown interval"):
        src.fetch("BTCUSDT", "7m", None, None)


def test_make_source_and_source_key_follow_the_spec(tmp_path) -> None:
    spec = Source.model_validate({"type": "sample", "symbols": ["BTCUSDT"],
                                  "sample": {"seed": 9, "bars": 150},
                                  "start": "2023-05-01T00:00:00Z"})
    src = make_source(spec)
    t = src.fetch("BTCUSDT", "5m", None, None)
    assert t.num_rows == 150
    assert t["open_time"][0].as_py() == datetime(2023, 5, 1, tzinfo=UTC)
    other = Source.model_validate({"type": "sample", "symbols": ["BTCUSDT"],
                                   "sample": {"seed": 10, "bars": 150}})
    assert source_key(spec) != source_key(other)
    assert source_key(spec).startswith("sample-")
    files = Source.model_validate({"type": "files", "symbols": ["ADA_BTC"],
                                   "files": {"uri": str(tmp_path), "format": "csv"}})
    assert make_source(files).format == "csv"  # type: ignore[attr-defined]
    assert source_key(files).startswith("files-")
    binance = Source.model_validate({"type": "binance", "symbols": ["BTCUSDT"]})
    assert source_key(binance) == "binance"
    fake = Source.model_validate({"type": "binance", "symbols": ["BTCUSDT"],
                                  "binance": {"baseUrl": "http://127.0.0.1:9"}})
    assert source_key(fake).startswith("binance-")
    assert type(make_source(fake)).__name__ == "BinanceSource"
