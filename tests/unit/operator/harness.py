"""The operator's loops on a fake cluster, in one asyncio event loop, the way kopf runs them.

kopf feeds every watch event to the ``observe`` handler, which hands it to the real
:class:`~mlta_operator.wakeups.Wakeups` and :class:`~mlta_operator.loops.Loops` (each CR's
loop starts on its first event, its live view is replaced on every event, its stop flag is
set when the object is marked for deletion). :class:`LoopHarness` does exactly that with the
fake cluster's events (delivered into the loop from whatever thread wrote, as a watch would),
so the tests drive the real ``loop.follow``, ``Loops`` and ``Wakeups``.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from tests.unit.operator.world import RECONCILERS, World

from mlta_operator.kube import Ref
from mlta_operator.loop import follow
from mlta_operator.loops import Loops
from mlta_operator.wakeups import StopFlag, Wakeups


class RecordingWakeups(Wakeups):
    """Real wake-ups that also remember every deadline each CR slept with."""

    def __init__(self) -> None:
        super().__init__()
        self.deadlines: dict[Ref, list[float | None]] = {}

    async def sleep(self, ref: Ref, timeout: float | None, stopped: StopFlag) -> bool:
        self.deadlines.setdefault(ref, []).append(timeout)
        return await super().sleep(ref, timeout, stopped)


class LoopHarness:
    """Start with ``async with LoopHarness(world) as op``; every CR gets its loop."""

    def __init__(self, world: World, kinds: frozenset[str] = frozenset(RECONCILERS)) -> None:
        self.world = world
        self.kinds = kinds   # CRs of other kinds are left to "other controllers" (the test)
        self.wakeups = RecordingWakeups()
        world.ctx.wakeups = self.wakeups
        self.loops = Loops()
        world.ctx.loops = self.loops
        self.events: list[tuple[str, str, str]] = []   # posted Kubernetes events: (ref, reason, msg)
        self.held: set[Ref] = set()                      # refs whose watch events are held back
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def tasks(self) -> dict[Ref, asyncio.Task[None]]:
        return {ref: r.task for ref, r in self.loops._running.items()}

    async def __aenter__(self) -> LoopHarness:
        self._loop = asyncio.get_running_loop()
        self.world.cluster.subscribe(self._from_thread)
        for body in list(self.world.cluster.objects.values()):
            self._deliver("ADDED", copy.deepcopy(body))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.loops.stop_all(grace=10), 15)

    # -- kopf's part --------------------------------------------------------------------------
    def _from_thread(self, event: str, body: dict[str, Any]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._deliver, event, body)

    def _deliver(self, event: str, body: dict[str, Any]) -> None:
        ref = Ref.of(body)
        deleted = event == "DELETED"
        self.wakeups.observe(body, deleted=deleted)
        if ref.kind not in self.kinds or (ref in self.held and not deleted
                                          and not body["metadata"].get("deletionTimestamp")):
            return
        self.loops.observe(body, deleted, lambda live, stopped: follow(
            live, self.world.ctx, RECONCILERS[ref.kind], stopped, self._post))

    def _post(self, body: dict[str, Any], reason: str, message: str) -> None:
        self.events.append((str(Ref.of(body)), reason, message))

    def release(self, ref: Ref) -> None:
        """Stop holding back ``ref``'s watch events; its view jumps to the stored object."""
        self.held.discard(ref)
        self._deliver("MODIFIED", self.world.body(ref))

    # -- the test's part ----------------------------------------------------------------------
    async def until(self, predicate: Callable[[], object], what: str, timeout: float = 10) -> None:
        """Poll ``predicate`` (in the loop, so loops keep running) until true or the deadline."""
        deadline = time.monotonic() + timeout
        while not predicate():
            for ref, task in self.tasks.items():
                if task.done() and task.exception() is not None:
                    raise AssertionError(f"the loop of {ref} died") from task.exception()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.005)

    async def submitted(self, ref: Ref) -> str:
        """Until the engine has the job whose id ``ref`` recorded (the id is recorded first)."""
        def sid() -> str | None:
            recorded = self.world.status(ref).get("submissionId")
            return recorded if recorded in self.world.engine.jobs else None
        await self.until(sid, f"{ref} submitted")
        return str(sid())

    def phase(self, ref: Ref) -> str | None:
        obj = self.world.cluster.objects.get(tuple(ref))  # type: ignore[call-overload]
        return None if obj is None else (obj.get("status") or {}).get("phase")

    def reason(self, ref: Ref) -> str | None:
        obj = self.world.cluster.objects.get(tuple(ref))  # type: ignore[call-overload]
        for c in ((obj or {}).get("status") or {}).get("conditions") or []:
            if c["type"] == "Ready":
                return str(c["reason"])
        return None

    def asleep_without_deadline(self, ref: Ref) -> bool:
        sleeping = self.wakeups.sleeping()
        return ref in sleeping and sleeping[ref] is None

    async def settled(self, *refs: Ref) -> None:
        """Until every ref's loop sleeps with no deadline: only a change can wake it now."""
        await self.until(lambda: all(self.asleep_without_deadline(r) for r in refs),
                         f"{refs} asleep without a deadline")
