"""Each CR's loop: reconcile, write what changed, then sleep until there is a reason to look again.

One loop runs per CR (an asyncio task, :mod:`mlta_operator.loops`) for as long as the CR exists.
It reconciles once when it starts (a new CR, or every CR after an operator restart), then
whenever it is woken: by a spec change, by a change of a resource it depends on
(:mod:`mlta_operator.wakeups`), or by its poll deadline. Work in flight is polled with
backoff (:class:`Backoff`): the first checks come quickly, a long job is looked at less and
less often, and any change of status starts over. A CR waiting for a dependency, a finished
job and an invalid spec have no deadline at all, so at rest the operator does nothing.

Errors: a retryable :class:`~mlta.errors.MltaError` (Ray unreachable, a dependency read
failing) is retried after ``operator.retry_delay_seconds``; any other is reported and the
CR waits for a change of its own or of its dependencies. Both post a Kubernetes event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlta.config import Settings
from mlta.errors import MltaError
from mlta.logs import correlated

from . import conditions as cond
from . import metrics, naming
from .backends.base import Engine
from .kube import Cluster, Ref
from .loops import LiveBody, Loops
from .reconcile import Follow, Outcome, dependencies
from .wakeups import StopFlag, Wakeups

log = logging.getLogger("mlta_operator")

#: Reconciles one CR body against the context: ``reconcile_job`` or ``reconcile_deployment``.
Reconciler = Callable[[dict[str, Any], "Context"], Outcome]
#: Posts a Kubernetes event about a CR: (body, reason, message). kopf's ``warn`` in the operator.
EventPoster = Callable[[dict[str, Any], str, str], None]


@dataclass
class Context:
    """What every loop shares: kept in kopf's memo by the start-up handler."""

    settings: Settings
    engine: Engine
    cluster: Cluster
    wakeups: Wakeups = field(default_factory=Wakeups)
    loops: Loops = field(default_factory=Loops)


class Backoff:
    """Delays that double from ``first`` up to ``cap``; :meth:`reset` starts over."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, max(first, cap)
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


class StatusWriter:
    """Writes a CR's status and remembers it until the watch has caught up.

    The live body kopf hands the loop lags behind our own writes by a watch event or more
    (and an event of someone else's earlier write, kopf adding its finalizer, can arrive
    after our write's response). The operator is the only writer of status, so until the
    live body shows the status we last stored, :meth:`fresh` is the live body with that
    status: spec and metadata as the watch says, status as we know it is.
    """

    def __init__(self, cluster: Cluster, ref: Ref) -> None:
        self.cluster, self.ref = cluster, ref
        self.latest: dict[str, Any] | None = None   # status as our last write stored it

    def fresh(self, live: dict[str, Any]) -> dict[str, Any]:
        if self.latest is None:
            return live
        if (live.get("status") or {}) == self.latest:
            self.latest = None  # the watch caught up
            return live
        return {**live, "status": self.latest}

    def write(self, patch: dict[str, Any]) -> dict[str, Any]:
        stored = self.cluster.patch_status(self.ref.kind, self.ref.namespace, self.ref.name, patch)
        self.latest = dict(stored.get("status") or {})
        return stored


class _RecordingCluster:
    """The context's cluster, with this CR's own status writes going through its writer."""

    def __init__(self, cluster: Cluster, writer: StatusWriter, base: dict[str, Any]) -> None:
        self._cluster, self._writer, self.base = cluster, writer, base

    def get_resource(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._cluster.get_resource(kind, namespace, name)

    def patch_status(self, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        if Ref(kind, namespace, name) != self._writer.ref:
            return self._cluster.patch_status(kind, namespace, name, status)
        stored = self._writer.write(status)
        self.base = stored
        return stored


def reconcile_and_write(body: dict[str, Any], ctx: Context, reconcile: Reconciler,
                        writer: StatusWriter) -> tuple[Outcome, bool]:
    """One reconcile of ``body`` with its status written; returns the outcome and whether
    the status changed. Runs in a worker thread: everything it calls blocks."""
    kind, meta = body["kind"], body["metadata"]
    cid = naming.correlation_id(meta.get("uid", ""), int(meta.get("generation", 1)))
    recording = _RecordingCluster(ctx.cluster, writer, body)
    started = time.perf_counter()
    result = "error"
    with correlated(cid):
        try:
            outcome = reconcile(body, Context(ctx.settings, ctx.engine, recording, ctx.wakeups))
            old = dict(recording.base.get("status") or {})
            patch = cond.status_patch(old, outcome.status)
            if patch:
                writer.write(patch)
            metrics.record_phase(kind, meta["namespace"], meta["name"],
                                 outcome.status.get("phase", cond.Phase.PENDING))
            result = "ok"
            return outcome, bool(patch) or recording.base is not body
        except MltaError as exc:
            result = "retry" if exc.retryable else "error"
            raise
        finally:
            metrics.RECONCILES.labels(kind, result).inc()
            metrics.RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


async def follow(body: Any, ctx: Context, reconcile: Reconciler, stopped: StopFlag,
                 post_event: EventPoster) -> None:
    """Reconcile ``body`` (kopf's live view of the CR) until ``stopped``; see the module doc."""
    ref = Ref.of(body)
    ops = ctx.settings.operator
    polls = Backoff(ops.poll_interval_seconds, ops.poll_max_interval_seconds)
    writer = StatusWriter(ctx.cluster, ref)
    ctx.wakeups.register(ref)
    metrics.FOLLOWED.labels(ref.kind).inc()
    try:
        while not stopped.is_set():
            delay = await _step(ref, body, ctx, reconcile, writer, polls, post_event)
            await ctx.wakeups.sleep(ref, delay, stopped)
    finally:
        ctx.wakeups.unregister(ref)
        metrics.FOLLOWED.labels(ref.kind).dec()


async def _step(ref: Ref, body: Any, ctx: Context, reconcile: Reconciler, writer: StatusWriter,
                polls: Backoff, post_event: EventPoster) -> float | None:
    """One reconcile; returns the longest sleep before the next (None: until a change).

    A function of its own so that nothing of this reconcile (the body copy, the outcome)
    stays referenced while the loop sleeps: 2000 sleeping CRs must stay cheap.
    """
    since = ctx.wakeups.begin(ref)
    current = writer.fresh(body.snapshot() if isinstance(body, LiveBody) else dict(body))
    ctx.wakeups.depend(ref, dependencies(current), since)
    try:
        outcome, changed = await asyncio.to_thread(reconcile_and_write, current, ctx, reconcile, writer)
    except MltaError as exc:
        if not exc.retryable:
            log.error("%s: %s (waiting for a change)", ref, exc)
            post_event(current, exc.reason, str(exc))
            return None
        delay = ctx.settings.operator.retry_delay_seconds
        log.warning("%s: %s (retrying in %gs)", ref, exc, delay)
        post_event(current, exc.reason, f"{exc} (retrying in {delay:g}s)")
        return delay
    for reason, message in outcome.events:
        post_event(current, reason, message)
    if outcome.invalid_spec:
        log.warning("%s: invalid spec: %s", ref, outcome.status.get("message", ""))
    return _next_delay(outcome, changed, polls)


def _next_delay(outcome: Outcome, changed: bool, polls: Backoff) -> float | None:
    """How long to sleep at most: None for no deadline (only a change wakes the CR)."""
    if outcome.follow == Follow.EVENTS:
        polls.reset()
        return None
    if outcome.follow == Follow.WATCH:
        polls.reset()
        return polls.cap
    if changed:
        polls.reset()
    return polls.next()
