"""The fake exchange itself speaks Binance's REST semantics (raw httpx, no mlta client)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.fake_binance import FakeBinance, FakeClock
from tests.support.ray_cluster import wait_for

T0 = 60 * 28_333_334 + 10.0


@pytest.fixture
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


def test_kline_arrays_have_binance_shape(fake: FakeBinance) -> None:
    resp = httpx.get(f"{fake.url}/api/v3/klines",
                     params={"symbol": "ETHBTC", "interval": "5m", "limit": 3,
                             "startTime": 0})
    assert resp.status_code == 200
    assert resp.headers["X-MBX-USED-WEIGHT-1M"] == "2"
    rows = resp.json()
    assert len(rows) == 3
    for row in rows:
        assert len(row) == 12
        assert isinstance(row[0], int) and isinstance(row[6], int) and isinstance(row[8], int)
        assert row[6] == row[0] + 300_000 - 1
        assert all(isinstance(row[i], str) and "." in row[i] for i in (1, 2, 3, 4, 5, 7, 9, 10))
    assert rows[0][0] == 1515560100000          # 2018-01-10 04:55 UTC, first recorded candle
    assert rows[0][1] == "0.09840000"


def test_kline_range_semantics(fake: FakeBinance) -> None:
    opens = fake.market("XRPETH", "5m").open_ms  # type: ignore[union-attr]

    def get(**params: int) -> list[list[object]]:
        resp = httpx.get(f"{fake.url}/api/v3/klines",
                         params={"symbol": "XRPETH", "interval": "5m", **params})
        assert resp.status_code == 200, resp.text
        return resp.json()

    assert [r[0] for r in get()] == opens[-500:]                       # default limit 500
    assert [r[0] for r in get(endTime=opens[10], limit=4)] == opens[7:11]  # inclusive end
    assert [r[0] for r in get(startTime=opens[5] - 1, endTime=opens[8])] == opens[5:9]
    assert get(startTime=opens[-1] + 1) == []


@pytest.mark.parametrize(("params", "code"), [
    ({"symbol": "NOPE", "interval": "5m"}, -1121),
    ({"symbol": "ETHBTC", "interval": "7m"}, -1120),
    ({"symbol": "ETHBTC", "interval": "5m", "limit": 1001}, -1130),
    ({"interval": "5m"}, -1102),
    ({"symbol": "ETHBTC", "interval": "5m", "startTime": 10, "endTime": 5}, -1023),
])
def test_bad_kline_requests_answer_binance_errors(fake: FakeBinance, params: dict,
                                                  code: int) -> None:
    resp = httpx.get(f"{fake.url}/api/v3/klines", params=params)
    assert resp.status_code == 400
    assert resp.json()["code"] == code


def test_exchange_info_time_ping_and_weights(fake: FakeBinance) -> None:
    with httpx.Client(base_url=fake.url) as client:
        info = client.get("/api/v3/exchangeInfo")
        assert info.headers["X-MBX-USED-WEIGHT-1M"] == "20"
        symbols = {s["symbol"]: s for s in info.json()["symbols"]}
        assert set(symbols) == {"ADABTC", "ETHBTC", "LTCBTC", "UNITTESTBTC", "XRPETH"}
        assert symbols["XRPETH"]["baseAsset"] == "XRP"
        assert info.json()["rateLimits"][0]["limit"] == 1200
        one = client.get("/api/v3/exchangeInfo", params={"symbol": "ETHBTC"}).json()
        assert [s["symbol"] for s in one["symbols"]] == ["ETHBTC"]
        bad = client.get("/api/v3/exchangeInfo", params={"symbol": "NOPE"})
        assert bad.status_code == 400 and bad.json() == {"code": -1121, "msg": "Invalid symbol."}
        server = client.get("/api/v3/time").json()["serverTime"]
        assert abs(server - time.time() * 1000) < 60_000
        ping = client.get("/api/v3/ping")
        assert ping.json() == {} and ping.headers["X-MBX-USED-WEIGHT-1M"] == "62"
        assert client.get("/api/v3/nothing").status_code == 404


def test_limit_then_ban_escalation(candles_dir: Path) -> None:
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, weight_limit=5, ban_seconds=120, clock=clock.now) as fake, \
            httpx.Client(base_url=fake.url) as client:
        assert [client.get("/api/v3/ping").status_code for _ in range(5)] == [200] * 5
        over = client.get("/api/v3/ping")
        assert over.status_code == 429 and over.headers["Retry-After"] == "50"
        assert over.json()["code"] == -1003
        banned = client.get("/api/v3/ping")               # did not wait: banned
        assert banned.status_code == 418 and banned.headers["Retry-After"] == "120"
        clock.sleep(60)                                   # new window, still banned
        assert client.get("/api/v3/ping").status_code == 418
        clock.sleep(61)
        ok = client.get("/api/v3/ping")
        assert ok.status_code == 200 and ok.headers["X-MBX-USED-WEIGHT-1M"] == "1"


def test_waiting_out_retry_after_avoids_the_ban(candles_dir: Path) -> None:
    clock = FakeClock(T0)
    with FakeBinance(candles_dir, weight_limit=3, clock=clock.now) as fake, \
            httpx.Client(base_url=fake.url) as client:
        for _ in range(3):
            client.get("/api/v3/time")
        over = client.get("/api/v3/time")
        assert over.status_code == 429
        clock.sleep(float(over.headers["Retry-After"]))
        assert client.get("/api/v3/time").status_code == 200


def test_only_candles_whose_time_has_come_exist(candles_dir: Path) -> None:
    opens_probe = FakeBinance(candles_dir).market("ETHBTC", "5m")
    assert opens_probe is not None
    opens = opens_probe.open_ms
    clock = FakeClock((opens[99] + 1000) / 1000)
    with FakeBinance(candles_dir, clock=clock.now) as fake:
        rows = httpx.get(f"{fake.url}/api/v3/klines",
                         params={"symbol": "ETHBTC", "interval": "5m", "startTime": 0,
                                 "limit": 1000}).json()
    assert [r[0] for r in rows] == opens[:100]            # the last one is the open candle
    assert rows[-1][6] > clock.now() * 1000


def test_injected_faults_fire_in_order_and_then_stop(fake: FakeBinance) -> None:
    fake.inject("503", skip=1, times=2)
    fake.inject("429", retry_after=9)
    url = f"{fake.url}/api/v3/klines"
    params: dict[str, str | int] = {"symbol": "XRPETH", "interval": "5m", "limit": 5}
    with httpx.Client() as client:
        assert client.get(f"{fake.url}/api/v3/ping").status_code == 200  # other path: no fault
        codes = [client.get(url, params=params) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 503, 503, 429, 200]
    assert codes[3].headers["Retry-After"] == "9"


@pytest.mark.parametrize("kind", ["drop", "truncate"])
def test_broken_connections_are_real_transport_errors(fake: FakeBinance, kind: str) -> None:
    fake.inject(kind)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{fake.url}/api/v3/klines", params={"symbol": "XRPETH", "interval": "5m"})


def test_stop_does_not_wait_for_a_slow_answer(candles_dir: Path) -> None:
    fake = FakeBinance(candles_dir).start()
    fake.inject("timeout", delay=60)

    def call() -> None:
        try:
            httpx.get(f"{fake.url}/api/v3/klines",
                      params={"symbol": "XRPETH", "interval": "5m"}, timeout=30)
        except httpx.HTTPError:
            pass  # whether the answer arrives as the server stops does not matter here

    caller = threading.Thread(target=call)
    caller.start()
    wait_for(lambda: fake.requests, timeout=10, what="the slow request to arrive",
             interval=0.02)
    assert fake.requests[0].fault == "timeout"
    started = time.monotonic()
    fake.stop()
    caller.join(timeout=10)
    assert time.monotonic() - started < 5 and not caller.is_alive()


def test_hold_keeps_requests_waiting_until_release(fake: FakeBinance) -> None:
    fake.hold(after=2)
    url = f"{fake.url}/api/v3/klines"
    params: dict[str, str | int] = {"symbol": "XRPETH", "interval": "5m", "limit": 5}
    answers: list[int] = []
    with httpx.Client() as client:
        assert client.get(f"{fake.url}/api/v3/ping").status_code == 200  # other path: free
        answers += [client.get(url, params=params).status_code for _ in range(2)]
        caller = threading.Thread(
            target=lambda: answers.append(httpx.get(url, params=params, timeout=30).status_code))
        caller.start()
        wait_for(lambda: fake.held == 1, timeout=10, what="the third request to be held",
                 interval=0.02)
        assert answers == [200, 200]
        assert len([r for r in fake.requests if r.path == "/api/v3/klines"]) == 2  # unanswered
        fake.release()
        caller.join(timeout=10)
        assert answers == [200, 200, 200] and fake.held == 0
        assert client.get(url, params=params).status_code == 200  # no longer holding
