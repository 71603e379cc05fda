"""Closed candles in: parsing, validation, and what to do about gaps.

A candle is refused (422, naming the candle and the field) when a value is not a finite
number, a price is not positive, high/low do not contain open and close, the volume is
negative, the open time is off the interval grid, or the candle has not closed yet. The
sequence rules (409) live with the symbol's state: a candle older than the last one, or the
same candle again, is refused; a gap is repaired the way Silver repairs it (up to
:data:`mlta.data.quality.SHORT_GAP_MAX_BARS` missing bars become flat candles at the previous
close with zero volume, exactly what the Gold features were computed on), and a longer one
restarts the indicators (they re-warm), unless the deployment asked to reject gaps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..data.quality import SHORT_GAP_MAX_BARS
from .validation import RequestRejected

FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Candle:
    """One closed candle; ``open_ms`` is its open time in UTC milliseconds."""

    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    def flat_after(self, step_ms: int, k: int) -> Candle:
        """The ``k``-th filled candle after this one (Silver's repair: flat, no volume)."""
        c = self.close
        return Candle(self.open_ms + k * step_ms, c, c, c, c, 0.0)

    def to_wire(self, step_ms: int) -> dict[str, Any]:
        return {"openTime": self.open_ms, "closeTime": self.open_ms + step_ms - 1,
                "open": self.open, "high": self.high, "low": self.low, "close": self.close,
                "volume": self.volume}


def _time_ms(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise RequestRejected(f"{where}: openTime must be epoch milliseconds or an ISO time")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if stamp.tzinfo is None:
                raise RequestRejected(f"{where}: openTime {value!r} has no time zone",
                                      hint="send UTC, e.g. 2024-01-01T00:05:00Z")
            return int(stamp.timestamp() * 1000)
    raise RequestRejected(f"{where}: openTime {value!r} is not epoch milliseconds or ISO 8601",
                          hint="e.g. 1704067500000 or 2024-01-01T00:05:00Z")


def parse_candle(raw: Any, step_ms: int, where: str, now_ms: int | None = None) -> Candle:
    """One candle from ``{openTime, open, high, low, close, volume[, closeTime]}``."""
    if not isinstance(raw, Mapping):
        raise RequestRejected(f"{where} is not an object",
                              hint="send {openTime, open, high, low, close, volume}")
    missing = [f for f in ("openTime", *FIELDS) if f not in raw]
    if missing:
        raise RequestRejected(f"{where} lacks {', '.join(missing)}",
                              hint="a candle is {openTime, open, high, low, close, volume}")
    open_ms = _time_ms(raw["openTime"], where)
    values = []
    for name in FIELDS:
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise RequestRejected(f"{where}: {name} must be a finite number, got {value!r}")
        values.append(float(value))
    o, h, lo, c, v = values
    if min(o, h, lo, c) <= 0:
        raise RequestRejected(f"{where}: prices must be positive")
    if h < max(o, c) or lo > min(o, c):
        raise RequestRejected(f"{where}: high {h} / low {lo} do not contain open {o} and "
                              f"close {c}", hint="check the candle's fields")
    if v < 0:
        raise RequestRejected(f"{where}: volume {v} is negative")
    if open_ms % step_ms:
        raise RequestRejected(f"{where}: openTime {open_ms} is not on the {step_ms} ms grid",
                              hint="send the candle's open time, a multiple of the interval")
    close_time = raw.get("closeTime")
    if close_time is not None and _time_ms(close_time, where) not in (
            open_ms + step_ms - 1, open_ms + step_ms):
        raise RequestRejected(f"{where}: closeTime does not match openTime + interval")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if open_ms + step_ms > now + 1000:
        raise RequestRejected(f"{where}: the candle opened at {open_ms} has not closed yet",
                              hint="send closed candles only")
    return Candle(open_ms, o, h, lo, c, v)


def parse_candles(raw: Any, step_ms: int, max_rows: int) -> list[Candle]:
    """A list of candles, strictly increasing in time (422 otherwise)."""
    if not isinstance(raw, list) or not raw:
        raise RequestRejected("'candles' must be a non-empty list of candles")
    if len(raw) > max_rows:
        raise RequestRejected(f"too many candles: {len(raw)} > {max_rows}",
                              hint="send them in smaller batches", status=413)
    out = [parse_candle(item, step_ms, f"candles[{i}]") for i, item in enumerate(raw)]
    for i in range(1, len(out)):
        if out[i].open_ms <= out[i - 1].open_ms:
            raise RequestRejected(f"candles[{i}] is not after candles[{i - 1}]",
                                  hint="send one symbol's candles oldest first, each once")
    return out


@dataclass(frozen=True)
class GapPlan:
    """What to do before applying a candle: fill ``filled`` bars, or restart the state."""

    missing: int
    filled: Sequence[Candle] = ()
    rewarm: bool = False


def plan_gap(last: Candle | None, candle: Candle, step_ms: int, on_gap: str) -> GapPlan:
    """The repair for the bars between ``last`` and ``candle`` (409 for reject / sequence)."""
    if last is None:
        return GapPlan(0)
    if candle.open_ms == last.open_ms:
        raise RequestRejected(f"duplicate candle at {candle.open_ms}: already applied",
                              hint="send each closed candle once", status=409)
    if candle.open_ms < last.open_ms:
        raise RequestRejected(f"candle at {candle.open_ms} is older than the last one at "
                              f"{last.open_ms}", hint="send candles oldest first", status=409)
    missing = (candle.open_ms - last.open_ms) // step_ms - 1
    if missing == 0:
        return GapPlan(0)
    if on_gap == "reject":
        raise RequestRejected(
            f"{missing} candle(s) missing before {candle.open_ms}",
            hint=f"send the candle at {last.open_ms + step_ms} first", status=409)
    if missing <= SHORT_GAP_MAX_BARS:
        return GapPlan(missing, [last.flat_after(step_ms, k) for k in range(1, missing + 1)])
    return GapPlan(missing, rewarm=True)
