"""BinanceSource under injected faults and weight pressure (real HTTP, fake clock/sleep)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.fake_binance import FakeBinance, FakeClock

from mlta.data.sources.binance import BinanceSource
from mlta.data.sources.ratelimit import Backoff
from mlta.errors import SourceError

#: 10 s into a minute window, well after every recorded candle.
T0 = 60 * 28_333_334 + 10.0


@pytest.fixture
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


def _source(url: str, sleeps: list[float], **kwargs: object) -> BinanceSource:
    kwargs.setdefault("page_limit", 200)
    return BinanceSource(url, sleep=sleeps.append, backoff=Backoff(rng=random.Random(7)),
                         **kwargs)  # type: ignore[arg-type]


def _klines(fake: FakeBinance) -> list:
    return [r for r in fake.requests if r.path == "/api/v3/klines"]


@pytest.mark.parametrize("kind", ["500", "503", "timeout", "drop", "truncate"])
def test_transient_fault_is_retried_with_jittered_backoff(fake: FakeBinance, kind: str) -> None:
    sleeps: list[float] = []
    fake.inject(kind, skip=1, delay=3.0)      # a timeout waits beyond the client's 1 s
    with _source(fake.url, sleeps, timeout=1.0) as src:
        got = src.fetch("XRPETH", "5m", None, None)
        assert src.stats["retries"] == 1
    assert got.equals(fake.expected("XRPETH", "5m"))
    faulted = [r for r in _klines(fake) if r.fault == kind]
    assert len(faulted) == 1
    assert len(_klines(fake)) == 6            # 4 pages + the empty end page + 1 retry
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= Backoff().ceiling(0)


def test_partial_page_loses_nothing(fake: FakeBinance) -> None:
    sleeps: list[float] = []
    fake.inject("partial", skip=1)
    with _source(fake.url, sleeps) as src:
        got = src.fetch("XRPETH", "5m", None, None)
    assert got.equals(fake.expected("XRPETH", "5m"))
    rows = [r.rows for r in _klines(fake)]
    assert rows[:2] == [200, 100]             # the cut page, continued where it stopped
    assert sum(rows) == 706 and rows[-1] == 0
    assert sleeps == []


@pytest.mark.parametrize(("kind", "retry_after"), [("429", 7), ("418", 3)])
def test_retry_after_is_honoured(fake: FakeBinance, kind: str, retry_after: int) -> None:
    sleeps: list[float] = []
    fake.inject(kind, skip=2, retry_after=retry_after)
    with _source(fake.url, sleeps) as src:
        got = src.fetch("XRPETH", "5m", None, None)
    assert got.equals(fake.expected("XRPETH", "5m"))
    assert sleeps == [float(retry_after)]
    assert [r.status for r in _klines(fake)].count(int(kind)) == 1


def test_long_ban_is_reported_not_waited(fake: FakeBinance) -> None:
    sleeps: list[float] = []
    fake.inject("418", retry_after=3 * 86_400)
    with _source(fake.url, sleeps) as src, pytest.raises(SourceError, match="banned") as info:
        src.fetch("XRPETH", "5m", None, None)
    assert "418" in str(info.value)
    assert sleeps == [] and len(_klines(fake)) == 1


def test_gives_up_after_max_retries_saying_what_happened(fake: FakeBinance) -> None:
    sleeps: list[float] = []
    fake.inject("503", times=100)
    with _source(fake.url, sleeps, max_retries=3) as src, pytest.raises(SourceError) as info:
        src.fetch("XRPETH", "5m", None, None)
    msg = str(info.value)
    assert "after 4 attempts" in msg and "HTTP 503" in msg and "Service Unavailable" in msg
    assert "/api/v3/klines" in msg
    assert len(_klines(fake)) == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= Backoff().ceiling(i) for i, s in enumerate(sleeps))


def test_other_endpoints_are_retried_too(fake: FakeBinance) -> None:
    sleeps: list[float] = []
    fake.inject("drop", path="/api/v3/exchangeInfo")
    fake.inject("500", path="/api/v3/time")
    with _source(fake.url, sleeps) as src:
        assert src.fetch("XRPETH", "5m", None, None).num_rows == 706
        assert src.stats["retries"] == 2


def test_weight_budget_waits_for_next_window(candles_dir: Path) -> None:
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, clock=clock.now) as fake, \
            BinanceSource(fake.url, max_weight_per_minute=24, sleep=clock.sleep,
                          clock=clock.now) as src:
        got = src.fetch("UNITTESTBTC", "1m", None, None)
    assert got.equals(fake.expected("UNITTESTBTC", "1m"))
    assert all(r.status == 200 for r in fake.requests)
    assert max(r.used_weight for r in fake.requests) <= 24
    # 15 kline requests: info(20) + time(1) + 1 page, then 12 pages, then the last 2.
    assert [r.used_weight for r in _klines(fake)] == [23, *range(2, 25, 2), 2, 4]
    assert len(clock.sleeps) == 2
    assert clock.sleeps[0] == pytest.approx(50.5)        # from :10 to the next minute + margin
    assert clock.sleeps[1] == pytest.approx(60.0)


def test_weight_used_by_others_on_the_ip_is_respected(candles_dir: Path) -> None:
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, clock=clock.now) as fake, \
            BinanceSource(fake.url, page_limit=100, sleep=clock.sleep, clock=clock.now) as src:
        fake.consume_weight(1170)             # another process spent most of this minute
        got = src.fetch("XRPETH", "5m", None, None)
    assert got.equals(fake.expected("XRPETH", "5m"))
    assert all(r.status == 200 for r in fake.requests)
    assert len(clock.sleeps) == 1 and clock.sleeps[0] == pytest.approx(50.5)


def test_budget_never_exceeds_the_exchange_limit(candles_dir: Path) -> None:
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, weight_limit=40, clock=clock.now) as fake, \
            BinanceSource(fake.url, max_weight_per_minute=1200, sleep=clock.sleep,
                          clock=clock.now) as src:
        got = src.fetch("UNITTESTBTC", "1m", None, None)
        assert src.budget.limit == 40
    assert got.num_rows == 13_681
    assert all(r.status == 200 for r in fake.requests)


def test_server_side_limit_then_retry_after(candles_dir: Path) -> None:
    """The exchange's own limiter (not an injected fault) answers 429; we wait as told."""
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, clock=clock.now) as fake, \
            BinanceSource(fake.url, page_limit=100, sleep=clock.sleep, clock=clock.now) as src:
        src.validate_symbol("XRPETH")
        src.server_time_ms()
        fake.consume_weight(1200 - fake.requests[-1].used_weight)  # someone spent the rest,
        src.budget.observe("0")                                     # after our last header
        got = src.fetch("XRPETH", "5m", None, None)
    assert got.equals(fake.expected("XRPETH", "5m"))
    statuses = [r.status for r in fake.requests]
    assert statuses.count(429) == 1 and 418 not in statuses
    assert clock.sleeps == [50.0]                         # Retry-After: to the next minute
