"""WebSocket /v1/stream edges on the real service behind uvicorn: a key in the first message,
what a refused or silent client gets, the streams-per-key cap, malformed messages answered
with error frames on a connection that stays open, subscriptions routed by their key, and a
replica letting its hub subscription go when its last client has left."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from tests.support.local_service import KEYS, Running, running, user_config
from tests.support.ray_cluster import wait_for
from tests.support.serving_world import SYMBOLS, World

from mlta.serving import stream
from mlta.serving.stream import Connection, _send_loop, fanout_of


@pytest.fixture(scope="module")
def keyed(serving_world: World) -> Iterator[Running]:
    args = serving_world.args(authEnabled=True, limits={"maxStreamsPerKey": 1})
    with running(args, user_config()) as svc:
        yield svc


@pytest.fixture()
def keyed_idle(keyed: Running) -> Running:
    """The keyed service once the streams of an earlier test are closed (the server counts a
    stream down when it has seen the close), so the one-stream-per-key cap starts fresh."""
    wait_for(lambda: not any(keyed.service.open_streams.values()), 10, "earlier streams to close")
    return keyed


@pytest.fixture(scope="module")
def open_svc(serving_world: World) -> Iterator[Running]:
    with running(serving_world.args()) as svc:
        yield svc


def _ws(svc: Running) -> str:
    return svc.url.replace("http://", "ws://") + "/v1/stream"


async def _recv(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return message


async def _push_next(svc: Running, symbol: str) -> dict[str, Any]:
    """POST the candle after the symbol's last one (whatever earlier tests pushed)."""
    last = svc.hub.last_candle(symbol)
    assert last is not None
    candle = last.flat_after(svc.hub.step_ms, 1).to_wire(svc.hub.step_ms)
    resp = await asyncio.to_thread(httpx.post, f"{svc.url}/v1/candles",
                                   json={"symbol": symbol, "candles": [candle]})
    assert resp.status_code == 200, resp.text
    return candle


def test_a_key_can_come_in_the_first_message(keyed_idle: Running) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(keyed_idle)) as ws:
            await ws.send(json.dumps({"type": "auth", "key": KEYS["viewer"]}))
            welcome = await _recv(ws)
            assert welcome == {"type": "welcome", "symbols": SYMBOLS,
                               "interval": keyed_idle.hub.interval}
            await ws.send(json.dumps({"type": "ping"}))
            assert await _recv(ws) == {"type": "pong"}

    asyncio.run(scenario())


@pytest.mark.parametrize(("headers", "first", "error", "hint"), [
    ({}, '{"type": "hello"}', "missing API key", 'send {"type": "auth", "key": "..."} first'),
    ({}, json.dumps({"type": "auth", "key": "x" * 30}), "invalid API key",
     "check the key; it may have been rotated"),
    ({"x-api-key": "x" * 30}, None, "invalid API key", "check the key; it may have been rotated"),
    ({}, "{not json", "the body is not valid JSON", None),
], ids=["no-auth-message", "unknown-key", "unknown-key-header", "not-json"])
def test_a_refused_client_gets_an_error_frame_and_1008(keyed_idle: Running,
                                                       headers: dict[str, str], first: str | None,
                                                       error: str, hint: str | None) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(keyed_idle), additional_headers=headers) as ws:
            if first is not None:
                await ws.send(first)
            frame = await _recv(ws)
            assert frame["type"] == "error" and frame["error"].startswith(error)
            assert hint is None or frame["hint"] == hint
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == frame["error"][:120]

    asyncio.run(scenario())


def test_a_client_that_never_authenticates_is_closed(keyed_idle: Running,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "AUTH_TIMEOUT_S", 0.3)

    async def scenario() -> None:
        async with websockets.connect(_ws(keyed_idle)) as ws:
            assert (await _recv(ws))["error"] == "authentication timed out"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    asyncio.run(scenario())


def test_a_key_holds_at_most_its_streams(keyed_idle: Running) -> None:
    url, ops = _ws(keyed_idle), {"x-api-key": KEYS["ops"]}

    async def scenario() -> None:
        async with websockets.connect(url, additional_headers=ops) as first:
            assert (await _recv(first))["type"] == "welcome"
            async with websockets.connect(url, additional_headers=ops) as second:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(second.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            assert closed.value.rcvd.reason == "key ops has 1 open streams"
            async with websockets.connect(url, additional_headers={
                    "x-api-key": KEYS["viewer"]}) as other:  # another key's cap is its own
                assert (await _recv(other))["type"] == "welcome"
        await asyncio.to_thread(wait_for, lambda: keyed_idle.service.open_streams["ops"] == 0,
                                10, "the first stream to be counted out")
        async with websockets.connect(url, additional_headers=ops) as again:
            assert (await _recv(again))["type"] == "welcome"

    asyncio.run(scenario())


BAD_MESSAGES = [
    ("[1]", "a message is a JSON object with a 'type'", None),
    ('{"type": "subscribe", "symbols": "AAAUSDT"}', "'symbols' must be a list of symbol names",
     None),
    ('{"type": "subscribe", "symbols": ["AAAUSDT", 3]}',
     "'symbols' must be a list of symbol names", None),
    ('{"type": "unsubscribe", "symbols": ["zzzusdt"]}', "unknown symbol(s) ['ZZZUSDT']",
     "symbols: AAAUSDT, BBBUSDT"),
    ('{"type": "candle", "symbol": 5, "candle": {}}', "'symbol' must be a string", None),
    ('{"type": "dance"}', "unknown message type 'dance'",
     "auth, subscribe, unsubscribe, candle or ping"),
]


def test_malformed_messages_get_error_frames_on_a_stream_that_stays_open(
        open_svc: Running) -> None:
    async def scenario() -> None:
        async with websockets.connect(_ws(open_svc)) as ws:
            assert (await _recv(ws))["type"] == "welcome"
            for text, error, hint in BAD_MESSAGES:
                await ws.send(text)
                assert await _recv(ws) == {"type": "error", "error": error, "hint": hint}, text
            await ws.send('{"type": "ping"}')
            assert await _recv(ws) == {"type": "pong"}

    asyncio.run(scenario())


def test_a_subscription_key_routes_its_predictions(open_svc: Running) -> None:
    symbol, service = SYMBOLS[1], open_svc.service
    by_symbol = service.router.choose(symbol)  # what a subscription without a key gets
    key = next(k for k in (f"desk-{i}" for i in range(1000))
               if service.router.choose(k) != by_symbol)

    async def scenario() -> None:
        async with websockets.connect(_ws(open_svc)) as ws:
            assert (await _recv(ws))["type"] == "welcome"
            await ws.send(json.dumps({"type": "subscribe", "symbols": [symbol.lower()],
                                      "key": key}))
            assert await _recv(ws) == {"type": "subscribed", "symbols": [symbol]}
            candle = await _push_next(open_svc, symbol)
            event = await _recv(ws)
            assert event["type"] == "prediction" and event["openTime"] == candle["openTime"]
            assert event["variant"] == service.router.choose(key) != by_symbol
            chosen = open_svc.hub.latest[symbol]["predictions"][event["variant"]]
            assert event["prediction"] == chosen["prediction"]
            await ws.send(json.dumps({"type": "unsubscribe", "symbols": [symbol]}))
            assert await _recv(ws) == {"type": "subscribed", "symbols": []}

    asyncio.run(scenario())


def test_the_replica_lets_its_hub_subscription_go_with_its_last_client(
        serving_world: World) -> None:
    with running(serving_world.args()) as svc:
        async def scenario() -> None:
            async with websockets.connect(_ws(svc)) as ws:
                assert (await _recv(ws))["type"] == "welcome"
                await ws.send(json.dumps({"type": "subscribe", "symbols": [SYMBOLS[0]]}))
                assert (await _recv(ws))["type"] == "subscribed"
            fan = fanout_of(svc.service)
            assert len(svc.hub._subscribers) == 1
            await asyncio.to_thread(wait_for, lambda: not fan.connections, 10, "the close")
            await _push_next(svc, SYMBOLS[0])  # the next event finds nobody listening
            await asyncio.to_thread(wait_for, lambda: fan._task is not None and fan._task.done()
                                    and not svc.hub._subscribers, 10, "the pump to end")

        asyncio.run(scenario())


def test_a_dropped_connection_sends_nothing_more() -> None:
    """The queue rules of one connection, with a socket whose send blocks until released (a
    client that reads slowly): the message being sent goes out, the queued one does not, and
    ``wake`` leaves one marker on the emptied queue that stops any send loop still reading it.
    (Through a real socket the order of the sender and the drop cannot be arranged.)"""
    class SlowSocket:
        def __init__(self) -> None:
            self.sent: list[Any] = []
            self.release = asyncio.Event()

        async def send_text(self, text: str) -> None:
            await self.release.wait()
            self.sent.append(json.loads(text))

    async def scenario() -> None:
        ws = SlowSocket()
        conn = Connection(ws, maxsize=1)  # type: ignore[arg-type]
        sender = asyncio.create_task(_send_loop(conn))
        assert conn.offer({"n": 1})
        while not conn.queue.empty():  # the sender took it and waits in send_text
            await asyncio.sleep(0)
        assert conn.offer({"n": 2}) and not conn.offer({"n": 3}) and conn.dropped
        ws.release.set()
        await asyncio.wait_for(sender, 5)
        assert ws.sent == [{"n": 1}] and conn.queue.empty()
        assert not conn.offer({"n": 4})
        conn.wake()
        conn.wake()
        assert conn.queue.qsize() == 1
        await asyncio.wait_for(_send_loop(conn), 5)  # reads the marker and stops
        assert ws.sent == [{"n": 1}]

    asyncio.run(scenario())
