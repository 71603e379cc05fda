"""The candle source interface every source (sample, files, binance) implements.

A source returns raw candles as a pyarrow Table, as received, with at least the standard
columns below; extra source-specific columns (quote_volume, trades, ...) are kept in Bronze.
The pipeline passes ``start`` (resume point: last stored open time + one interval) so a
killed fetch continues without gaps or duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Columns every source returns: open_time/close_time are timestamp[ms, tz=UTC]; the rest float64.
STANDARD_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time")

INTERVAL_MS: dict[str, int] = {
    "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
    "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000,
    "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
}


class CandleSource(Protocol):
    """Fetches candles for one symbol and interval in [start, end)."""

    name: str

    def fetch(
        self, symbol: str, interval: str, start: datetime | None, end: datetime | None
    ) -> pa.Table:
        """Raw candles sorted by open_time; an empty table when there are none in range."""
        ...


@runtime_checkable
class PagedCandleSource(CandleSource, Protocol):
    """A source that can hand over candles page by page as they arrive (e.g. Binance REST).

    Bronze persists every page before asking for the next, so a job killed mid-fetch keeps
    all but the page in flight and its rerun resumes after the last stored candle.
    """

    def iter_pages(
        self, symbol: str, interval: str, start: datetime | None, end: datetime | None
    ) -> Iterator[pa.Table]:
        """Non-empty pages in time order, each continuing where the previous one ended."""
        ...
