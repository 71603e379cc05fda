"""A local HTTP server that speaks Binance's public spot REST API over recorded real candles.

It is a real server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread), so
the client under test runs its real HTTP stack: connection pools, timeouts, dropped sockets.

Served: ``/api/v3/klines``, ``/api/v3/exchangeInfo``, ``/api/v3/time``, ``/api/v3/ping``.
Candles come from ``<candles_dir>/<BASE>_<QUOTE>-<interval>.feather`` (``ETH_BTC-5m`` is
symbol ``ETHBTC``), as Binance's 12-field kline arrays with prices as strings. The recording
has only OHLCV, so the four extra fields are synthesized deterministically (quote volume =
volume * close, taker buy = half, trades from the volume); :meth:`FakeBinance.expected`
gives the exact table a correct client must produce. Prices are written with at least eight
decimals like Binance, but never rounded, so values round-trip bit for bit.

Like Binance: request weight is metered per minute window of the server clock and reported
in ``X-MBX-USED-WEIGHT-1M``; going over the limit answers 429 with ``Retry-After``; a request
sent before that ``Retry-After`` elapsed gets a 418 ban. Only candles whose open time has
passed on the server clock exist, and the one containing "now" is still open.

Holding: :meth:`FakeBinance.hold` lets N more requests to a path through and then keeps the
next ones waiting, unanswered, until :meth:`FakeBinance.release` (``held`` counts them), so a
test can kill a client at an exact point of its fetch without timing guesses.

Fault injection: :meth:`FakeBinance.inject` queues faults (429, 418, 500, 503, timeout,
partial page, truncated body, dropped connection) that fire on matching requests, optionally
after letting ``skip`` of them through.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.feather as feather

INTERVAL_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000,
               "30m": 1_800_000, "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000,
               "6h": 21_600_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000}
WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20, "/api/v3/time": 1,
           "/api/v3/ping": 1}
FAULT_KINDS = ("429", "418", "500", "503", "timeout", "partial", "truncate", "drop")
_FILE = re.compile(r"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)-(?P<interval>\w+)\.feather$")


def binance_decimal(x: float) -> str:
    """Binance's positional decimal string (>= 8 decimals) that parses back to exactly ``x``."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(8, '0')}"


@dataclass
class Market:
    """One recorded symbol/interval, pre-rendered as JSON kline arrays."""

    symbol: str
    base: str
    quote: str
    interval: str
    open_ms: list[int]
    rows_json: list[str]
    table: pa.Table  # what a correct client returns for the whole recording


@functools.lru_cache(maxsize=32)
def load_market(path: str, mtime: float) -> Market:
    """Read and render one feather file (cached: tests start many servers)."""
    match = _FILE.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: expected <BASE>_<QUOTE>-<interval>.feather")
    interval = match["interval"]
    step = INTERVAL_MS[interval]
    data = feather.read_table(path)
    opens = [int(v) for v in data["date"].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
             .to_pylist()]
    o, h, low, c, v = (data[n].to_pylist() for n in ("open", "high", "low", "close", "volume"))
    rows, cols = [], {k: [] for k in ("quote_volume", "trades", "tbb", "tbq")}  # type: ignore[var-annotated]
    for i, t in enumerate(opens):
        qv = v[i] * c[i]
        trades = 1 + int(v[i] * 7) % 5000
        tbb, tbq = v[i] / 2, qv / 2
        cols["quote_volume"].append(qv)
        cols["trades"].append(trades)
        cols["tbb"].append(tbb)
        cols["tbq"].append(tbq)
        rows.append(json.dumps([
            t, binance_decimal(o[i]), binance_decimal(h[i]), binance_decimal(low[i]),
            binance_decimal(c[i]), binance_decimal(v[i]), t + step - 1, binance_decimal(qv),
            trades, binance_decimal(tbb), binance_decimal(tbq), "0"]))
    ts = pa.timestamp("ms", tz="UTC")
    table = pa.table({
        "open_time": pa.array(opens, pa.int64()).cast(ts),
        "open": pa.array(o, pa.float64()), "high": pa.array(h, pa.float64()),
        "low": pa.array(low, pa.float64()), "close": pa.array(c, pa.float64()),
        "volume": pa.array(v, pa.float64()),
        "close_time": pa.array([t + step - 1 for t in opens], pa.int64()).cast(ts),
        "quote_volume": pa.array(cols["quote_volume"], pa.float64()),
        "trades": pa.array(cols["trades"], pa.int64()),
        "taker_buy_base_volume": pa.array(cols["tbb"], pa.float64()),
        "taker_buy_quote_volume": pa.array(cols["tbq"], pa.float64()),
    })
    return Market(f"{match['base']}{match['quote']}", match["base"], match["quote"], interval,
                  opens, rows, table)


class FakeClock:
    """Shared fake wall clock: pass ``now`` to the server, ``now``/``sleep`` to the client.

    ``sleep`` records its argument and advances time instantly, so weight windows and
    Retry-After waits pass without real waiting, and tests can assert on the waits.
    """

    def __init__(self, start: float) -> None:
        self._now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds


@dataclass
class Fault:
    """A fault to inject on requests to ``path`` (``None``: any path)."""

    kind: str
    path: str | None = "/api/v3/klines"
    skip: int = 0          # let this many matching requests through first
    times: int = 1         # then fire on this many
    retry_after: int = 1   # seconds, for 429/418
    delay: float = 2.0     # seconds, for timeout (must exceed the client's timeout)
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; use one of {FAULT_KINDS}")


@dataclass
class Request:
    path: str
    params: dict[str, str]
    status: int             # 0: connection dropped without an answer
    used_weight: int
    fault: str | None = None
    rows: int | None = None  # klines rows sent (None: not a kline array)


@dataclass
class _Hold:
    """Requests to ``path`` beyond the first ``remaining`` wait for ``released``."""

    path: str
    remaining: int
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class _State:
    window: int = -1
    used: int = 0
    retry_not_before_ms: int = 0   # after a 429: earlier requests are a violation
    banned_until_ms: int = 0
    requests: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


class FakeBinance:
    """The fake exchange. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, candles_dir: Path, *, weight_limit: int = 1200, ban_seconds: int = 120,
                 clock: Callable[[], float] = time.time) -> None:
        self.candles_dir = Path(candles_dir)
        self.weight_limit = weight_limit
        self.ban_seconds = ban_seconds
        self.clock = clock
        self._paths = {m.group(0): p for p in sorted(self.candles_dir.glob("*.feather"))
                       if (m := _FILE.match(p.name))}
        self._state = _State()
        self._lock = threading.Lock()
        self._hold: _Hold | None = None
        self._held = 0
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- data ----------------------------------------------------------------------------
    @property
    def symbols(self) -> dict[str, list[str]]:
        """symbol -> intervals recorded."""
        out: dict[str, list[str]] = {}
        for name in self._paths:
            m = _FILE.match(name)
            assert m is not None
            out.setdefault(m["base"] + m["quote"], []).append(m["interval"])
        return out

    def market(self, symbol: str, interval: str) -> Market | None:
        for name, path in self._paths.items():
            m = _FILE.match(name)
            if m and m["base"] + m["quote"] == symbol and m["interval"] == interval:
                return load_market(str(path), path.stat().st_mtime)
        return None

    def expected(self, symbol: str, interval: str) -> pa.Table:
        market = self.market(symbol, interval)
        if market is None:
            raise KeyError(f"{symbol} {interval} is not recorded")
        return market.table

    # -- control -------------------------------------------------------------------------
    def inject(self, kind: str, **kwargs: Any) -> Fault:
        fault = Fault(kind, **kwargs)
        with self._lock:
            self._state.faults.append(fault)
        return fault

    def hold(self, after: int, path: str = "/api/v3/klines") -> None:
        """Answer ``after`` more requests to ``path``, then hold the next ones until release."""
        with self._lock:
            self._hold = _Hold(path, after)

    def release(self) -> None:
        """Let held requests through and stop holding."""
        with self._lock:
            hold, self._hold = self._hold, None
        if hold is not None:
            hold.released.set()

    @property
    def held(self) -> int:
        """Requests waiting on a hold right now (or still being answered after a release)."""
        with self._lock:
            return self._held

    def _wait_if_held(self, path: str) -> bool:
        with self._lock:
            hold = self._hold
            if hold is None or hold.path != path:
                return False
            if hold.remaining > 0:
                hold.remaining -= 1
                return False
            self._held += 1
        while not hold.released.wait(0.05) and not self._stopping.is_set():
            pass
        return True

    def _unheld(self) -> None:
        with self._lock:
            self._held -= 1

    def consume_weight(self, weight: int) -> None:
        """Spend weight in the current window, as another client on the same IP would."""
        with self._lock:
            self._count(weight)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._state.requests)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBinance is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeBinance:
        for symbol, intervals in self.symbols.items():  # render up front (cached per process)
            for interval in intervals:                  # so no request pays for it
                self.market(symbol, interval)
        handler = functools.partial(_Handler, self)
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="fake-binance")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from handler threads) ------------------------------------
    def _count(self, weight: int) -> int:
        window = self.now_ms() // 60_000
        if window != self._state.window:
            self._state.window, self._state.used = window, 0
        self._state.used += weight
        return self._state.used

    def _admit(self, path: str) -> tuple[int, int | None, Fault | None]:
        """Meter the request; return (used weight, limiter status, fault to apply)."""
        now = self.now_ms()
        with self._lock:
            used = self._count(WEIGHTS.get(path, 1))
            st = self._state
            if now < st.banned_until_ms:
                return used, 418, None
            if now < st.retry_not_before_ms:  # ignored a 429's Retry-After: ban
                st.banned_until_ms = now + self.ban_seconds * 1000
                return used, 418, None
            if used > self.weight_limit:
                st.retry_not_before_ms = (now // 60_000 + 1) * 60_000
                return used, 429, None
            for fault in st.faults:
                if fault.path is not None and fault.path != path:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    break
                fault.fired += 1
                if fault.fired >= fault.times:
                    st.faults.remove(fault)
                return used, None, fault
            return used, None, None

    def _record(self, req: Request) -> None:
        with self._lock:
            self._state.requests.append(req)

    def _klines(self, params: dict[str, str]) -> tuple[int, Any]:
        symbol, interval = params.get("symbol"), params.get("interval")
        if not symbol:
            return 400, {"code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, "
                                               "was empty/null, or malformed."}
        if not interval:
            return 400, {"code": -1102, "msg": "Mandatory parameter 'interval' was not sent, "
                                               "was empty/null, or malformed."}
        if interval not in INTERVAL_MS:
            return 400, {"code": -1120, "msg": "Invalid interval."}
        if symbol not in self.symbols:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        try:
            limit = int(params.get("limit", 500))
            start = int(params["startTime"]) if "startTime" in params else None
            end = int(params["endTime"]) if "endTime" in params else None
        except ValueError:
            return 400, {"code": -1100, "msg": "Illegal characters found in a parameter."}
        if not 1 <= limit <= 1000:
            return 400, {"code": -1130, "msg": "Invalid data sent for a parameter."}
        if start is not None and end is not None and start > end:
            return 400, {"code": -1023, "msg": "Start time is greater than end time."}
        market = self.market(symbol, interval)
        if market is None:
            return 200, []
        # Only candles whose open time has come exist on the exchange.
        exists = bisect.bisect_right(market.open_ms, self.now_ms())
        hi = exists if end is None else min(exists, bisect.bisect_right(market.open_ms, end))
        if start is not None:
            lo = bisect.bisect_left(market.open_ms, start)
            hi = min(hi, lo + limit)
        else:
            lo = max(0, hi - limit)
        return 200, market.rows_json[lo:hi] if lo < hi else []

    def _exchange_info(self, params: dict[str, str]) -> tuple[int, Any]:
        symbols = self.symbols
        wanted = params.get("symbol")
        if wanted is not None and wanted not in symbols:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        listed = [wanted] if wanted else sorted(symbols)
        infos = []
        assets = {m["base"] + m["quote"]: (m["base"], m["quote"])
                  for m in map(_FILE.match, self._paths) if m}
        for name in listed:
            base, quote = assets[name]
            infos.append({"symbol": name, "status": "TRADING", "baseAsset": base,
                          "quoteAsset": quote, "isSpotTradingAllowed": True,
                          "permissions": ["SPOT"], "filters": []})
        return 200, {
            "timezone": "UTC", "serverTime": self.now_ms(),
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": self.weight_limit},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5,
                 "limit": 61000}],
            "exchangeFilters": [], "symbols": infos}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that timed out close their socket; writing to it then is expected here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-binance/1.0"

    def __init__(self, fake: FakeBinance, *args: Any) -> None:
        self.fake = fake
        super().__init__(*args)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        held = self.fake._wait_if_held(urlsplit(self.path).path)
        try:
            self._serve()
        finally:
            if held:
                self.fake._unheld()

    def _serve(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        fake = self.fake
        used, limited, fault = fake._admit(path)
        headers = {"X-MBX-USED-WEIGHT-1M": str(used), "X-MBX-USED-WEIGHT": str(used)}
        now = fake.now_ms()
        if limited == 429:
            wait = math.ceil((fake._state.retry_not_before_ms - now) / 1000)
            self._send(429, {"code": -1003, "msg": f"Too much request weight used; current "
                             f"limit is {fake.weight_limit} request weight per 1 MINUTE."},
                       {**headers, "Retry-After": str(wait)}, path, params, used)
            return
        if limited == 418:
            wait = math.ceil((fake._state.banned_until_ms - now) / 1000)
            self._send(418, {"code": -1003, "msg": f"Way too much request weight used; IP "
                             f"banned until {fake._state.banned_until_ms}."},
                       {**headers, "Retry-After": str(wait)}, path, params, used)
            return
        kind = fault.kind if fault else None
        if fault is not None and kind in ("429", "418"):
            self._send(int(kind), {"code": -1003, "msg": "Too many requests (injected)."},
                       {**headers, "Retry-After": str(fault.retry_after)}, path, params, used,
                       kind)
            return
        if kind == "500":
            self._send(500, {"code": -1000, "msg": "An unknown error occurred while "
                             "processing the request."}, headers, path, params, used, kind)
            return
        if kind == "503":
            self._send(503, {"code": -1008, "msg": "Service Unavailable."}, headers, path,
                       params, used, kind)
            return
        if kind == "drop":
            fake._record(Request(path, params, 0, used, kind))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, body = self._route(path, params)
        if fault is not None and kind == "timeout":
            # Recorded now: the client has given up (and moved on) by the time we answer.
            fake._record(Request(path, params, status, used, kind))
            fake._stopping.wait(fault.delay)  # stop() wakes us
            self._send(status, body, headers, path, params, used, kind, record=False)
            return
        if kind == "partial" and status == 200 and isinstance(body, list):
            body = body[: len(body) // 2]
        if kind == "truncate":
            raw = self._encode(body)
            fake._record(Request(path, params, status, used, kind))
            self.send_response(status)
            for key, value in {**headers, "Content-Type": "application/json",
                               "Content-Length": str(len(raw))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(status, body, headers, path, params, used, kind)

    def _route(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        fake = self.fake
        if path == "/api/v3/klines":
            return fake._klines(params)
        if path == "/api/v3/exchangeInfo":
            return fake._exchange_info(params)
        if path == "/api/v3/time":
            return 200, {"serverTime": fake.now_ms()}
        if path == "/api/v3/ping":
            return 200, {}
        return 404, {"code": -1, "msg": f"no such endpoint {path}"}

    @staticmethod
    def _encode(body: Any) -> bytes:
        if isinstance(body, list) and all(isinstance(r, str) for r in body):
            return ("[" + ",".join(body) + "]").encode()  # pre-rendered kline rows
        return json.dumps(body).encode()

    def _send(self, status: int, body: Any, headers: dict[str, str], path: str,
              params: dict[str, str], used: int, fault: str | None = None,
              record: bool = True) -> None:
        raw = self._encode(body)
        rows = len(body) if path == "/api/v3/klines" and isinstance(body, list) else None
        if record:
            self.fake._record(Request(path, params, status, used, fault, rows))
        try:
            self.send_response(status)
            for key, value in {**headers, "Content-Type": "application/json",
                               "Content-Length": str(len(raw))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)
        except OSError:
            self.close_connection = True  # the client is gone (it timed out)


class FakeKlineStream:
    """Binance's combined kline WebSocket stream (``/stream?streams=s@kline_i/...``), replaying
    a :class:`FakeBinance`'s recorded candles on demand, with injectable faults.

    A real ``websockets`` server on 127.0.0.1 (port 0) in its own thread and event loop.
    :meth:`emit` sends one kline event of candle ``index`` (``closed`` False: an update of
    the open candle, True: the final one) to every connected client subscribed to it;
    :meth:`disconnect` drops every connection abruptly (no close frame), as a network cut
    mid-candle would; re-sending an index is a duplicate. ``connections`` counts accepted
    connections, so a test can wait for a reconnect.
    """

    def __init__(self, exchange: FakeBinance) -> None:
        self.exchange = exchange
        self.connections = 0
        self._clients: dict[Any, set[str]] = {}
        self._loop: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeKlineStream is not started")
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def start(self) -> FakeKlineStream:
        import asyncio

        def run() -> None:
            import websockets

            loop = asyncio.new_event_loop()
            self._loop = loop

            async def handler(ws: Any) -> None:
                query = parse_qs(urlsplit(ws.request.path).query)
                streams = set(query.get("streams", [""])[0].split("/"))
                self._clients[ws] = streams
                self.connections += 1
                try:
                    await ws.wait_closed()
                finally:
                    self._clients.pop(ws, None)

            async def serve() -> None:
                self._server = await websockets.serve(handler, "127.0.0.1", 0)
                self._ready.set()

            loop.run_until_complete(serve())
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="fake-kline-stream")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake kline stream did not start")
        return self

    def _call(self, coro_fn: Callable[[], Any]) -> Any:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro_fn(), self._loop).result(10)

    def emit(self, symbol: str, interval: str, index: int, *, closed: bool = True) -> int:
        """Send candle ``index`` of the recording; returns the clients it went to."""
        market = self.exchange.market(symbol, interval)
        if market is None:
            raise KeyError(f"{symbol} {interval} is not recorded")
        row = json.loads(market.rows_json[index])
        kline = {"t": row[0], "T": row[6], "s": symbol, "i": interval, "o": row[1],
                 "h": row[2], "l": row[3], "c": row[4], "v": row[5], "n": row[8],
                 "x": closed, "q": row[7], "V": row[9], "Q": row[10], "B": "0"}
        stream = f"{symbol.lower()}@kline_{interval}"
        text = json.dumps({"stream": stream, "data": {"e": "kline", "E": row[6],
                                                      "s": symbol, "k": kline}})

        async def send() -> int:
            sent = 0
            for ws, streams in list(self._clients.items()):
                if stream in streams:
                    await ws.send(text)
                    sent += 1
            return sent

        return int(self._call(send))

    def disconnect(self) -> None:
        """Cut every connection without a close frame."""
        async def cut() -> None:
            for ws in list(self._clients):
                ws.transport.abort()

        self._call(cut)

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            self._server.close()
            for ws in list(self._clients):
                ws.transport.abort()

        self._call(close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None

    def __enter__(self) -> FakeKlineStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
