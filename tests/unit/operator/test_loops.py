"""Each CR's loop as an asyncio task (mlta_operator.loops): started, refreshed, stopped by events."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

import pytest

from mlta_operator.kube import Ref
from mlta_operator.loops import Flag, LiveBody, Loops, lean


def body(name: str, generation: int = 1, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline",
            "metadata": {"name": name, "namespace": "default", "generation": generation,
                         "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
                         **meta},
            "spec": {"source": {"type": "sample"}}}


class Recorder:
    """Loop factories that record what their loop saw, and run until stopped (or crash)."""

    def __init__(self) -> None:
        self.started: list[LiveBody] = []
        self.seen: list[int] = []

    def factory(self, crash: bool = False, ignore_stop: bool = False):  # type: ignore[no-untyped-def]
        async def loop(live: LiveBody, stopped: Flag) -> None:
            self.started.append(live)
            if crash:
                raise RuntimeError("reconcile bug")
            while not stopped.is_set() or ignore_stop:
                self.seen.append(live["metadata"]["generation"])
                await asyncio.sleep(0.005)
        return loop


def test_lean_drops_managed_fields_and_leaves_the_event_alone() -> None:
    event = body("a")
    slim = lean(event)
    assert "managedFields" not in slim["metadata"] and slim["spec"] is event["spec"]
    assert "managedFields" in event["metadata"]  # kopf's dict is not changed
    assert lean({"metadata": {"name": "b"}}) == {"metadata": {"name": "b"}}
    assert lean({"kind": "X"}) == {"kind": "X"}


def test_one_loop_per_cr_whose_view_every_event_refreshes() -> None:
    async def scenario() -> None:
        loops, rec = Loops(), Recorder()
        loops.observe(body("a"), False, rec.factory())
        loops.observe(body("b"), False, rec.factory())
        await asyncio.sleep(0)
        loops.observe(body("a", generation=2), False, rec.factory())
        assert len(rec.started) == 2
        assert loops.running() == {Ref("DataPipeline", "default", "a"), Ref("DataPipeline", "default", "b")}
        assert rec.started[0]["metadata"]["generation"] == 2 and len(rec.started[0]) == 4
        assert set(rec.started[0]) == {"apiVersion", "kind", "metadata", "spec"}
        first, second = rec.started[0].snapshot(), rec.started[0].snapshot()
        first["spec"]["source"]["type"] = "binance"  # a reader's copy is its own
        assert second["spec"]["source"]["type"] == "sample" == rec.started[0]["spec"]["source"]["type"]
        await loops.stop_all(grace=5)
        assert loops.running() == frozenset()
    asyncio.run(scenario())


@pytest.mark.parametrize("how", ["deletion-mark", "deleted", "stop"])
def test_a_deletion_stops_the_loop_and_starts_none(how: str) -> None:
    async def scenario() -> None:
        loops, rec = Loops(), Recorder()
        ref = Ref("DataPipeline", "default", "a")
        loops.observe(body("a"), False, rec.factory())
        task = loops._running[ref].task
        if how == "deletion-mark":
            loops.observe(body("a", deletionTimestamp="2026-12-01T00:00:00Z"), False, rec.factory())
        elif how == "deleted":
            loops.observe(body("a"), True, rec.factory())
        else:
            loops.stop(ref)
            loops.stop(Ref("DataPipeline", "default", "unknown"))  # nothing running: nothing to do
        await asyncio.wait_for(task, 5)
        assert loops.running() == frozenset() and ref not in loops._running
        loops.observe(body("a", deletionTimestamp="2026-12-01T00:00:00Z"), False, rec.factory())
        loops.observe(body("a"), True, rec.factory())
        assert len(rec.started) == 1 and loops.running() == frozenset()
    asyncio.run(scenario())


def test_a_crashed_loop_is_logged_and_the_next_event_restarts_it(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        loops, rec = Loops(), Recorder()
        ref = Ref("DataPipeline", "default", "a")
        loops.observe(body("a"), False, rec.factory(crash=True))
        task = loops._running[ref].task
        with pytest.raises(RuntimeError):
            await task
        assert loops.running() == frozenset()
        loops.observe(body("a", generation=2), False, rec.factory())
        await asyncio.sleep(0)
        assert loops.running() == {ref} and len(rec.started) == 2
        await loops.stop_all(grace=5)
    with caplog.at_level(logging.ERROR, logger="mlta_operator"):
        asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records] == ["DataPipeline default/a: its loop died"]


def test_stop_all_cancels_a_loop_that_outlives_its_grace() -> None:
    async def scenario() -> None:
        loops, rec = Loops(), Recorder()
        loops.observe(body("stubborn"), False, rec.factory(ignore_stop=True))
        loops.observe(body("polite"), False, rec.factory())
        tasks = [r.task for r in loops._running.values()]
        await asyncio.wait_for(loops.stop_all(grace=0.05), 5)
        assert [t.cancelled() for t in tasks] == [True, False]
        assert loops.running() == frozenset()
        await Loops().stop_all(grace=1)  # no loops: returns at once
    asyncio.run(scenario())


def test_a_flag_wait_times_out_or_returns_when_set() -> None:
    async def scenario() -> None:
        flag = Flag()
        assert await flag.wait(0.01) is False and not flag.is_set()
        asyncio.get_running_loop().call_later(0.01, flag.set)
        assert await flag.wait(5) is True and flag.is_set()
    asyncio.run(scenario())


def test_a_loop_runs_in_the_context_it_is_given() -> None:
    var = contextvars.ContextVar[str]("var")

    async def scenario() -> None:
        var.set("the caller's")
        given = contextvars.Context()
        given.run(var.set, "given")
        seen: list[str] = []

        async def loop(live: LiveBody, stopped: Flag) -> None:
            seen.append(var.get("unset"))

        loops = Loops()
        loops.observe(body("a"), False, loop, context=lambda: given)
        loops.observe(body("b"), False, loop)
        await loops.stop_all(grace=5)
        assert seen == ["given", "the caller's"]
    asyncio.run(scenario())
