"""The kopf wiring: which handlers exist for which kind, and what each one does when kopf calls it.

The registry is kopf's own (importing ``mlta_operator.handlers`` fills it); the handlers are
called the way kopf calls them, with a memo holding a context on the fake cluster and engine.
The same handlers run under real kopf against a real API server in tests/e2e/test_operator_core.py.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import kopf
import pytest
from tests.unit.operator.world import DP_SPEC, MD_SPEC, World, ready_status

from mlta.errors import BackendError, SpecError
from mlta_operator import metrics
from mlta_operator.handlers import common, startup
from mlta_operator.kube import KubeCluster, Ref
from mlta_operator.loop import Context
from mlta_operator.naming import serve_app_name

PLURALS = {"datapipelines": "DataPipeline", "trainingjobs": "TrainingJob",
           "modeldeployments": "ModelDeployment"}


def handlers_of(kind: str) -> dict[str, Any]:
    """The functions kopf will call for ``kind``, by handler id."""
    registry = kopf.get_default_registry()
    found: dict[str, Any] = {}
    for group in (registry._watching, registry._spawning, registry._changing):
        for handler in group.get_all_handlers():
            if handler.selector is not None and handler.selector.any_name == kind:
                found[handler.id] = handler
    return found


@pytest.mark.parametrize("plural", sorted(PLURALS))
def test_every_kind_has_observe_and_delete(plural: str) -> None:
    handlers = handlers_of(plural)
    assert set(handlers) == {"observe", "delete"}
    assert handlers["delete"].requires_finalizer  # kopf holds a finalizer until delete succeeded
    assert handlers["observe"].selector.group == "mlta.io"


def test_no_daemon_or_timer_runs_per_cr() -> None:
    """Each CR's loop is a task of ours (mlta_operator.loops), not a kopf daemon or timer."""
    registry = kopf.get_default_registry()
    assert list(registry._spawning.get_all_handlers()) == []
    cleanups = [h.fn for h in registry._activities.get_all_handlers() if h.activity == "cleanup"]
    assert common.stop_loops in cleanups


def memo_with(world: World) -> kopf.Memo:
    memo = kopf.Memo()
    memo.context = world.ctx
    return memo


def test_context_missing_is_a_temporary_error() -> None:
    with pytest.raises(kopf.TemporaryError):
        common.context(kopf.Memo())


def test_observe_feeds_the_wakeups() -> None:
    async def scenario() -> None:
        w = World()
        observe = handlers_of("datapipelines")["observe"].fn
        md = Ref("TrainingJob", "default", "deep")
        w.ctx.wakeups.register(md)
        w.ctx.wakeups.depend(md, [Ref("DataPipeline", "default", "prices")], since=0)
        body = w.cluster.create("DataPipeline", "prices", DP_SPEC)
        await observe(body=body, type=None, memo=kopf.Memo())  # before start-up: ignored
        assert not w.ctx.wakeups._events[md].is_set()
        await observe(body=body, type="ADDED", memo=memo_with(w))
        assert w.ctx.wakeups._events[md].is_set()
    asyncio.run(scenario())


def test_observe_runs_a_loop_per_cr_until_its_deletion_mark() -> None:
    async def scenario() -> None:
        w = World()
        observe = handlers_of("datapipelines")["observe"].fn
        ref = Ref("DataPipeline", "default", "prices")
        body = w.cluster.create("DataPipeline", "prices", DP_SPEC)
        body["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
        await observe(body=body, type=None, memo=memo_with(w))  # the listing at start-up
        await observe(body=body, type="MODIFIED", memo=memo_with(w))  # a second event: same loop
        assert w.ctx.loops.running() == {ref}
        while "submissionId" not in w.status_of("DataPipeline", "prices"):
            await asyncio.sleep(0.005)
        running = w.ctx.loops._running[ref]
        assert "managedFields" not in running.body["metadata"]  # not kept per CR
        marked = {**body, "metadata": {**body["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
        await observe(body=marked, type="MODIFIED", memo=memo_with(w))
        await asyncio.wait_for(running.task, 5)
        assert not w.ctx.wakeups.registered(ref) and w.ctx.loops.running() == frozenset()
        await observe(body=marked, type="MODIFIED", memo=memo_with(w))  # marked: no new loop
        assert w.ctx.loops.running() == frozenset()
    asyncio.run(scenario())


def test_cleanup_stops_every_loop() -> None:
    async def scenario() -> None:
        w = World()
        observe = handlers_of("datapipelines")["observe"].fn
        for name in ("a", "b"):
            await observe(body=w.cluster.create("DataPipeline", name, DP_SPEC), type=None,
                          memo=memo_with(w))
        assert len(w.ctx.loops.running()) == 2
        await asyncio.wait_for(common.stop_loops(memo=memo_with(w)), 10)
        assert w.ctx.loops.running() == frozenset()
        await common.stop_loops(memo=kopf.Memo())  # before start-up: nothing to stop
    asyncio.run(scenario())


@pytest.mark.parametrize(("plural", "expected"), [
    ("datapipelines", [("stop_job", "sid-7")]),
    ("trainingjobs", [("stop_job", "sid-7")]),
    ("modeldeployments", [("delete_serve_app", serve_app_name("default", "x"))]),
])
def test_delete_cleans_up_after_the_loop_ended(plural: str, expected: list[tuple[str, str]]) -> None:
    async def scenario() -> None:
        w = World()
        delete = handlers_of(plural)["delete"].fn
        body = w.cluster.create(PLURALS[plural], "x", MD_SPEC if plural == "modeldeployments" else DP_SPEC)
        body["status"] = {**ready_status(), "submissionId": "sid-7"}
        metrics.record_phase(PLURALS[plural], "default", "x", "Ready")
        await delete(body=body, memo=memo_with(w))
        assert w.engine.calls == expected
        assert ((PLURALS[plural], "default", "x", "Ready") not in
                {tuple(s.labels.values()) for m in metrics.PHASE.collect() for s in m.samples})
    asyncio.run(scenario())


def test_delete_retries_while_the_loop_is_still_reconciling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "LOOP_EXIT_SECONDS", 0.01)

    async def scenario() -> None:
        w = World()
        body = w.cluster.create("DataPipeline", "x", DP_SPEC)
        w.ctx.wakeups.register(Ref.of(body))  # a loop that does not end
        with pytest.raises(kopf.TemporaryError, match="still running"):
            await handlers_of("datapipelines")["delete"].fn(body=body, memo=memo_with(w))
        assert w.engine.calls == []
    asyncio.run(scenario())


@pytest.mark.parametrize(("error", "raised"), [
    (BackendError("Ray dashboard unreachable"), kopf.TemporaryError),
    (SpecError("nonsense"), kopf.PermanentError),
])
def test_delete_maps_mlta_errors_onto_kopf(error: Exception, raised: type[Exception]) -> None:
    async def scenario() -> None:
        w = World()
        w.engine.fail_next("stop_job", error)
        body = w.cluster.create("DataPipeline", "x", DP_SPEC)
        body["status"] = {"submissionId": "sid"}
        before = metrics.RECONCILES.labels("DataPipeline", "retry")._value.get()
        with pytest.raises(raised) as info:
            await handlers_of("datapipelines")["delete"].fn(body=body, memo=memo_with(w))
        if raised is kopf.TemporaryError:
            assert info.value.delay == w.settings.operator.retry_delay_seconds
            assert metrics.RECONCILES.labels("DataPipeline", "retry")._value.get() == before + 1
    asyncio.run(scenario())


def test_permanent_errors_pass_through_handling() -> None:
    body = {"kind": "DataPipeline", "metadata": {"namespace": "n", "name": "x", "uid": "u"}}
    with pytest.raises(kopf.PermanentError, match="as is"), common.handling(kopf.Memo(), body):
        raise kopf.PermanentError("as is")


def test_startup_keeps_an_injected_context_and_configures_kopf() -> None:
    w = World()
    memo = memo_with(w)
    settings = kopf.OperatorSettings()
    startup.configure(settings=settings, memo=memo)
    assert memo.context is w.ctx
    assert isinstance(settings.persistence.progress_storage, kopf.AnnotationsProgressStorage)
    assert settings.execution.max_workers == 8


def test_startup_builds_the_context_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTA_ENV", "testing")
    monkeypatch.setenv("MLTA_OPERATOR__METRICS_PORT", "0")
    monkeypatch.setenv("MLTA_RAY__DASHBOARD_URL", "http://127.0.0.1:1")
    memo = kopf.Memo()
    startup.configure(settings=kopf.OperatorSettings(), memo=memo)
    ctx = memo.context
    assert isinstance(ctx, Context) and isinstance(ctx.cluster, KubeCluster)
    assert ctx.engine.name == "ray" and ctx.settings.env == "testing"


def test_a_loop_runs_with_only_kopfs_posting_variables_of_the_handlers_context() -> None:
    """kopf's handler context holds the event's whole cause; a loop must not keep it alive."""
    from kopf._core.engines import posting

    cause = contextvars.ContextVar[str]("cause")

    async def scenario() -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        settings = kopf.OperatorSettings()
        cause.set("the full body of the event, managedFields and all")
        posting.event_queue_var.set(queue)
        posting.event_queue_loop_var.set(asyncio.get_running_loop())
        posting.settings_var.set(settings)
        clean = common.posting_context()
        assert dict(clean) == {posting.event_queue_var: queue, posting.settings_var: settings,
                               posting.event_queue_loop_var: asyncio.get_running_loop()}
        assert cause not in clean
        body = World().cluster.create("DataPipeline", "x", DP_SPEC)
        clean.run(common.post_warning, body, "BackendUnavailable", "Ray is down")  # kopf.warn works
        assert queue.get_nowait().reason == "BackendUnavailable"
    asyncio.run(scenario())
    assert dict(contextvars.Context().run(common.posting_context)) == {}  # outside kopf: empty
