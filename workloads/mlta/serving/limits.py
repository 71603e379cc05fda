"""Rate limits per API key: token buckets, held across service replicas by leasing.

Each key has a bucket of ``burst`` tokens refilled at ``requestsPerSecond``; a request takes
one token or is answered 429 with ``Retry-After`` (the time until a token is back).

With one service replica (the default) its bucket is the limit. With several, a key's
requests reach any replica (HAProxy balances connections, and one client's keep-alive
connection sticks to one replica), so dividing the rate by the replica count would starve a
client on a single connection. Instead the single ``hub`` deployment holds the authoritative
buckets and replicas *lease* tokens from it in small batches (a tenth of a second's worth):
the request path takes a local token, and only when a replica's local tokens run out does it
ask the hub for more (one call per batch, not per request). Leased tokens expire after
:data:`LEASE_SECONDS`, so a replica that stops getting traffic cannot hoard a key's budget.
A refusal from the hub is remembered until its retry time, so a client over its limit is
refused locally without a hub call per request.

Why not a library: the well-kept Python limiters (``limits``, ``pyrate-limiter``) share
state across processes through Redis, Memcached or a database, none of which a ModelDeployment
has; the hub already is the deployment's one shared place, and a token bucket is a few lines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..specs.modeldeployment import RateLimitSpec

LEASE_SECONDS = 1.0
LEASE_FRACTION = 0.1


class TokenBucket:
    """``burst`` tokens, refilled continuously at ``rate`` per second."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float, n: float = 1.0) -> float:
        """0.0 when ``n`` tokens were taken, else the seconds until they would be there."""
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if tokens >= n:
            self.tokens = tokens - n
            return 0.0
        self.tokens = tokens
        return (n - tokens) / self.rate if self.rate > 0 else math.inf

    def grant(self, now: float, want: float) -> tuple[float, float]:
        """Up to ``want`` whole tokens now: (granted, wait). With none to give, ``wait`` is
        the time until a whole lease is back, so a replica refused once stays refused
        locally that long instead of asking again for every request."""
        tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        granted = float(min(math.floor(tokens), want))
        self.tokens = tokens - granted
        wait = 0.0 if granted >= 1 else (min(want, self.burst) - tokens) / self.rate
        return granted, wait


def lease_size(limit: RateLimitSpec) -> float:
    """Tokens a replica asks for at once: a tenth of a second's worth, within the burst."""
    return float(max(1, min(limit.burst, math.ceil(limit.requests_per_second * LEASE_FRACTION))))


@dataclass
class _Local:
    tokens: float = 0.0
    expires: float = 0.0
    denied_until: float = 0.0


#: Asks the hub for tokens: (key name, limit, wanted) -> (granted, retry after seconds).
LeaseFn = Callable[[str, RateLimitSpec, float], Awaitable[tuple[float, float]]]


class Limiter:
    """One replica's view of every key's limit (see the module docstring)."""

    def __init__(self, default: RateLimitSpec | None, lease: LeaseFn | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default = default
        self.lease = lease
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._local: dict[str, _Local] = {}

    def limit_for(self, key: str, override: RateLimitSpec | None) -> RateLimitSpec | None:
        return override or self.default

    def reset(self, default: RateLimitSpec | None) -> None:
        """New limits (reconfigure): buckets start full again under the new numbers."""
        self.default = default
        self._buckets.clear()
        self._local.clear()

    async def check(self, key: str, override: RateLimitSpec | None = None) -> float:
        """0.0 to let a request through, else the Retry-After seconds of a 429."""
        limit = override or self.default
        if limit is None:
            return 0.0
        now = self.clock()
        if self.lease is None:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.rate != limit.requests_per_second:
                bucket = self._buckets[key] = TokenBucket(limit.requests_per_second,
                                                          limit.burst, now)
            return bucket.take(now)
        local = self._local.setdefault(key, _Local())
        if local.tokens >= 1 and now < local.expires:
            local.tokens -= 1
            return 0.0
        if now < local.denied_until:
            return local.denied_until - now
        granted, wait = await self.lease(key, limit, lease_size(limit))
        now = self.clock()
        if granted < 1:
            local.tokens, local.denied_until = 0.0, now + wait
            return wait
        local.tokens, local.expires = granted - 1, now + LEASE_SECONDS
        return 0.0


class GlobalBuckets:
    """The hub's authoritative buckets, one per key, that replicas lease from."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def grant(self, key: str, limit: RateLimitSpec, want: float) -> tuple[float, float]:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != limit.requests_per_second \
                or bucket.burst != float(limit.burst):
            bucket = self._buckets[key] = TokenBucket(limit.requests_per_second, limit.burst,
                                                      now)
        return bucket.grant(now, want)
