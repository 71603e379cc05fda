"""The Binance feed against the fake exchange: closed klines only, duplicates dropped, a
disconnect mid-candle backfilled through REST, and the same predictions as batch; frames that
are not klines, backfills the exchange refuses, and a stop that comes as a session ends."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest
import websockets
from tests.support.fake_binance import FakeBinance, FakeClock, FakeKlineStream
from tests.support.ray_cluster import free_port, wait_for
from tests.support.serving_world import World

from mlta.data.lake import read_dataset
from mlta.serving.candles import Candle
from mlta.serving.feeds import BinanceFeed
from mlta.serving.hub import HubCore
from mlta.serving.model import load_served_model

SYMBOL = "AAAUSDT"


def test_kline_stream_with_duplicates_and_a_disconnect(serving_world: World,
                                                      tmp_path: Path) -> None:
    source = feather.read_table(str(Path(serving_world.lake.removeprefix("file://")).parent
                                    / "full" / f"{SYMBOL}-5m.feather"))
    feather.write_feather(source, str(tmp_path / "AAA_USDT-5m.feather"))
    train, _ = read_dataset(serving_world.dataset_uri)
    last_ms = int(train[train["symbol"] == SYMBOL]["open_time"].max().timestamp() * 1000)
    opens = [int(v) for v in source["date"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
             .to_pylist()]
    k0 = opens.index(last_ms) + 1
    step = 300_000
    clock = FakeClock(start=opens[k0] / 1000 - 1)  # nothing after the Gold has opened yet

    def close_of(k: int) -> float:
        return (opens[k] + step) / 1000 + 0.001

    with FakeBinance(tmp_path, clock=clock.now) as rest, FakeKlineStream(rest) as stream:
        args = serving_world.args(feed={
            "type": "binance", "symbols": [SYMBOL],
            "binance": {"wsUrl": stream.url, "restUrl": rest.url,
                        "reconnectMinSeconds": 0.05, "reconnectMaxSeconds": 0.2}})
        hub = HubCore(args)
        feed = BinanceFeed(hub)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        runner = threading.Thread(target=lambda: loop.run_until_complete(feed.run(stop)),
                                  daemon=True)
        runner.start()
        try:
            wait_for(lambda: stream.connections == 1 and feed.connected, 30, "the feed to connect")
            clock.sleep(close_of(k0) - clock.now())
            stream.emit(SYMBOL, "5m", k0, closed=False)  # an update of the open candle: ignored
            stream.emit(SYMBOL, "5m", k0, closed=True)
            wait_for(lambda: hub.last_candle(SYMBOL).open_ms == opens[k0], 30, "candle k0")
            stream.emit(SYMBOL, "5m", k0, closed=True)  # a duplicate
            wait_for(lambda: hub.feed_events.get("duplicate") == 1, 30, "the duplicate dropped")
            stream.emit(SYMBOL, "5m", k0 + 1, closed=False)
            stream.disconnect()  # mid-candle; three candles close while we are away
            clock.sleep(close_of(k0 + 3) - clock.now())
            wait_for(lambda: hub.last_candle(SYMBOL).open_ms == opens[k0 + 3], 60,
                     "the reconnect to backfill k0+1..k0+3")
            assert stream.connections == 2 and hub.feed_events["backfilled"] == 3
            clock.sleep(close_of(k0 + 4) - clock.now())
            stream.emit(SYMBOL, "5m", k0 + 4, closed=True)
            wait_for(lambda: hub.last_candle(SYMBOL).open_ms == opens[k0 + 4], 30, "k0+4")
        finally:
            loop.call_soon_threadsafe(stop.set)  # the stream is quiet now: stop must not wait
            runner.join(timeout=10)
            feed.rest.close()
    assert not runner.is_alive(), "the feed did not stop while its stream was quiet"
    assert hub.feed_events["reconnects"] >= 1
    full, _ = read_dataset(serving_world.full_uri)
    times = full["open_time"].astype("datetime64[ms, UTC]").astype("int64")
    rows = full[(full["symbol"] == SYMBOL) & times.isin(opens[k0:k0 + 5])]
    model = load_served_model(serving_world.models["champion"]["modelUri"])
    batch = model.predict(rows[model.feature_columns].to_numpy(dtype=np.float64))
    live = hub.monitor.variants["champion"].predictions.values()[-5:]
    assert np.array_equal(live, batch)  # the streamed, backfilled candles give batch's features


def test_an_unreachable_stream_is_retried_with_backoff_until_stopped(serving_world: World) -> None:
    """Nothing listens at the stream's address: every attempt fails, the feed backs off and
    counts reconnects, and stopping it ends the retries at once."""
    url = f"ws://127.0.0.1:{free_port()}"
    hub = HubCore(serving_world.args(feed={
        "type": "binance", "symbols": [SYMBOL],
        "binance": {"wsUrl": url, "restUrl": "http://127.0.0.1:9",
                    "reconnectMinSeconds": 0.01, "reconnectMaxSeconds": 0.05}}))
    feed = BinanceFeed(hub)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        deadline = asyncio.get_running_loop().time() + 30
        while hub.feed_events.get("reconnects", 0) < 3:
            assert asyncio.get_running_loop().time() < deadline, "no retries within 30 s"
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
    feed.rest.close()
    assert not feed.connected and "connected" not in hub.feed_events


def _feed_hub(world: World, ws_url: str, rest_url: str, **feed: object) -> HubCore:
    return HubCore(world.args(feed={
        "type": "binance", "symbols": [SYMBOL], **feed,
        "binance": {"wsUrl": ws_url, "restUrl": rest_url, "reconnectMinSeconds": 0.01,
                    "reconnectMaxSeconds": 0.05}}))


@contextmanager
def _exchange(world: World, tmp_path: Path) -> Iterator[tuple[FakeBinance, FakeClock]]:
    """The fake exchange with the symbol's recorded candles and a clock to set."""
    recorded = Path(world.lake.removeprefix("file://")).parent / "full" / f"{SYMBOL}-5m.feather"
    shutil.copy(recorded, tmp_path / "AAA_USDT-5m.feather")
    clock = FakeClock(start=0.0)
    with FakeBinance(tmp_path, clock=clock.now) as rest:
        yield rest, clock


def _before_the_next_candle(hub: HubCore, clock: FakeClock) -> Candle:
    """Set the exchange's clock just before the candle after the hub's last one opens, so a
    backfill finds nothing (without an error); the hub's last candle."""
    last = hub.last_candle(SYMBOL)
    assert last is not None
    clock.sleep((last.open_ms + hub.step_ms) / 1000 - 1 - clock.now())
    return last


def test_a_backfill_the_exchange_refuses_is_counted_and_the_gap_repaired(
        serving_world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The exchange lists none of the symbols: the backfill before a candle with bars missing
    fails (counted, logged), and the gap is repaired as the gap policy says."""
    with FakeBinance(tmp_path) as rest, caplog.at_level(logging.WARNING, "mlta.serving"):
        hub = _feed_hub(serving_world, "ws://127.0.0.1:9", rest.url)
        feed = BinanceFeed(hub)
        last = hub.last_candle(SYMBOL)
        assert last is not None
        after_gap = last.flat_after(hub.step_ms, 3)

        async def scenario() -> None:
            assert await feed.backfill("ZZZUSDT") == 0  # no state for it: nothing to ask
            assert rest.requests == []
            await feed.apply(SYMBOL, after_gap)

        asyncio.run(scenario())
        feed.rest.close()
    assert hub.feed_events == {"backfill_failed": 1}
    assert [r.path for r in rest.requests] == ["/api/v3/exchangeInfo"]
    (failed,) = [r for r in caplog.records if r.getMessage() == "backfill failed"]
    assert "unknown symbol" in failed.error  # type: ignore[attr-defined]
    assert hub.latest[SYMBOL]["openTime"] == after_gap.open_ms
    assert hub.latest[SYMBOL]["gap"] == {"missingBars": 2, "action": "filled"}


def test_under_reject_a_candle_after_bars_the_exchange_lacks_is_refused(
        serving_world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with _exchange(serving_world, tmp_path) as (rest, clock), \
            caplog.at_level(logging.WARNING, "mlta.serving"):
        hub = _feed_hub(serving_world, "ws://127.0.0.1:9", rest.url, onGap="reject")
        last = _before_the_next_candle(hub, clock)
        feed = BinanceFeed(hub)
        after_gap = last.flat_after(hub.step_ms, 3)
        asyncio.run(feed.apply(SYMBOL, after_gap))
        feed.rest.close()
    assert [r.path for r in rest.requests] == ["/api/v3/exchangeInfo", "/api/v3/time"]
    assert hub.feed_events == {"rejected": 1} and hub.last_candle(SYMBOL) == last
    (rejected,) = [r for r in caplog.records if r.getMessage() == "feed candle rejected"]
    assert rejected.error == f"2 candle(s) missing before {after_gap.open_ms}"  # type: ignore[attr-defined]


def test_frames_that_are_not_closed_klines_of_a_served_symbol_are_skipped(
        serving_world: World, tmp_path: Path) -> None:
    """The reply to a SUBSCRIBE, another event type and another symbol's kline are passed
    over on the same connection; the next closed kline is applied."""
    sessions: list[object] = []

    async def scenario(rest: FakeBinance, clock: FakeClock) -> HubCore:
        async def exchange(ws: websockets.ServerConnection) -> None:
            sessions.append(ws)
            candle = hub.last_candle(SYMBOL).flat_after(hub.step_ms, 1)  # type: ignore[union-attr]
            k = {"t": candle.open_ms, "o": candle.open, "h": candle.high, "l": candle.low,
                 "c": candle.close, "v": 2.0, "x": True}
            for frame in ({"result": None, "id": 1},
                          {"stream": "x", "data": {"e": "24hrTicker", "s": SYMBOL}},
                          {"data": {"e": "kline", "k": dict(k, s="ZZZUSDT")}},
                          {"data": {"e": "kline", "k": dict(k, s=SYMBOL.lower())}}):
                await ws.send(json.dumps(frame))
            await ws.wait_closed()

        async with websockets.serve(exchange, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            hub = _feed_hub(serving_world, f"ws://127.0.0.1:{port}", rest.url)
            start = _before_the_next_candle(hub, clock)  # the backfill on connect finds none
            feed, stop = BinanceFeed(hub), asyncio.Event()
            task = asyncio.create_task(feed.run(stop))
            deadline = asyncio.get_running_loop().time() + 30
            while hub.last_candle(SYMBOL) == start:
                assert asyncio.get_running_loop().time() < deadline, "the kline was not applied"
                await asyncio.sleep(0.01)
            stop.set()
            await asyncio.wait_for(task, 5)
            feed.rest.close()
        return hub

    with _exchange(serving_world, tmp_path) as (rest, clock):
        hub = asyncio.run(scenario(rest, clock))
    assert len(sessions) == 1 and hub.feed_events == {"connected": 1}
    assert hub.latest[SYMBOL]["volume"] == 2.0 and hub.latest[SYMBOL]["source"] == "binance"


def test_a_stop_as_a_session_ends_is_not_followed_by_a_reconnect(serving_world: World) -> None:
    """The stop arrives while the session is failing (from a log handler, at the moment the
    feed logs the disconnect): the feed ends without counting a reconnect."""
    hub = _feed_hub(serving_world, f"ws://127.0.0.1:{free_port()}", "http://127.0.0.1:9")
    feed = BinanceFeed(hub)
    logger = logging.getLogger("mlta.serving")

    class StopOnDisconnect(logging.Handler):
        def __init__(self, stop: asyncio.Event) -> None:
            super().__init__()
            self.stop, self.seen = stop, 0

        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "feed disconnected":
                self.seen += 1
                self.stop.set()

    async def scenario() -> int:
        handler = StopOnDisconnect(asyncio.Event())
        logger.addHandler(handler)
        try:
            await asyncio.wait_for(feed.run(handler.stop), 5)
        finally:
            logger.removeHandler(handler)
        return handler.seen

    assert asyncio.run(scenario()) == 1
    feed.rest.close()
    assert "reconnects" not in hub.feed_events and not feed.connected
