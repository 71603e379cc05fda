"""WebSocket /v1/stream: subscribe to symbols, or push candles, and get predictions as they close.

Protocol (JSON text frames)::

    -> {"type": "auth", "key": "..."}            (only when no key header was sent)
    -> {"type": "subscribe", "symbols": ["BTCUSDT"], "key": "client-7"}
    -> {"type": "unsubscribe", "symbols": ["BTCUSDT"]}
    -> {"type": "candle", "symbol": "BTCUSDT", "candle": {openTime, open, ...}}
    -> {"type": "ping"}
    <- {"type": "welcome", "symbols": [...], "interval": "5m"}
    <- {"type": "subscribed", "symbols": [...]}
    <- {"type": "prediction", "symbol", "openTime", "closeTime", "variant", "modelVersion",
        "prediction", "label", ...}
    <- {"type": "error", "error": "...", "hint": "..."}     (the connection stays open)

Each connection has a bounded queue (``limits.streamQueue``). A client that lets it fill up
is closed with code 1008 ("slow consumer") and the others go on: one replica-wide hub
subscription feeds every connection of the replica, and nothing ever waits on a client.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoint annotations.
import asyncio
import itertools
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..errors import ServingError
from .api import service_of
from .auth import ANONYMOUS, Principal
from .candles import parse_candle
from .service import Refused, Service
from .validation import RequestRejected, loads

router = APIRouter()
log = logging.getLogger("mlta.serving")
SLOW_CONSUMER = 1008
AUTH_TIMEOUT_S = 10.0
SUBSCRIBE_TIMEOUT_S = 15.0
_ids = itertools.count(1)
_REPLICA_TAG = uuid.uuid4().hex[:12]


class Connection:
    def __init__(self, ws: WebSocket, maxsize: int) -> None:
        self.ws = ws
        self.id = f"ws-{_REPLICA_TAG}-{next(_ids)}"  # unique across replicas (origin filter)
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)
        self.symbols: set[str] = set()
        self.key: str | None = None
        self.principal = ANONYMOUS
        self.dropped = False

    def wake(self) -> None:
        """Make the send loop notice ``dropped`` (it may be waiting on an empty get)."""
        if self.queue.empty():
            self.queue.put_nowait(None)

    def offer(self, message: dict[str, Any]) -> bool:
        """Queue a message; False (and the connection is marked dropped) when it is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message)
            return True
        except asyncio.QueueFull:
            self.dropped = True
            return False


class Fanout:
    """One hub subscription per replica, dispatched to this replica's connections."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.connections: dict[str, Connection] = {}
        self._task: asyncio.Task[None] | None = None
        #: set once the hub confirmed the subscription: events from then on reach us
        self.ready = asyncio.Event()

    def add(self, conn: Connection) -> None:
        self.connections[conn.id] = conn
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._pump())

    def remove(self, conn: Connection) -> None:
        self.connections.pop(conn.id, None)

    async def _pump(self) -> None:
        while self.connections:
            try:
                async for event in self.service.hub.subscribe():
                    if event.get("type") == "subscribed":
                        self.ready.set()
                    elif event.get("type") == "prediction":
                        self.dispatch(event)
                    if not self.connections:
                        return
            except ServingError as exc:
                log.warning("hub subscription ended", extra={"error": str(exc)[:300]})
                await asyncio.sleep(0.5)
            finally:
                self.ready.clear()

    def dispatch(self, event: dict[str, Any]) -> None:
        symbol = event["symbol"]
        for conn in list(self.connections.values()):
            if symbol in conn.symbols and event.get("origin") != conn.id:
                if not conn.offer(self.service.pick(event, conn.key)):
                    self.service.metrics.count("stream_dropped_total")
                    conn.wake()


def fanout_of(service: Service) -> Fanout:
    fan: Fanout | None = getattr(service, "_fanout", None)
    if fan is None:
        fan = Fanout(service)
        service._fanout = fan  # type: ignore[attr-defined]
    return fan


async def _send_loop(conn: Connection) -> None:
    while True:
        message = await conn.queue.get()
        if message is None or conn.dropped:
            return
        await conn.ws.send_text(json.dumps(message, separators=(",", ":")))


def _error(message: str, hint: str | None = None) -> dict[str, Any]:
    return {"type": "error", "error": message, "hint": hint}


async def _authenticate(ws: WebSocket, service: Service) -> Principal:
    """Key from the upgrade headers, or from a first ``auth`` message."""
    try:
        return await service.admit(ws.headers, "stream")
    except Refused as exc:
        if exc.status != 401 or "missing" not in exc.message:
            raise
    first = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
    message = loads(first.encode())
    if not isinstance(message, dict) or message.get("type") != "auth" \
            or not isinstance(message.get("key"), str):
        raise Refused(401, "missing API key", 'send {"type": "auth", "key": "..."} first')
    return await service.admit({"x-api-key": message["key"]}, "stream")


@router.websocket("/v1/stream")
async def stream(ws: WebSocket) -> None:
    service = service_of(ws)
    await ws.accept()
    try:
        principal = await _authenticate(ws, service)
    except (Refused, RequestRejected, TimeoutError) as exc:
        message = getattr(exc, "message", "authentication timed out")
        await ws.send_text(json.dumps(_error(message, getattr(exc, "hint", None))))
        await ws.close(code=1008, reason=message[:120])
        return
    key_name = principal.name
    streams = service.open_streams.get(key_name, 0)
    if streams >= service.args.limits.max_streams_per_key:
        await ws.close(code=1013, reason=f"key {key_name} has {streams} open streams")
        return
    service.open_streams[key_name] = streams + 1
    conn = Connection(ws, service.args.limits.stream_queue)
    conn.principal = principal
    fan = fanout_of(service)
    fan.add(conn)
    sender = asyncio.get_running_loop().create_task(_send_loop(conn))
    conn.offer({"type": "welcome", "symbols": service.feed.get("symbols", []),
                "interval": service.feed.get("interval", "")})
    try:
        while not sender.done():
            receiver = asyncio.ensure_future(ws.receive_text())
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            if receiver not in done:
                receiver.cancel()
                break
            await _handle(conn, service, receiver.result())
        if conn.dropped:
            await ws.close(code=SLOW_CONSUMER,
                           reason=f"slow consumer: {conn.queue.maxsize} messages unread")
    except WebSocketDisconnect:
        pass
    finally:
        fan.remove(conn)
        sender.cancel()
        service.open_streams[key_name] = max(0, service.open_streams.get(key_name, 1) - 1)


async def _handle(conn: Connection, service: Service, text: str) -> None:
    try:
        message = loads(text.encode())
        if not isinstance(message, dict):
            raise RequestRejected("a message is a JSON object with a 'type'")
        kind = message.get("type")
        if kind == "ping":
            conn.offer({"type": "pong"})
        elif kind in ("subscribe", "unsubscribe"):
            symbols = message.get("symbols")
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                raise RequestRejected("'symbols' must be a list of symbol names")
            wanted = {s.upper() for s in symbols}
            known = set(service.feed.get("symbols", []))
            unknown = sorted(wanted - known)
            if unknown:
                raise RequestRejected(f"unknown symbol(s) {unknown}",
                                      hint=f"symbols: {', '.join(sorted(known))}")
            if isinstance(message.get("key"), str):
                conn.key = message["key"]
            conn.symbols = conn.symbols | wanted if kind == "subscribe" else conn.symbols - wanted
            try:  # "subscribed" promises the predictions from now on: wait for the hub's word
                await asyncio.wait_for(fanout_of(service).ready.wait(), SUBSCRIBE_TIMEOUT_S)
            except TimeoutError as exc:
                raise ServingError("the hub did not confirm the subscription",
                                   hint="retry; check the deployment status") from exc
            conn.offer({"type": "subscribed", "symbols": sorted(conn.symbols)})
        elif kind == "candle":
            await service.throttle(conn.principal)
            symbol = message.get("symbol")
            if not isinstance(symbol, str):
                raise RequestRejected("'symbol' must be a string")
            candle = parse_candle(message.get("candle"), service.step_ms(), "candle")
            events = await service.hub.push(symbol, [candle], origin=conn.id)
            conn.offer(service.pick(events[-1], conn.key))
        else:
            raise RequestRejected(f"unknown message type {kind!r}",
                                  hint="auth, subscribe, unsubscribe, candle or ping")
    except RequestRejected as exc:
        conn.offer(_error(exc.message, exc.hint))
    except ServingError as exc:
        conn.offer(_error(exc.message, exc.hint))
