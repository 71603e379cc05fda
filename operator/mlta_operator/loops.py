"""Each CR's loop as a plain asyncio task, started and stopped by the watch events kopf hands us.

Why not a kopf daemon per CR: a daemon carries kopf's machinery for it (a stopper, a logger,
an invocation context, kopf's copy of the full body with its ``managedFields``), about 40 KB of
live Python objects per CR, so 2000 CRs waiting for a dependency held the operator at 240 MB.
Here a waiting CR costs its task, its stop flag and the last body seen, as compact JSON and
without ``metadata.managedFields`` (which nothing in the operator reads and which is often
larger than the rest of the object): ~10 KB.

The semantics are the daemons' ones (:mod:`mlta_operator.handlers.common` wires them):

- every watch event of a CR (including the listing at start-up, so an operator restart
  resumes every CR) replaces its :class:`LiveBody`; the first one starts its loop;
- a deletion mark (``metadata.deletionTimestamp``) or a DELETED event sets the loop's stop
  flag; the finalizer waits for the loop to end before cleaning up;
- at operator exit every loop is asked to stop, given a grace period, then cancelled.

Everything here runs in the operator's event loop, so it needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import json
import logging
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import Any

from .kube import Ref

log = logging.getLogger("mlta_operator")

#: Builds the loop of one CR from its live body and its stop flag.
LoopFactory = Callable[["LiveBody", "Flag"], Coroutine[Any, Any, None]]


def lean(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as a dict without ``metadata.managedFields`` (shallow: nested parts are shared)."""
    raw = dict(body)
    meta = raw.get("metadata")
    if isinstance(meta, Mapping) and "managedFields" in meta:
        raw["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return raw


class LiveBody(Mapping[str, Any]):
    """A read-only view of a CR whose contents each watch event replaces (as kopf's ``Body``).

    Kept as compact JSON, decoded when the loop reads it: a CR's loop reads its body once per
    reconcile, and a waiting CR's body then costs its JSON size (~4 KB for a ModelDeployment)
    instead of ~3x that as Python objects.
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.replace(body)

    def replace(self, body: Mapping[str, Any]) -> None:
        """The view shows ``body`` from now on (a watch event arrived)."""
        self._packed = json.dumps(body, separators=(",", ":"), default=str).encode()

    def snapshot(self) -> dict[str, Any]:
        """The body as a new dict of its own (nothing shared with later events)."""
        decoded: dict[str, Any] = json.loads(self._packed)
        return decoded

    def __getitem__(self, key: str) -> Any:
        return self.snapshot()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self.snapshot())


class Flag:
    """A loop's stop flag (the :class:`~mlta_operator.wakeups.StopFlag` the loop sleeps on)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._also: asyncio.Event | None = None

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()
        if self._also is not None:
            self._also.set()

    @contextlib.contextmanager
    def waking(self, event: asyncio.Event) -> Iterator[None]:
        """While inside, :meth:`set` also sets ``event``: the sleeper waits on that one alone."""
        self._also = event
        try:
            yield
        finally:
            self._also = None

    async def wait(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class _Running:
    __slots__ = ("body", "flag", "task")

    def __init__(self, body: LiveBody, flag: Flag, task: asyncio.Task[None]) -> None:
        self.body, self.flag, self.task = body, flag, task


class Loops:
    """The running loops, one per CR."""

    def __init__(self) -> None:
        self._running: dict[Ref, _Running] = {}

    def observe(self, body: Mapping[str, Any], deleted: bool, start: LoopFactory,
                context: Callable[[], contextvars.Context] = contextvars.copy_context) -> None:
        """One watch event of a CR: refresh its live body, start its loop or stop it.

        ``context`` gives the context variables a new loop runs with (called only when one
        starts; default: a copy of the caller's, as ``asyncio.create_task`` takes). A loop
        outlives the event that started it, and everything its context refers to stays alive
        as long as it runs.
        """
        ref = Ref.of(body)
        running = self._running.get(ref)
        if running is not None and running.task.done():  # ended (stopped, or it crashed)
            self._running.pop(ref)
            running = None
        marked = deleted or bool((body.get("metadata") or {}).get("deletionTimestamp"))
        if running is not None:
            running.body.replace(lean(body))
            if marked:
                running.flag.set()
            return
        if marked:
            return  # deleted before we saw it alive: nothing to reconcile, only to clean up
        live, flag = LiveBody(lean(body)), Flag()
        task = asyncio.get_running_loop().create_task(start(live, flag), name=f"loop {ref}",
                                                      context=context())
        task.add_done_callback(functools.partial(self._ended, ref))
        self._running[ref] = _Running(live, flag, task)

    def _ended(self, ref: Ref, task: asyncio.Task[None]) -> None:
        running = self._running.get(ref)
        if running is not None and running.task is task:
            self._running.pop(ref)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: its loop died", ref, exc_info=task.exception())

    def stop(self, ref: Ref) -> None:
        """Ask ``ref``'s loop to end after the reconcile in flight, if any."""
        running = self._running.get(ref)
        if running is not None:
            running.flag.set()

    def running(self) -> frozenset[Ref]:
        return frozenset(ref for ref, r in self._running.items() if not r.task.done())

    async def stop_all(self, grace: float) -> None:
        """Stop every loop (operator exit): ``grace`` seconds to finish, then cancelled."""
        tasks = [r.task for r in self._running.values()]
        for running in self._running.values():
            running.flag.set()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:  # a reconcile stuck in its thread keeps its task alive: do not wait forever
            _, stuck = await asyncio.wait(pending, timeout=grace)
            for task in stuck:
                log.error("%s did not end when cancelled", task.get_name())
