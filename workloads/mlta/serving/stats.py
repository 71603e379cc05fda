"""Request counts and latency histograms that replicas report and the hub adds up.

Quantiles cannot be averaged across replicas, histograms can: each replica counts its
latencies in the same log-spaced buckets (factor 1.25 from 50 us to ~10 s, so a quantile read
from them is within 12% of the true one), sends the counts since its last report, and the
hub sums them per variant and reads p50/p99 off the sum.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

FACTOR = 1.25
BASE_MS = 0.05
EDGES_MS = [BASE_MS * FACTOR ** i for i in range(56)]  # 0.05 ms .. ~11 s


def bucket_of(ms: float) -> int:
    return bisect.bisect_left(EDGES_MS, ms)


def quantile(counts: list[int], q: float) -> float | None:
    """The ``q`` quantile (ms) of a histogram: the geometric middle of the bucket it falls in."""
    total = sum(counts)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= rank and n:
            lo = EDGES_MS[i - 1] if i > 0 else BASE_MS / FACTOR
            hi = EDGES_MS[i] if i < len(EDGES_MS) else EDGES_MS[-1] * FACTOR
            return round(math.sqrt(lo * hi), 4)
    return round(EDGES_MS[-1], 4)  # pragma: no cover - rank <= total always stops above


@dataclass
class VariantStats:
    """One variant's counts: by HTTP status code, and latencies."""

    codes: dict[str, int] = field(default_factory=dict)
    latency: list[int] = field(default_factory=lambda: [0] * (len(EDGES_MS) + 1))

    def record(self, code: int, ms: float) -> None:
        key = str(code)
        self.codes[key] = self.codes.get(key, 0) + 1
        self.latency[bucket_of(ms)] += 1

    def merge(self, other: dict[str, Any]) -> None:
        for code, n in (other.get("codes") or {}).items():
            self.codes[code] = self.codes.get(code, 0) + int(n)
        for i, n in enumerate(other.get("latency") or []):
            if i < len(self.latency):
                self.latency[i] += int(n)

    def to_wire(self) -> dict[str, Any]:
        return {"codes": dict(self.codes), "latency": list(self.latency)}

    def summary(self) -> dict[str, Any]:
        requests = sum(self.codes.values())
        errors = sum(n for code, n in self.codes.items() if code[:1] in ("4", "5"))
        return {"requests": requests, "errors": errors, "codes": dict(self.codes),
                "p50Ms": quantile(self.latency, 0.5), "p99Ms": quantile(self.latency, 0.99)}


class StatsBook:
    """Per-variant stats; ``drain`` hands over the counts since the last drain."""

    def __init__(self) -> None:
        self.variants: dict[str, VariantStats] = {}

    def record(self, variant: str, code: int, ms: float) -> None:
        stats = self.variants.get(variant)
        if stats is None:
            stats = self.variants[variant] = VariantStats()
        stats.record(code, ms)

    def drain(self) -> dict[str, dict[str, Any]]:
        out = {name: s.to_wire() for name, s in self.variants.items()}
        self.variants = {}
        return out

    def merge(self, report: dict[str, dict[str, Any]]) -> None:
        for name, wire in report.items():
            self.variants.setdefault(name, VariantStats()).merge(wire)
