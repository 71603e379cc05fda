"""Binance public REST candles (spot ``GET /api/v3/klines``), production grade.

What makes it safe to run unattended against the real exchange:

- the symbol is checked once with ``/api/v3/exchangeInfo`` (an unknown symbol fails fast,
  naming it, and is never retried), the interval and the time range before any request;
- request weight is budgeted client side and corrected from ``X-MBX-USED-WEIGHT-1M``, so we
  wait for the next minute window instead of collecting 429s (and then a 418 IP ban);
- 5xx, timeouts, dropped connections and truncated bodies are retried with exponential
  backoff and full jitter; 429/418 honour ``Retry-After``; other 4xx are not retried;
- pages are requested by time and every row is checked against the requested range, so the
  result has no duplicates, nothing outside ``[start, end)``, and never the still-open candle
  (judged by the server's clock from ``/api/v3/time``, not ours).

Resume is the caller's: it passes ``start`` = last stored open time + one interval.
:meth:`BinanceSource.iter_pages` yields page by page so a caller can persist progress and
lose at most one page when it is killed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from mlta.errors import SourceError, SpecError

from .base import INTERVAL_MS, STANDARD_COLUMNS
from .ratelimit import Backoff, WeightBudget

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

log = logging.getLogger(__name__)

#: Request weights of the spot endpoints we call (Binance spot REST docs, 2024+).
WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20, "/api/v3/time": 1,
           "/api/v3/ping": 1}
MAX_PAGE_LIMIT = 1000
EXTRA_COLUMNS = ("quote_volume", "trades", "taker_buy_base_volume", "taker_buy_quote_volume")
USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
_FLOAT_FIELDS = {"open": 1, "high": 2, "low": 3, "close": 4, "volume": 5, "quote_volume": 7,
                 "taker_buy_base_volume": 9, "taker_buy_quote_volume": 10}


def kline_schema() -> pa.Schema:
    """The table every fetch returns: standard columns first, then Binance's extras."""
    import pyarrow as pa

    ts = pa.timestamp("ms", tz="UTC")
    types = {"open_time": ts, "close_time": ts, "trades": pa.int64()}
    return pa.schema([(c, types.get(c, pa.float64())) for c in STANDARD_COLUMNS + EXTRA_COLUMNS])


def to_ms(value: datetime) -> int:
    """UTC milliseconds; a naive datetime is taken as UTC (CR timestamps are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def normalize_symbol(symbol: str) -> str:
    """``eth_btc`` / ``ETH/BTC`` -> ``ETHBTC``: the same CR symbol list works for every source."""
    return symbol.replace("_", "").replace("/", "").replace("-", "").upper()


class _Retryable(Exception):
    """One failed attempt that may succeed later; carries the wait before the next one."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


class BinanceSource:
    """Candles from Binance spot REST (or anything speaking the same API, like the test fake).

    ``max_retries`` counts retries after the first attempt. ``max_retry_after`` caps how long
    a 418 ban may make us wait before we give up and report it. ``clock`` is the local wall
    clock in seconds (injected with ``sleep`` by tests that fake time). ``name`` is what the
    lake calls this source (e.g. ``sources.source_key``, which tells exchange URLs apart).
    """

    name = "binance"

    def __init__(
        self,
        base_url: str = "https://api.binance.com",
        max_weight_per_minute: int = 1200,
        *,
        timeout: float = 10,
        max_retries: int = 5,
        page_limit: int = 1000,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        max_retry_after: float = 300.0,
        name: str = "binance",
    ) -> None:
        if not 1 <= page_limit <= MAX_PAGE_LIMIT:
            raise SpecError(f"page_limit={page_limit} is out of range",
                            hint=f"Binance serves 1..{MAX_PAGE_LIMIT} klines per request")
        if max_retries < 0:
            raise SpecError(f"max_retries={max_retries} must be >= 0")
        self.name = name  # the lake's partition key for this configuration
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.page_limit = page_limit
        self.max_retry_after = max_retry_after
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=timeout,
                                              headers={"User-Agent": "mlta/binance-source"})
        self._sleep = sleep
        self._backoff = backoff or Backoff()
        self.budget = WeightBudget(max_weight_per_minute, clock=clock, sleep=sleep)
        self._symbols: dict[str, str] = {}
        self.stats = {"requests": 0, "retries": 0, "pages": 0, "rows": 0}

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> BinanceSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API --------------------------------------------------------------------------
    def fetch(
        self, symbol: str, interval: str, start: datetime | None, end: datetime | None
    ) -> pa.Table:
        """Closed candles with open time in ``[start, end)``, sorted, without duplicates.

        ``start=None`` means from the symbol's first candle, ``end=None`` up to now (the
        still-open candle is never included).
        """
        import pyarrow as pa

        pages = list(self.iter_pages(symbol, interval, start, end))
        if not pages:
            return kline_schema().empty_table()
        return pa.concat_tables(pages)

    def iter_pages(
        self, symbol: str, interval: str, start: datetime | None, end: datetime | None
    ) -> Generator[pa.Table, None, None]:
        """Yield non-empty pages in time order; each page continues where the previous ended.

        A caller that persists each page before asking for the next loses nothing when it is
        killed: it resumes with ``start`` = last stored open time + one interval.
        """
        interval_ms = self._interval_ms(interval)
        lo = to_ms(start) if start is not None else 0
        hi_req = to_ms(end) if end is not None else None
        if hi_req is not None and lo > hi_req and lo - hi_req >= interval_ms:
            raise SpecError(
                f"start {start} is after end {end}",
                hint="give a start before the end (resume points past the end fetch nothing)")
        if hi_req is not None and lo >= hi_req:
            return  # caught up: a resume point at (or within one interval past) the end
        self.stats = dict.fromkeys(self.stats, 0)
        exchange_symbol = self.validate_symbol(symbol)
        server_ms = self.server_time_ms()
        # The candle containing server time is still open: only candles before it are final.
        open_candle = server_ms - server_ms % interval_ms
        hi = open_candle if hi_req is None else min(hi_req, open_candle)
        cursor = lo
        log.info("binance fetch", extra={"symbol": exchange_symbol, "interval": interval,
                                         "start_ms": lo, "end_ms": hi})
        while cursor < hi:
            rows = self._get("/api/v3/klines", {
                "symbol": exchange_symbol, "interval": interval, "startTime": cursor,
                "endTime": hi - 1, "limit": self.page_limit})
            if not isinstance(rows, list):
                raise SourceError(f"klines for {exchange_symbol} is not a JSON array: {rows!r:.200}")
            if not rows:
                break
            page, last_open = self._page(rows, cursor, hi, server_ms, interval_ms)
            if last_open < cursor:
                raise SourceError(
                    f"{self.base_url} returned klines before startTime={cursor} "
                    f"for {exchange_symbol} {interval}; refusing to loop",
                    hint="the server does not honour startTime; is base_url a Binance API?")
            # A short page is *not* taken as the end: a truncating proxy or a partial answer
            # would silently lose data. Only an empty page or reaching `hi` ends the loop.
            cursor = last_open + interval_ms
            self.stats["pages"] += 1
            log.debug("binance page", extra={"symbol": exchange_symbol, "rows": page.num_rows,
                                             "next_ms": cursor, "weight_used": self.budget.used})
            if page.num_rows:
                self.stats["rows"] += page.num_rows
                yield page
        log.info("binance fetch done", extra={"symbol": exchange_symbol, "interval": interval,
                                              "weight_used": self.budget.used, **self.stats})

    def validate_symbol(self, symbol: str) -> str:
        """Return Binance's spelling of ``symbol``; SourceError (not retryable) if unknown."""
        wanted = normalize_symbol(symbol)
        if wanted in self._symbols:
            return self._symbols[wanted]
        try:
            info = self._get("/api/v3/exchangeInfo", {"symbol": wanted})
        except SourceError as exc:
            if getattr(exc, "binance_code", None) == -1121:
                err = SourceError(
                    f"unknown symbol {symbol!r} (as {wanted!r}) on {self.base_url}: {exc.message}",
                    hint="use a symbol listed by /api/v3/exchangeInfo, e.g. BTCUSDT",
                    reason="UnknownSymbol")
                err.retryable = False
                raise err from exc
            raise
        symbols = info.get("symbols", []) if isinstance(info, dict) else []
        match = next((s for s in symbols if s.get("symbol") == wanted), None)
        if match is None:
            err = SourceError(f"unknown symbol {symbol!r} on {self.base_url}: not in exchangeInfo",
                              hint="use a symbol listed by /api/v3/exchangeInfo",
                              reason="UnknownSymbol")
            err.retryable = False
            raise err
        if match.get("status") != "TRADING":
            log.warning("symbol is not trading; history may end early",
                        extra={"symbol": wanted, "status": match.get("status")})
        for rate in info.get("rateLimits", []):
            if (rate.get("rateLimitType") == "REQUEST_WEIGHT" and rate.get("interval") == "MINUTE"
                    and rate.get("intervalNum") == 1):
                self.budget.lower_limit(int(rate.get("limit", 0)))
        self._symbols[wanted] = wanted
        return wanted

    def server_time_ms(self) -> int:
        """The exchange's clock; also aligns the weight budget's minute windows to it."""
        body = self._get("/api/v3/time", {})
        try:
            server_ms = int(body["serverTime"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(f"/api/v3/time answered {body!r:.200}, expected serverTime") from exc
        self.budget.sync(server_ms)
        return server_ms

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _interval_ms(interval: str) -> int:
        try:
            return INTERVAL_MS[interval]
        except KeyError:
            raise SpecError(f"unknown interval {interval!r}",
                            hint=f"use one of {', '.join(INTERVAL_MS)}") from None

    def _page(self, rows: list[Any], lo: int, hi: int, server_ms: int,
              interval_ms: int) -> tuple[pa.Table, int]:
        """Rows in [lo, hi) that closed before ``server_ms``, sorted and de-duplicated."""
        import pyarrow as pa

        by_open: dict[int, list[Any]] = {}
        last_open = -1
        try:
            for row in rows:
                open_ms = int(row[0])
                last_open = max(last_open, open_ms)
                if lo <= open_ms < hi and int(row[6]) < server_ms:
                    by_open[open_ms] = row  # a repeated open time keeps the last answer
            kept = [by_open[k] for k in sorted(by_open)]
            columns: dict[str, list[Any]] = {
                "open_time": [int(r[0]) for r in kept],
                "close_time": [int(r[6]) for r in kept],
                "trades": [int(r[8]) for r in kept],
            }
            for name, idx in _FLOAT_FIELDS.items():
                columns[name] = [float(r[idx]) for r in kept]
        except (TypeError, ValueError, IndexError) as exc:
            raise SourceError(f"malformed kline row from {self.base_url}: {exc}",
                              hint="expected Binance's 12-field kline arrays") from exc
        if len(kept) != len(rows):
            log.debug("dropped klines outside range or still open",
                      extra={"dropped": len(rows) - len(kept)})
        schema = kline_schema()
        return pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema},
                        schema=schema), last_open

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        """GET with weight budgeting and retries; returns the decoded JSON body."""
        weight = WEIGHTS.get(path, 1)
        url = self.base_url + path
        attempts = self.max_retries + 1
        last = ""
        for attempt in range(attempts):
            self.budget.acquire(weight)
            self.stats["requests"] += 1
            try:
                return self._attempt(url, path, params)
            except _Retryable as exc:
                last = exc.problem
                if attempt + 1 >= attempts:
                    break
                wait = exc.wait if exc.wait is not None else self._backoff.delay(attempt)
                self.stats["retries"] += 1
                log.warning("binance request failed; retrying",
                            extra={"path": path, "problem": exc.problem, "attempt": attempt + 1,
                                   "max_attempts": attempts, "wait_s": round(wait, 3),
                                   "weight_used": self.budget.used})
                self._sleep(wait)
        raise SourceError(f"GET {url} failed after {attempts} attempts; last: {last}",
                          hint="the exchange is unavailable or limiting us; retry later")

    def _attempt(self, url: str, path: str, params: dict[str, Any]) -> Any:
        try:
            resp = self._client.get(url, params=params, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout after {self.timeout}s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection error ({type(exc).__name__}: {exc})") from exc
        self.budget.observe(resp.headers.get(USED_WEIGHT_HEADER))
        status = resp.status_code
        if status == 200:
            try:
                return resp.json()
            except ValueError as exc:
                raise _Retryable(f"HTTP 200 with a malformed JSON body ({exc})") from exc
        body = resp.text[:300]
        problem = f"HTTP {status}: {body}"
        if status in (429, 418):
            retry_after = _retry_after(resp)
            if retry_after is None:  # no hint: assume the window is spent, wait for the next
                self.budget.exhaust()
                retry_after = 0.0
            if status == 418 and retry_after is not None and retry_after > self.max_retry_after:
                raise SourceError(
                    f"GET {url}: IP banned by the exchange for {retry_after:.0f}s (HTTP 418): "
                    f"{body}", hint="too many requests after 429s; lower max_weight_per_minute")
            raise _Retryable(problem, retry_after)
        if status >= 500:
            raise _Retryable(problem)
        code, msg = _binance_error(resp)
        err = SourceError(f"GET {url} params={params} rejected with HTTP {status}: "
                          f"{code} {msg}".rstrip(),
                          hint="the request is invalid; it is not retried")
        err.retryable = False
        err.binance_code = code  # type: ignore[attr-defined]
        raise err


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _binance_error(resp: httpx.Response) -> tuple[int | None, str]:
    """Binance's error body is ``{"code": -1121, "msg": "Invalid symbol."}``."""
    try:
        body = resp.json()
    except ValueError:
        return None, resp.text[:300]
    if isinstance(body, dict):
        code = body.get("code")
        return (int(code) if isinstance(code, int) else None), str(body.get("msg", body))
    return None, str(body)[:300]
