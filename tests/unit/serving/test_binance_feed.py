"""The Binance feed against the fake exchange: closed klines only, duplicates dropped, a
disconnect mid-candle backfilled through REST, and the same predictions as batch."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
from tests.support.fake_binance import FakeBinance, FakeClock, FakeKlineStream
from tests.support.ray_cluster import free_port, wait_for
from tests.support.serving_world import World

from mlta.data.lake import read_dataset
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
