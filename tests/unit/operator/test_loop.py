"""The per-CR loop with the real wake-ups, on a fake cluster and engine (see harness.py).

What is proven here: a waiting CR sleeps with no deadline and is woken by its dependency's
change (also one that lands in the middle of its reconcile); running jobs are polled with
backoff that starts over on every change; spec changes wake finished CRs; engine faults are
retried and reported; a stale view of the CR never submits twice; deletion stops the loop
before the finalizer cleans up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.unit.operator.harness import LoopHarness
from tests.unit.operator.world import DATASET, DP_SPEC, MD_SPEC, TJ_SPEC, World, fast_settings, ready_status

from mlta.errors import BackendError, SpecError
from mlta_operator import metrics
from mlta_operator.backends.base import JobState, ServeState
from mlta_operator.handlers import trainingjob
from mlta_operator.kube import Ref
from mlta_operator.loop import Backoff, StatusWriter
from mlta_operator.naming import serve_app_name

FAST = {"poll_interval_seconds": 0.02, "poll_max_interval_seconds": 0.08, "retry_delay_seconds": 0.02}


def run(scenario: Callable[[World], Awaitable[None]]) -> World:
    world = World(fast_settings(**FAST))
    asyncio.run(asyncio.wait_for(scenario(world), 60))
    return world


def test_waiting_deployment_costs_nothing_until_its_jobs_are_trained() -> None:
    async def scenario(w: World) -> None:
        md = w.add("ModelDeployment", "ab", MD_SPEC)
        async with LoopHarness(w, kinds=frozenset({"ModelDeployment"})) as op:
            await op.until(lambda: op.reason(md) == "WaitingForDependency", "the deployment waiting")
            await op.settled(md)
            reads = w.cluster.count("get")
            w.trained("deep")  # wakes it; it now waits for "fast"
            await op.until(lambda: w.cluster.count("get") > reads, "a reconcile after the change")
            await op.settled(md)
            assert "TrainingJob default/fast does not exist" in w.status(md)["message"]
            w.trained("fast")
            await op.until(lambda: op.reason(md) == "Deploying", "the deployment applied")
            w.engine.set_app(serve_app_name("default", "ab"), ServeState.RUNNING)
            await op.until(lambda: op.phase(md) == "Ready", "the deployment Ready")
            # Every reconcile while it waited was caused by a change: its start and at most one
            # per dependency event (deep created, deep trained, fast created); never a timer.
            waits = [d for d in op.wakeups.deadlines[md] if d is None]
            assert 2 <= len(waits) <= 4, op.wakeups.deadlines[md]
    run(scenario)


def test_the_demo_chain_runs_on_events_alone() -> None:
    """DataPipeline -> two TrainingJobs -> ModelDeployment, every CR with its own loop."""
    async def scenario(w: World) -> None:
        md = w.add("ModelDeployment", "ab", MD_SPEC)
        jobs = [w.add("TrainingJob", name, TJ_SPEC) for name in ("deep", "fast")]
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            sid = await op.submitted(dp)
            await op.settled(md, *jobs)
            w.engine.set_job(sid, JobState.SUCCEEDED, outputs=DATASET)
            for tj in jobs:
                w.engine.set_job(await op.submitted(tj), JobState.SUCCEEDED, outputs={
                    "modelUri": f"file:///m/{tj.name}/v1", "modelVersion": "v1", "modelName": tj.name})
            await op.until(lambda: op.reason(md) == "Deploying", "the deployment applied")
            w.engine.set_app(serve_app_name("default", "ab"), ServeState.RUNNING)
            await op.until(lambda: op.phase(md) == "Ready", "the deployment Ready")
            await op.settled(dp, *jobs)
            assert [op.phase(r) for r in (dp, *jobs)] == ["Ready", "Ready", "Ready"]
            assert w.engine.count("submit_job") == 3
    run(scenario)


def test_a_change_during_a_reconcile_is_not_lost() -> None:
    async def scenario(w: World) -> None:
        w.trained("deep")
        md = w.add("ModelDeployment", "ab", MD_SPEC)

        def fast_appears_while_read(kind: str, namespace: str, name: str) -> None:
            if name == "fast" and ("TrainingJob", namespace, name) not in w.cluster.objects:
                w.cluster.on_get = None
                w.trained("fast")  # lands after the read started, before it answers "missing"

        w.cluster.on_get = fast_appears_while_read
        async with LoopHarness(w, kinds=frozenset({"ModelDeployment"})) as op:
            await op.until(lambda: op.reason(md) == "Deploying", "the deployment applied")
    run(scenario)


def test_waiting_training_job_wakes_when_its_pipeline_is_ready() -> None:
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        tj = w.add("TrainingJob", "deep", TJ_SPEC)
        async with LoopHarness(w) as op:
            sid = await op.submitted(dp)
            await op.until(lambda: op.asleep_without_deadline(tj), "the training job waiting")
            w.engine.set_job(sid, JobState.SUCCEEDED, outputs=DATASET)
            await op.until(lambda: op.phase(dp) == "Ready", "the pipeline Ready")
            envelope = w.engine.jobs[await op.submitted(tj)].envelope
            assert envelope.inputs["datasetUri"] == DATASET["datasetUri"]
    run(scenario)


def test_running_jobs_are_polled_with_backoff_that_restarts_on_change() -> None:
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            await op.until(lambda: len(op.wakeups.deadlines.get(dp, [])) >= 5, "five polls")
            # Submitted, then JobPending (a change: starts over), then doubling to the cap.
            assert op.wakeups.deadlines[dp][:5] == [0.02, 0.02, 0.04, 0.08, 0.08]
            polls = len(op.wakeups.deadlines[dp])
            w.engine.set_job(w.job_of(dp), JobState.RUNNING)
            await op.until(lambda: op.reason(dp) == "JobRunning", "the job running")
            await op.until(lambda: len(op.wakeups.deadlines[dp]) >= polls + 3, "three more polls")
            after = op.wakeups.deadlines[dp][polls:]
            assert 0.02 in after[:2], after  # the status changed: the backoff started over
            w.engine.set_job(w.job_of(dp), JobState.SUCCEEDED, outputs=DATASET)
            await op.until(lambda: op.phase(dp) == "Ready", "the pipeline Ready")
            await op.settled(dp)
            assert w.engine.count("submit_job") == 1
    run(scenario)


def test_a_spec_change_wakes_a_finished_job_and_resubmits() -> None:
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            first = await op.submitted(dp)
            w.engine.set_job(first, JobState.FAILED, reason="DataError", message="gap too large")
            await op.until(lambda: op.phase(dp) == "Failed", "the pipeline Failed")
            await op.settled(dp)
            w.cluster.update_spec("DataPipeline", "prices", {**DP_SPEC, "quality": {"policy": "repair"}})
            await op.until(lambda: w.status(dp).get("submissionId") not in (None, first), "resubmission")
            assert "-g2-" in w.job_of(dp) and op.phase(dp) == "Progressing"
    run(scenario)


def test_engine_outage_is_retried_and_reported() -> None:
    async def scenario(w: World) -> None:
        w.engine.fail_next("submit_job", BackendError("Ray dashboard unreachable"), times=2)
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            await op.until(lambda: op.reason(dp) == "Submitted", "the pipeline submitted")
            assert [e[1] for e in op.events] == ["BackendUnavailable", "BackendUnavailable"]
            assert "retrying in 0.02s" in op.events[0][2]
            assert op.wakeups.deadlines[dp][:2] == [0.02, 0.02]
            assert len(w.engine.jobs) == 1
    run(scenario)


def test_a_permanent_error_waits_for_a_change() -> None:
    async def scenario(w: World) -> None:
        w.engine.fail_next("submit_job", SpecError("the engine refused the envelope", hint="fix it"))
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            await op.until(lambda: op.events, "an event posted")
            await op.settled(dp)
            assert op.events[0][1] == "InvalidSpec" and "fix it" in op.events[0][2]
            assert w.engine.jobs == {}
            w.cluster.update_spec("DataPipeline", "prices", {**DP_SPEC, "quality": {"policy": "warn"}})
            await op.until(lambda: len(w.engine.jobs) == 1, "submitted after the change")
    run(scenario)


def test_an_invalid_spec_is_marked_and_left_alone() -> None:
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", {"source": {"type": "carrier-pigeon"}})
        async with LoopHarness(w) as op:
            await op.until(lambda: op.phase(dp) == "Failed", "the pipeline Failed")
            await op.settled(dp)
            assert op.reason(dp) == "InvalidSpec" and w.engine.calls == []
    run(scenario)


def test_a_stale_view_of_the_cr_never_submits_twice() -> None:
    """The watch lags behind our own writes: the loop must trust what it wrote."""
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        async with LoopHarness(w) as op:
            op.held.add(dp)  # the CR's own events are held back: its view keeps the empty status
            await op.until(lambda: len(op.wakeups.deadlines.get(dp, [])) >= 4, "four polls")
            assert w.engine.count("submit_job") == 1 and w.engine.count("job_status") >= 3
            op.release(dp)
            w.engine.set_job(w.job_of(dp), JobState.SUCCEEDED, outputs=DATASET)
            await op.until(lambda: op.phase(dp) == "Ready", "the pipeline Ready")
            assert w.engine.count("submit_job") == 1
    run(scenario)


def test_deletion_stops_the_loop_before_the_finalizer_stops_the_job() -> None:
    async def scenario(w: World) -> None:
        dp = w.add("DataPipeline", "prices", DP_SPEC)
        w.cluster.objects[tuple(dp)]["metadata"]["finalizers"] = ["kopf.zalando.org/KopfFinalizerMarker"]  # type: ignore[index]
        tj = w.add("TrainingJob", "deep", TJ_SPEC)
        async with LoopHarness(w) as op:
            sid = await op.submitted(dp)
            w.cluster.delete("DataPipeline", "prices")
            assert await w.ctx.wakeups.until_unregistered(dp, timeout=5)
            assert not w.ctx.wakeups.registered(dp)
            await asyncio.to_thread(trainingjob.stop_job, w.body(dp), w.ctx)  # the on.delete body
            assert w.engine.jobs[sid].state == JobState.STOPPED
            reads = w.cluster.count("get", "DataPipeline")
            w.cluster.remove_finalizer("DataPipeline", "prices", "kopf.zalando.org/KopfFinalizerMarker")
            await op.until(lambda: w.cluster.count("get", "DataPipeline") > reads,
                           "the training job woken by the deletion")
            await op.settled(tj)
            assert "does not exist" in w.status(tj)["message"]
    run(scenario)


def test_the_followed_gauge_counts_running_loops() -> None:
    def followed() -> float:
        return metrics.FOLLOWED.labels("DataPipeline")._value.get()  # type: ignore[no-any-return]

    before = followed()

    async def scenario(w: World) -> None:
        w.add("DataPipeline", "a", DP_SPEC)
        w.add("DataPipeline", "b", DP_SPEC)
        async with LoopHarness(w) as op:
            await op.until(lambda: followed() == before + 2, "two loops counted")
    run(scenario)
    assert followed() == before


def test_backoff_doubles_to_its_cap_and_restarts() -> None:
    b = Backoff(1, 5)
    assert [b.next() for _ in range(5)] == [1, 2, 4, 5, 5]
    b.reset()
    assert b.next() == 1
    assert Backoff(3, 1).cap == 3  # a cap below the first delay is the first delay


def test_status_writer_prefers_its_own_write_until_the_watch_catches_up() -> None:
    w = World()
    ref = w.add("DataPipeline", "prices", DP_SPEC)
    writer = StatusWriter(w.cluster, ref)
    live = w.body(ref)
    assert writer.fresh(live) is live
    writer.write({"phase": "Progressing"})
    seen = writer.fresh(live)                                   # the view is older than our write
    assert seen["status"] == {"phase": "Progressing"} and seen["metadata"] == live["metadata"]
    w.cluster.update_spec("DataPipeline", "prices", {**DP_SPEC, "quality": {"policy": "warn"}})
    writer.write({"message": "m"})
    edited = {**live, "metadata": {**live["metadata"], "generation": 2}}  # an event from between
    seen = writer.fresh(edited)
    assert seen["metadata"]["generation"] == 2 and seen["status"] == {"phase": "Progressing", "message": "m"}
    newer = w.body(ref)
    assert writer.fresh(newer) is newer and writer.latest is None  # caught up


@pytest.mark.parametrize("status", [ready_status(), {}])
def test_stop_job_finalizer_handles_bodies_with_and_without_a_job(status: dict[str, Any]) -> None:
    w = World()
    w.add("DataPipeline", "prices", DP_SPEC)
    w.cluster.set_status("DataPipeline", "prices", {**status, "submissionId": "sid-1"} if status else {})
    trainingjob.stop_job(w.body(Ref("DataPipeline", "default", "prices")), w.ctx)
    assert w.engine.calls == ([("stop_job", "sid-1")] if status else [])
