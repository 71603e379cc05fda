"""BinanceSource against the fake exchange over real loopback HTTP: data, ranges, resume."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pytest
from tests.support.fake_binance import FakeBinance, FakeClock, binance_decimal

from mlta.data.sources.base import INTERVAL_MS, STANDARD_COLUMNS
from mlta.data.sources.binance import EXTRA_COLUMNS, BinanceSource, kline_schema
from mlta.errors import SourceError, SpecError
from mlta.logs import JsonFormatter


@pytest.fixture
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(fake: FakeBinance, sleeps: list[float]) -> Iterator[BinanceSource]:
    with BinanceSource(fake.url, timeout=2, sleep=sleeps.append) as src:
        yield src


def ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def recorded(candles_dir: Path, name: str) -> pa.Table:
    return feather.read_table(candles_dir / name)


def test_full_file_paginates_to_exact_recording(
        source: BinanceSource, fake: FakeBinance, candles_dir: Path) -> None:
    got = source.fetch("UNITTESTBTC", "1m", None, None)
    rec = recorded(candles_dir, "UNITTEST_BTC-1m.feather")
    assert got.schema == kline_schema()
    assert list(got.column_names[:7]) == list(STANDARD_COLUMNS)
    assert set(EXTRA_COLUMNS) <= set(got.column_names)
    assert got.num_rows == rec.num_rows == 13_681
    # Bit-for-bit against the recorded file, not only against the fake's own model.
    assert got["open_time"].cast(pa.int64()).to_pylist() == \
        rec["date"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64()).to_pylist()
    for col in ("open", "high", "low", "close", "volume"):
        assert got[col].to_pylist() == rec[col].to_pylist(), col
    assert got.equals(fake.expected("UNITTESTBTC", "1m"))
    pages = [r for r in fake.requests if r.path == "/api/v3/klines"]
    # 13 full pages, a short one, and the empty page that proves the short one was the end.
    assert [r.rows for r in pages] == [1000] * 13 + [681, 0]
    assert all(int(r.params["limit"]) == 1000 for r in pages)
    starts = [int(r.params["startTime"]) for r in pages]
    assert starts == sorted(set(starts))
    assert [r.path for r in fake.requests[:2]] == ["/api/v3/exchangeInfo", "/api/v3/time"]


def test_range_is_half_open_and_unaligned_start_rounds_up(
        source: BinanceSource, fake: FakeBinance) -> None:
    exp = fake.expected("ETHBTC", "5m")
    opens = exp["open_time"].cast(pa.int64()).to_pylist()
    start, end = ts(opens[100] - 1), ts(opens[2600])     # 1 ms before candle 100
    got = source.fetch("ETHBTC", "5m", start, end)
    assert got.equals(exp.slice(100, 2500))
    assert got["open_time"].cast(pa.int64()).to_pylist()[-1] == opens[2599]


def test_small_pages_no_duplicates_across_boundaries(
        fake: FakeBinance, sleeps: list[float]) -> None:
    with BinanceSource(fake.url, page_limit=97, sleep=sleeps.append) as src:
        got = src.fetch("XRPETH", "5m", None, None)
    assert got.equals(fake.expected("XRPETH", "5m"))
    opens = got["open_time"].cast(pa.int64()).to_pylist()
    assert len(opens) == len(set(opens)) == 706
    assert sleeps == []


def test_real_gap_is_kept_as_a_gap(source: BinanceSource, fake: FakeBinance) -> None:
    got = source.fetch("ADABTC", "5m", None, None)
    assert got.equals(fake.expected("ADABTC", "5m"))
    opens = got["open_time"].cast(pa.int64()).to_pylist()
    missing = (opens[-1] - opens[0]) // INTERVAL_MS["5m"] + 1 - len(opens)
    assert missing == 40


def test_symbol_spellings_are_normalized(source: BinanceSource, fake: FakeBinance) -> None:
    exp = fake.expected("ETHBTC", "5m")
    start = ts(exp["open_time"].cast(pa.int64())[0].as_py())
    got = source.fetch("eth_btc", "5m", start, start + timedelta(minutes=50))
    assert got.equals(exp.slice(0, 10))
    assert source.validate_symbol("ETH/BTC") == "ETHBTC"
    assert sum(r.path == "/api/v3/exchangeInfo" for r in fake.requests) == 1  # cached


def test_unknown_symbol_fails_fast_naming_it(source: BinanceSource, fake: FakeBinance,
                                             sleeps: list[float]) -> None:
    with pytest.raises(SourceError) as info:
        source.fetch("NOPECOIN", "5m", None, None)
    assert "NOPECOIN" in str(info.value) and "Invalid symbol" in str(info.value)
    assert info.value.retryable is False
    assert [r.status for r in fake.requests] == [400]
    assert sleeps == []


def test_bad_interval_rejected_before_any_request(source: BinanceSource,
                                                  fake: FakeBinance) -> None:
    with pytest.raises(SpecError, match="7m"):
        source.fetch("ETHBTC", "7m", None, None)
    assert fake.requests == []


def test_inverted_range_rejected_before_any_request(source: BinanceSource,
                                                    fake: FakeBinance) -> None:
    start = datetime(2018, 1, 20, tzinfo=UTC)
    with pytest.raises(SpecError, match="after end"):
        source.fetch("ETHBTC", "5m", start, start - timedelta(days=1))
    assert fake.requests == []


def test_resume_point_at_or_just_past_end_is_empty(source: BinanceSource,
                                                   fake: FakeBinance) -> None:
    end = datetime(2018, 1, 20, 0, 3, tzinfo=UTC)     # not aligned to 5m
    for start in (end, datetime(2018, 1, 20, 0, 5, tzinfo=UTC)):
        got = source.fetch("ETHBTC", "5m", start, end)
        assert got.num_rows == 0 and got.schema == kline_schema()
    assert fake.requests == []                        # caught up: not even a weight-1 call


def test_naive_datetimes_are_utc(source: BinanceSource, fake: FakeBinance) -> None:
    exp = fake.expected("ETHBTC", "5m")
    first = exp["open_time"][0].as_py()
    got = source.fetch("ETHBTC", "5m", first.replace(tzinfo=None),
                       (first + timedelta(minutes=15)).replace(tzinfo=None))
    assert got.equals(exp.slice(0, 3))


def test_still_open_candle_is_dropped(candles_dir: Path) -> None:
    probe = FakeBinance(candles_dir).expected("ETHBTC", "5m")
    opens = probe["open_time"].cast(pa.int64()).to_pylist()
    clock = FakeClock((opens[3000] + 150_000) / 1000)   # halfway through candle 3000
    with FakeBinance(candles_dir, clock=clock.now) as fake, \
            BinanceSource(fake.url, sleep=clock.sleep, clock=clock.now) as src:
        for end in (None, ts(opens[-1] + 1)):
            got = src.fetch("ETHBTC", "5m", None, end)
            assert got.equals(probe.slice(0, 3000))
        # The server does serve the open candle: the client is what drops it.
        raw = [r for r in fake.requests if r.path == "/api/v3/klines"]
        assert raw and all(int(r.params["endTime"]) == opens[3000] - 1 for r in raw)
        market = fake.market("ETHBTC", "5m")
        assert market is not None
        just_open = src._page([json.loads(market.rows_json[3000])],
                              opens[3000], opens[3000] + 10**9, int(clock.now() * 1000),
                              300_000)[0]
        assert just_open.num_rows == 0


def test_resume_after_fatal_fault_midway_equals_recording(
        fake: FakeBinance, sleeps: list[float]) -> None:
    exp = fake.expected("ETHBTC", "5m")
    fake.inject("500", skip=3, times=3)          # page 4 fails on all 3 attempts
    kept: list[pa.Table] = []
    with BinanceSource(fake.url, max_retries=2, page_limit=500, sleep=sleeps.append) as src:
        with pytest.raises(SourceError, match="after 3 attempts"):
            for page in src.iter_pages("ETHBTC", "5m", None, None):
                kept.append(page)                # "persisted" as it arrives
    assert sum(p.num_rows for p in kept) == 1500
    last = kept[-1]["open_time"][-1].as_py()
    resume = last + timedelta(milliseconds=INTERVAL_MS["5m"])
    before = len(fake.requests)
    with BinanceSource(fake.url, page_limit=500, sleep=sleeps.append) as src:
        rest = src.fetch("ETHBTC", "5m", resume, None)
    first_after = next(r for r in fake.requests[before:] if r.path == "/api/v3/klines")
    assert int(first_after.params["startTime"]) == int(resume.timestamp() * 1000)
    union = pa.concat_tables([*kept, rest])
    assert union.equals(exp)


def test_resume_after_caller_is_killed_between_pages(
        fake: FakeBinance, sleeps: list[float]) -> None:
    exp = fake.expected("LTCBTC", "5m")
    kept: list[pa.Table] = []
    with BinanceSource(fake.url, page_limit=1000, sleep=sleeps.append) as src:
        pages = src.iter_pages("LTCBTC", "5m", None, None)
        for page in pages:
            kept.append(page)
            if len(kept) == 2:
                pages.close()                    # the process dies here
                break
        resume = kept[-1]["open_time"][-1].as_py() + timedelta(minutes=5)
        rest = src.fetch("LTCBTC", "5m", resume, None)
    assert pa.concat_tables([*kept, rest]).equals(exp)


def test_logs_are_json_with_weight(source: BinanceSource, caplog: pytest.LogCaptureFixture
                                   ) -> None:
    with caplog.at_level(logging.INFO, logger="mlta.data.sources"):
        source.fetch("XRPETH", "5m", None, None)
    done = [r for r in caplog.records if r.getMessage() == "binance fetch done"]
    assert len(done) == 1
    payload = json.loads(JsonFormatter().format(done[0]))
    assert payload["symbol"] == "XRPETH"
    assert payload["weight_used"] == 20 + 1 + 2 * 2   # info, time, one page, the empty page
    assert payload["retries"] == 0 and payload["rows"] == 706


@pytest.mark.parametrize("value", [5.330000000000001e-05, 0.0984, 3478.0, 1e-08, 123.456])
def test_fake_decimal_strings_round_trip(value: float) -> None:
    text = binance_decimal(value)
    assert "e" not in text.lower() and len(text.split(".")[1]) >= 8
    assert float(text) == value
