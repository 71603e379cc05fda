"""Client-side request-weight budget and retry backoff for exchange REST clients.

Binance meters every REST call in *request weight* per IP and per minute window aligned to
the server's clock (``X-MBX-USED-WEIGHT-1M`` reports the window's total so far, including
what other processes on the same IP spent). Going over the limit earns a 429, and ignoring
429s earns a 418 IP ban, so the client keeps its own view of the window and waits for the
next one *before* it would overspend, instead of learning from errors.

Both classes take their clock and sleep as arguments, so tests drive them with a fake clock
and never really wait.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

log = logging.getLogger(__name__)

WINDOW_MS = 60_000


class WeightBudget:
    """Tracks request weight used in the server's current one-minute window.

    ``limit`` is the budget we allow ourselves; ``acquire(w)`` blocks (through ``sleep``)
    until a request of weight ``w`` fits, and ``observe`` corrects the local count with the
    server's authoritative header after each response.
    """

    def __init__(
        self,
        limit: int,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        margin_s: float = 0.5,
    ) -> None:
        if limit < 1:
            raise ValueError(f"weight limit must be >= 1, got {limit}")
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._margin_s = margin_s
        self._offset_ms = 0  # server clock minus local clock
        self._window = -1
        self._used = 0
        self.total_waited_s = 0.0

    # -- server clock -----------------------------------------------------------------------
    def sync(self, server_ms: int) -> None:
        """Align the local view of the minute windows with the server's clock."""
        self._offset_ms = server_ms - int(self._clock() * 1000)

    def server_now_ms(self) -> int:
        return int(self._clock() * 1000) + self._offset_ms

    def lower_limit(self, server_limit: int) -> None:
        """Never plan for more weight than the exchange itself allows (from exchangeInfo)."""
        if 0 < server_limit < self.limit:
            log.info("weight budget lowered to the exchange's limit",
                     extra={"weight_limit": server_limit, "configured": self.limit})
            self.limit = server_limit

    # -- accounting ----------------------------------------------------------------------------
    @property
    def used(self) -> int:
        """Weight used in the current window as far as we know (0 once a new window began)."""
        return self._used if self._current_window() == self._window else 0

    def _current_window(self) -> int:
        return self.server_now_ms() // WINDOW_MS

    def acquire(self, weight: int) -> float:
        """Wait until ``weight`` fits in the budget, count it, and return seconds waited."""
        waited = 0.0
        if self.used + weight > self.limit:
            now = self.server_now_ms()
            waited = (WINDOW_MS - now % WINDOW_MS) / 1000 + self._margin_s
            log.info("request weight budget exhausted; waiting for the next minute window",
                     extra={"weight_used": self.used, "weight_limit": self.limit,
                            "wait_s": round(waited, 3)})
            self._sleep(waited)
            self.total_waited_s += waited
        window = self._current_window()
        if window != self._window:
            self._window, self._used = window, 0
        self._used += weight
        return waited

    def observe(self, used_header: str | None) -> None:
        """Adopt the server's count (it includes other clients on the same IP)."""
        if used_header is None:
            return
        try:
            used = int(used_header)
        except ValueError:
            log.warning("ignoring malformed used-weight header", extra={"value": used_header})
            return
        window = self._current_window()
        if window != self._window:
            self._window = window
        self._used = used

    def exhaust(self) -> None:
        """Mark the current window as spent (after a 429: the server says we are over)."""
        self._window = self._current_window()
        self._used = max(self._used, self.limit)


class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**attempt))``.

    Full jitter spreads retries of many clients over the whole window, which is what keeps a
    recovering exchange from being hit by a synchronized wave of retries.
    """

    def __init__(self, base_s: float = 0.5, cap_s: float = 30.0,
                 rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()

    def ceiling(self, attempt: int) -> float:
        return float(min(self.cap_s, self.base_s * (2 ** attempt)))

    def delay(self, attempt: int) -> float:
        return self._rng.uniform(0.0, self.ceiling(attempt))
