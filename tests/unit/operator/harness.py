"""The operator's loops on a fake cluster, in one asyncio event loop, the way kopf runs them.

kopf gives each CR's daemon a live view of the object that it replaces on every watch event,
feeds every event to ``on.event`` handlers, and sets the daemon's ``stopped`` flag when the
object is marked for deletion. :class:`LoopHarness` does exactly that with the fake cluster's
events (delivered into the loop from whatever thread wrote, as a watch would), so the tests
drive the real ``loop.follow`` and the real ``Wakeups``.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tests.unit.operator.world import RECONCILERS, World

from mlta_operator.kube import Ref
from mlta_operator.loop import follow
from mlta_operator.wakeups import StopFlag, Wakeups


class LiveBody(Mapping[str, Any]):
    """A read-only view whose contents are replaced by each watch event (kopf's ``Body``)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


class Flag:
    """A stop flag shaped like kopf's ``DaemonStopped``."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()

    async def wait(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        return True


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
        self.live: dict[Ref, LiveBody] = {}
        self.flags: dict[Ref, Flag] = {}
        self.tasks: dict[Ref, asyncio.Task[None]] = {}
        self.events: list[tuple[str, str, str]] = []   # posted Kubernetes events: (ref, reason, msg)
        self.held: set[Ref] = set()                      # refs whose live view is not updated
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> LoopHarness:
        self._loop = asyncio.get_running_loop()
        self.world.cluster.subscribe(self._from_thread)
        for body in list(self.world.cluster.objects.values()):
            self._deliver("ADDED", copy.deepcopy(body))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for flag in self.flags.values():
            flag.set()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks.values()), 10)

    # -- kopf's part --------------------------------------------------------------------------
    def _from_thread(self, event: str, body: dict[str, Any]) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._deliver, event, body)

    def _deliver(self, event: str, body: dict[str, Any]) -> None:
        ref = Ref.of(body)
        if ref in self.live and ref not in self.held:
            self.live[ref].raw = body
        self.wakeups.observe(body, deleted=event == "DELETED")
        if event == "ADDED" and ref not in self.tasks and ref.kind in self.kinds:
            self.live[ref] = LiveBody(body)
            self.flags[ref] = Flag()
            self.tasks[ref] = asyncio.create_task(follow(
                self.live[ref], self.world.ctx, RECONCILERS[ref.kind], self.flags[ref], self._post))
        if body["metadata"].get("deletionTimestamp") and ref in self.flags:
            self.flags[ref].set()

    def _post(self, body: dict[str, Any], reason: str, message: str) -> None:
        self.events.append((str(Ref.of(body)), reason, message))

    def release(self, ref: Ref) -> None:
        """Stop holding back ``ref``'s watch events; its view jumps to the stored object."""
        self.held.discard(ref)
        self.live[ref].raw = self.world.body(ref)

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
