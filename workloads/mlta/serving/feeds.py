"""The Binance feed: the kline WebSocket stream, closed candles only, with REST backfill.

The hub subscribes to ``<ws_url>/stream?streams=<symbol>@kline_<interval>/...`` (Binance's
combined stream). Kline events repeat while a candle is open (``k.x`` false); only the
final one (``k.x`` true) is applied. A candle already applied (a duplicate after a
reconnect, or a replayed message) is dropped and counted. After every (re)connect, and
whenever a candle arrives with bars missing before it, the missing closed candles are
fetched through the REST fetcher (``BinanceSource``: weight budget, retries, the exchange's
own clock) and applied in order first, so a disconnect mid-candle loses nothing. The
connection is retried with exponential backoff and full jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from ..data.sources.binance import BinanceSource
from ..data.sources.ratelimit import Backoff
from ..errors import MltaError
from ..specs.modeldeployment import BinanceFeedSpec
from .candles import Candle
from .hub import HubCore
from .validation import RequestRejected

log = logging.getLogger("mlta.serving")


def kline_candle(data: dict[str, Any]) -> tuple[str, Candle, bool]:
    """(symbol, candle, closed) from one kline event (combined-stream ``data``)."""
    k = data["k"]
    candle = Candle(int(k["t"]), float(k["o"]), float(k["h"]), float(k["l"]), float(k["c"]),
                    float(k["v"]))
    return str(k["s"]).upper(), candle, bool(k["x"])


class BinanceFeed:
    def __init__(self, hub: HubCore, spec: BinanceFeedSpec | None = None) -> None:
        self.hub = hub
        self.spec = spec or hub.args.feed.binance or BinanceFeedSpec()
        self.backoff = Backoff(self.spec.reconnect_min_seconds, self.spec.reconnect_max_seconds)
        self.rest = BinanceSource(self.spec.rest_url, self.spec.max_weight_per_minute,
                                  timeout=10, max_retries=3)
        self.connected = False

    def url(self) -> str:
        streams = "/".join(f"{s.lower()}@kline_{self.hub.interval}" for s in self.hub.symbols)
        return f"{self.spec.ws_url.rstrip('/')}/stream?streams={streams}"

    async def apply(self, symbol: str, candle: Candle) -> None:
        """One closed candle: backfill what is missing before it, then apply it."""
        last = self.hub.last_candle(symbol)
        if last is not None and candle.open_ms <= last.open_ms:
            self.hub.feed_event("duplicate")
            return
        if last is not None and candle.open_ms > last.open_ms + self.hub.step_ms:
            await self.backfill(symbol, until_ms=candle.open_ms)
        try:
            self.hub.push(symbol, [candle], source="binance")
        except RequestRejected as exc:
            self.hub.feed_event("rejected")
            log.warning("feed candle rejected", extra={"symbol": symbol, "error": exc.message})

    async def backfill(self, symbol: str, until_ms: int | None = None) -> int:
        """Closed candles after the last applied one (up to ``until_ms``) through REST.

        The fetch runs in a thread; the candles are applied on the event loop, like every
        other change of the hub's state.
        """
        last = self.hub.last_candle(symbol)
        if last is None:
            return 0
        start = datetime.fromtimestamp((last.open_ms + self.hub.step_ms) / 1000, UTC)
        end = datetime.fromtimestamp(until_ms / 1000, UTC) if until_ms is not None else None
        try:
            table = await asyncio.to_thread(self.rest.fetch, symbol, self.hub.interval, start,
                                            end)
        except MltaError as exc:
            self.hub.feed_event("backfill_failed")
            log.warning("backfill failed", extra={"symbol": symbol, "error": str(exc)[:300]})
            return 0
        rows = table.to_pylist()
        candles = [Candle(int(r["open_time"].timestamp() * 1000), r["open"], r["high"], r["low"],
                          r["close"], r["volume"]) for r in rows]
        last_now = self.hub.last_candle(symbol)
        candles = [c for c in candles if last_now is None or c.open_ms > last_now.open_ms]
        if candles:
            self.hub.push(symbol, candles, source="backfill")
            self.hub.feed_event("backfilled", len(candles))
        return len(candles)

    async def run(self, stop: asyncio.Event) -> None:
        """Stream until ``stop`` is set, reconnecting with backoff.

        The session races ``stop``: a quiet stream (no message for minutes, or a socket
        the exchange keeps open without sending) must not delay a shutdown.
        """
        attempt = 0
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                session = asyncio.ensure_future(self._session())
                done, _ = await asyncio.wait({session, stopper},
                                             return_when=asyncio.FIRST_COMPLETED)
                if session not in done:
                    session.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await session
                    self.connected = False
                    return
                if session.result():
                    attempt = 0
                self.connected = False
                if stop.is_set():
                    return
                self.hub.feed_event("reconnects")
                delay = self.backoff.delay(attempt)
                attempt += 1
                try:
                    await asyncio.wait_for(asyncio.shield(stopper), delay)
                except TimeoutError:
                    pass
        finally:
            stopper.cancel()

    async def _session(self) -> bool:
        """One connection: backfill, then apply closed candles until the socket ends.

        True when it had connected (the backoff starts over), False when connecting failed.
        """
        import websockets

        connected = False
        try:
            async with websockets.connect(self.url(), open_timeout=10, ping_interval=20) as ws:
                self.connected = connected = True
                self.hub.feed_event("connected")
                for symbol in self.hub.symbols:
                    await self.backfill(symbol)
                async for raw in ws:
                    message = json.loads(raw)
                    data = message.get("data", message)
                    if data.get("e") != "kline":
                        continue
                    symbol, candle, closed = kline_candle(data)
                    if closed and symbol in self.hub.symbols:
                        await self.apply(symbol, candle)
        except (OSError, websockets.WebSocketException, TimeoutError, ValueError,
                KeyError) as exc:
            log.warning("feed disconnected", extra={"error": str(exc)[:300]})
        return connected
