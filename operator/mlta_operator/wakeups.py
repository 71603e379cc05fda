"""Wake-up calls between CRs: a waiting CR sleeps until what it depends on changes.

A TrainingJob waits for its DataPipeline, a ModelDeployment for its TrainingJobs. Polling
each waiting CR on a timer cost 0.19 of a core for 200 idle ModelDeployments; here nothing
runs while nothing changes. The operator feeds every watch event it receives into
:meth:`Wakeups.observe` (a kopf ``on.event`` handler); each CR's loop (``loop.follow``)
registers itself and the resources it depends on, and sleeps in :meth:`Wakeups.sleep`
until it is woken, stopped, or its poll deadline passes.

What wakes whom:

- a CR's own ``metadata.generation`` changing (a spec edit) wakes that CR;
- a dependency's *readiness view* changing (its existence, generation, phase, Ready
  condition or any status output such as ``datasetUri``) wakes every CR depending on it.
  Status writes that change nothing a dependant reads (a new message, a transition time)
  wake nobody.

Everything here runs in the operator's event loop (kopf's), so it needs no locks. A change
that arrives while a CR is reconciling is not lost: :meth:`depend` compares the change
counter of each dependency with the one taken before the reconcile started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .kube import Ref

#: Status keys a dependant never reads: writing them wakes nobody.
VOLATILE_STATUS_KEYS = frozenset({
    "conditions", "message", "correlationId", "submissionId", "attempt", "dashboardUrl",
    # a running search's progress
    "trials", "trialsDone", "trialsTotal", "bestScore", "bestLearner",
})


class StopFlag(Protocol):
    """A loop's stop flag (:class:`mlta_operator.loops.Flag`)."""

    def is_set(self) -> bool: ...

    def waking(self, event: asyncio.Event) -> AbstractContextManager[None]:
        """While inside, setting the flag also sets ``event`` (one thing to wait on)."""
        ...


def readiness_view(body: Any) -> str:
    """What dependants of ``body`` read from it, as a comparable string."""
    meta = body.get("metadata") or {}
    status = dict(body.get("status") or {})
    ready = next((c.get("status") for c in status.get("conditions") or []
                  if c.get("type") == "Ready"), None)
    outputs = {k: v for k, v in status.items() if k not in VOLATILE_STATUS_KEYS}
    return json.dumps([meta.get("generation"), ready, outputs], sort_keys=True, default=str)


class Wakeups:
    """Who waits for whom, and the events that wake them."""

    def __init__(self) -> None:
        self._counter = 0                        # bumped on every relevant change
        self._changed_at: dict[Ref, int] = {}    # counter value of each ref's last change
        self._views: dict[Ref, str] = {}         # last readiness view of each observed ref
        self._generations: dict[Ref, int] = {}   # last generation of each observed ref
        self._events: dict[Ref, asyncio.Event] = {}
        self._depends_on: dict[Ref, tuple[Ref, ...]] = {}
        self._dependants: dict[Ref, set[Ref]] = {}
        self._exits: dict[Ref, asyncio.Event] = {}   # set when a ref's loop ends
        self._sleeping: dict[Ref, float | None] = {}  # asleep now, with the deadline they set

    # -- what the watch feeds in ------------------------------------------------------------
    def observe(self, body: Any, deleted: bool = False) -> None:
        """One watch event: wake the CR on a spec change, its dependants on a readiness change."""
        ref = Ref.of(body)
        generation = int((body.get("metadata") or {}).get("generation") or 0)
        if deleted:
            self._generations.pop(ref, None)
            view = None
        else:
            previous = self._generations.get(ref)
            self._generations[ref] = generation
            if previous is not None and previous != generation:
                self._changed(ref)
                self.wake(ref)
            view = readiness_view(body)
        if self._views.get(ref) == view:
            return
        if view is None:
            self._views.pop(ref, None)
        else:
            self._views[ref] = view
        self._changed(ref)
        for dependant in tuple(self._dependants.get(ref, ())):
            self.wake(dependant)

    def _changed(self, ref: Ref) -> None:
        self._counter += 1
        self._changed_at[ref] = self._counter

    # -- what each CR's loop does -------------------------------------------------------------
    @property
    def counter(self) -> int:
        """Take it before reading dependencies; pass it to :meth:`depend` afterwards."""
        return self._counter

    def register(self, ref: Ref) -> None:
        """Start filing wake-ups for ``ref`` (its loop started)."""
        self._events.setdefault(ref, asyncio.Event())
        self._exits.pop(ref, None)

    def unregister(self, ref: Ref) -> None:
        """Forget ``ref`` as a waiter (its loop ended: deleted, or the operator stops)."""
        self._events.pop(ref, None)
        self.depend(ref, (), since=self._counter)
        exited = self._exits.pop(ref, None)
        if exited is not None:
            exited.set()

    def registered(self, ref: Ref) -> bool:
        return ref in self._events

    async def until_unregistered(self, ref: Ref, timeout: float) -> bool:
        """Wait (at most ``timeout``) for ``ref``'s loop to end; True when it has.

        Deletion handlers call this first, so that cleaning up never races a reconcile
        that is still submitting.
        """
        if ref not in self._events:
            return True
        exited = self._exits.setdefault(ref, asyncio.Event())
        try:
            await asyncio.wait_for(exited.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def depend(self, ref: Ref, dependencies: Iterable[Ref], since: int) -> None:
        """``ref`` now depends on ``dependencies``; wake it at once if one changed after ``since``."""
        new = tuple(dict.fromkeys(dependencies))
        for old in self._depends_on.pop(ref, ()):
            waiting = self._dependants.get(old)
            if waiting is not None:
                waiting.discard(ref)
                if not waiting:
                    del self._dependants[old]
        if new:
            self._depends_on[ref] = new
        for dep in new:
            self._dependants.setdefault(dep, set()).add(ref)
            if self._changed_at.get(dep, 0) > since:
                self.wake(ref)

    def dependants(self, ref: Ref) -> frozenset[Ref]:
        return frozenset(self._dependants.get(ref, ()))

    def wake(self, ref: Ref) -> None:
        event = self._events.get(ref)
        if event is not None:
            event.set()

    def begin(self, ref: Ref) -> int:
        """A reconcile of ``ref`` starts now: clear its pending wake-up, return the counter."""
        event = self._events.get(ref)
        if event is not None:
            event.clear()
        return self._counter

    async def sleep(self, ref: Ref, timeout: float | None, stopped: StopFlag) -> bool:
        """Sleep until woken, stopped or ``timeout`` (None: no deadline); True when woken.

        One event to wait on (the stop flag sets it too), so a CR asleep without a deadline
        holds no helper task: 2000 waiting CRs are 2000 suspended coroutines and nothing else.
        """
        event = self._events.get(ref)
        if event is None:
            raise KeyError(f"{ref} is not registered for wake-ups")
        if stopped.is_set():
            return False
        if event.is_set():
            return True
        self._sleeping[ref] = timeout
        try:
            with stopped.waking(event), contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            self._sleeping.pop(ref, None)
        return event.is_set() and not stopped.is_set()

    def sleeping(self) -> dict[Ref, float | None]:
        """The CRs asleep right now and their deadlines (None: only a change wakes them)."""
        return dict(self._sleeping)
