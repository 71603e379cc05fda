"""The A/B router: which variant answers a request, by weight, optionally sticky by key.

Weights are integer percents summing to 100. They are laid out as contiguous ranges of
100 buckets (``champion=80, challenger=20`` -> buckets 0..79 and 80..99), so a variant with
weight 0 owns no bucket and never receives traffic.

With a request key (a client or symbol id) and ``sticky=True`` the bucket is a SHA-256 of
the key, so the same key lands on the same variant in every ingress replica and after every
restart (Python's ``hash()`` is salted per process and would scatter keys). Without a key
the bucket is drawn from a random generator, seedable for reproducible tests.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ServingError

BUCKETS = 100


@dataclass(frozen=True)
class Arm:
    """One routable variant: its name and traffic percent."""

    name: str
    weight: int


def key_bucket(key: str) -> int:
    """A stable bucket in [0, 100) for ``key``: the same in every process and on every run."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def validate_arms(arms: Sequence[Arm]) -> None:
    """Reject a split the router cannot serve, naming the fix."""
    if not arms:
        raise ServingError("no variants to route to", hint="declare at least one variant")
    names = [a.name for a in arms]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ServingError(f"variant names must be unique; repeated: {', '.join(dupes)}",
                           hint="give every variant its own name")
    bad = [a.name for a in arms if not 0 <= a.weight <= BUCKETS]
    if bad:
        raise ServingError(f"variant weights must be within 0..100; out of range: {', '.join(bad)}",
                           hint="use integer percents")
    total = sum(a.weight for a in arms)
    if total != BUCKETS:
        split = ", ".join(f"{a.name}={a.weight}" for a in arms)
        raise ServingError(f"variant weights must sum to 100, got {total} ({split})",
                           hint="adjust the weights so that they add up to 100")


class Router:
    """Maps a request (optionally keyed) to a variant name according to the weights."""

    def __init__(self, arms: Sequence[Arm], *, sticky: bool = True, seed: int | None = None):
        validate_arms(arms)
        self.arms: tuple[Arm, ...] = tuple(arms)
        self.sticky = sticky
        self._rng = random.Random(seed)
        # owner[b] is the variant that owns bucket b.
        owner: list[str] = []
        for arm in self.arms:
            owner.extend([arm.name] * arm.weight)
        self._owner: tuple[str, ...] = tuple(owner)

    def for_bucket(self, bucket: int) -> str:
        """The variant owning ``bucket`` (0..99)."""
        if not 0 <= bucket < BUCKETS:
            raise ServingError(f"bucket {bucket} is outside 0..99")
        return self._owner[bucket]

    def choose(self, key: str | None = None) -> str:
        """The variant for one request: by key hash when sticky and keyed, else weighted random."""
        if self.sticky and key is not None and key != "":
            return self._owner[key_bucket(key)]
        return self._owner[self._rng.randrange(BUCKETS)]

    @property
    def weights(self) -> dict[str, int]:
        return {a.name: a.weight for a in self.arms}

    def describe(self) -> str:
        """The split as ``name=weight,...`` (the ModelDeployment status ``split`` column form)."""
        return ",".join(f"{a.name}={a.weight}" for a in self.arms)
