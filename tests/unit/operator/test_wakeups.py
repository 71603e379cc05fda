"""Wakeups on their own: who is woken by which watch event, and how a loop sleeps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.unit.operator.world import ready_status

from mlta_operator.kube import Ref
from mlta_operator.loops import Flag
from mlta_operator.wakeups import Wakeups, readiness_view

DP = Ref("DataPipeline", "ns", "prices")
TJ = Ref("TrainingJob", "ns", "deep")
MD = Ref("ModelDeployment", "ns", "ab")


def body(ref: Ref, generation: int = 1, status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"kind": ref.kind, "metadata": {"namespace": ref.namespace, "name": ref.name,
                                                          "generation": generation}}
    if status is not None:
        obj["status"] = status
    return obj


def woken(w: Wakeups, ref: Ref) -> bool:
    return w._events[ref].is_set()


async def fresh(*refs: Ref) -> Wakeups:
    w = Wakeups()
    for ref in refs:
        w.register(ref)
    return w


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_a_spec_change_wakes_the_cr_itself_and_its_dependants() -> None:
    async def scenario() -> None:
        w = await fresh(DP, TJ)
        w.depend(TJ, [DP], since=w.begin(TJ))
        w.observe(body(DP, 1))
        assert woken(w, TJ) and not woken(w, DP)  # first sight: a new view for TJ, no edit for DP
        w.begin(TJ)
        w.observe(body(DP, 2))
        assert woken(w, DP) and woken(w, TJ)
    run(scenario())


@pytest.mark.parametrize(("change", "wakes"), [
    ({"message": "still running"}, False),
    ({"correlationId": "abc-g1", "submissionId": "sid"}, False),
    ({"phase": "Ready"}, True),
    ({"datasetUri": "file:///v4"}, True),
])
def test_only_what_dependants_read_wakes_them(change: dict[str, Any], wakes: bool) -> None:
    async def scenario() -> None:
        w = await fresh(TJ)
        start = {"phase": "Progressing", "message": "running",
                 "conditions": [{"type": "Ready", "status": "False"}]}
        w.observe(body(DP, 1, start))
        w.depend(TJ, [DP], since=w.begin(TJ))
        w.observe(body(DP, 1, {**start, **change}))
        assert woken(w, TJ) == wakes
    run(scenario())


def test_ready_condition_flip_wakes_dependants() -> None:
    before = body(DP, 1, {"conditions": [{"type": "Ready", "status": "False", "message": "a"}]})
    after = body(DP, 1, ready_status())
    after["status"].pop("phase"), after["status"].pop("message"), after["status"].pop("observedGeneration")
    assert readiness_view(before) != readiness_view(after)
    same = body(DP, 1, {"conditions": [{"type": "Ready", "status": "False", "message": "b"}]})
    assert readiness_view(before) == readiness_view(same)


def test_deletion_wakes_dependants_and_a_recreated_dependency_wakes_them_again() -> None:
    async def scenario() -> None:
        w = await fresh(MD)
        w.observe(body(TJ, 1))
        w.depend(MD, [TJ], since=w.begin(MD))
        w.observe(body(TJ, 1), deleted=True)
        assert woken(w, MD)
        w.begin(MD)
        w.observe(body(TJ, 1), deleted=True)  # a repeated DELETED changes nothing
        assert not woken(w, MD)
        w.observe(body(TJ, 1))
        assert woken(w, MD)
    run(scenario())


def test_a_change_before_depend_is_caught_by_the_counter() -> None:
    async def scenario() -> None:
        w = await fresh(MD)
        since = w.begin(MD)
        w.observe(body(TJ, 1, ready_status()))  # lands while MD is reconciling, before depend()
        w.depend(MD, [TJ], since=since)
        assert woken(w, MD)
        since = w.begin(MD)
        w.depend(MD, [TJ], since=since)
        assert not woken(w, MD)
    run(scenario())


def test_depend_replaces_the_previous_dependencies() -> None:
    async def scenario() -> None:
        w = await fresh(MD)
        w.depend(MD, [TJ, Ref("TrainingJob", "ns", "fast")], since=0)
        assert w.dependants(TJ) == {MD}
        w.depend(MD, [Ref("TrainingJob", "ns", "fast")], since=w.counter)
        assert w.dependants(TJ) == frozenset()
        w.unregister(MD)
        assert w.dependants(Ref("TrainingJob", "ns", "fast")) == frozenset()
        w.observe(body(TJ, 3))  # nobody is registered: nothing to wake, nothing fails
        w.wake(MD)
    run(scenario())


def test_sleep_ends_on_wake_on_stop_or_on_deadline() -> None:
    async def scenario() -> None:
        w = await fresh(MD)
        stop = Flag()
        sleeper = asyncio.create_task(w.sleep(MD, None, stop))
        while MD not in w.sleeping():
            await asyncio.sleep(0)
        assert w.sleeping() == {MD: None}
        w.wake(MD)
        assert await sleeper is True and w.sleeping() == {}
        assert await w.sleep(MD, None, stop) is True  # a pending wake-up returns at once
        w.begin(MD)
        assert await w.sleep(MD, 0.01, stop) is False  # deadline
        sleeper = asyncio.create_task(w.sleep(MD, None, stop))
        while MD not in w.sleeping():
            await asyncio.sleep(0)
        stop.set()
        assert await sleeper is False
        assert await w.sleep(MD, None, stop) is False  # stopped already
        with pytest.raises(KeyError, match="not registered"):
            await w.sleep(DP, None, stop)
    run(scenario())


def test_until_unregistered_waits_for_the_loop_to_end() -> None:
    async def scenario() -> None:
        w = await fresh(MD)
        assert await w.until_unregistered(DP, 0.01)  # no loop at all
        assert not await w.until_unregistered(MD, 0.01)  # a loop that does not end
        waiter = asyncio.create_task(w.until_unregistered(MD, 5))
        await asyncio.sleep(0)
        w.unregister(MD)
        assert await waiter and not w.registered(MD)
    run(scenario())
