"""The operator's real kopf wiring against the real API server, with an in-memory engine.

kopf runs in this process (a thread with its own event loop) on the session's kube-apiserver,
with every handler the operator registers; only the engine is the fake one
(tests/support/fake_engine.py), so the test decides when a job runs, finishes or fails and
needs no Ray. What is real: watches, the status subresource and its schema, finalizers,
Kubernetes events, kopf's daemons and the wake-ups they sleep on, an operator restart.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import kopf
import pytest
from kubernetes.config import kube_config

from mlta.config import load_settings
from mlta.errors import BackendError
from mlta.local.controlplane import ControlPlane
from mlta_operator import (
    handlers,  # noqa: F401  (registers the handlers with kopf)
    kube,
)
from mlta_operator.backends.base import JobState, ServeState
from mlta_operator.kube import KubeCluster
from mlta_operator.loop import Context
from mlta_operator.naming import serve_app_name
from tests.e2e.conftest import kubectl
from tests.support.fake_engine import FakeEngine
from tests.support.ray_cluster import wait_for

NS = "core"
DATASET = {"datasetUri": "file:///lake/gold/prices/v1", "datasetVersion": "v1", "rows": 500,
           "featureCount": 20}


class InProcessOperator:
    """kopf's operator in a thread: start, stop (gracefully, as on SIGTERM), start again."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.thread: threading.Thread | None = None
        self.stop_flag = threading.Event()
        self.errors: list[BaseException] = []

    def start(self) -> None:
        ready = threading.Event()
        self.stop_flag = threading.Event()
        memo = kopf.Memo(context=self.ctx)

        def run() -> None:
            try:
                asyncio.run(kopf.operator(
                    registry=kopf.get_default_registry(), standalone=True, clusterwide=False,
                    namespaces=[NS], memo=memo, stop_flag=self.stop_flag, ready_flag=ready))
            except BaseException as exc:  # noqa: BLE001  (re-raised in the test thread)
                self.errors.append(exc)
                ready.set()

        self.thread = threading.Thread(target=run, name="kopf-in-process", daemon=True)
        self.thread.start()
        assert ready.wait(60), "kopf did not get ready within 60 s"
        assert not self.errors, self.errors

    def stop(self) -> None:
        if self.thread is None:
            return
        self.stop_flag.set()
        self.thread.join(90)
        assert not self.thread.is_alive(), "kopf did not stop within 90 s"
        self.thread = None


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane) -> Iterator[InProcessOperator]:
    kubectl(control_plane, "create", "namespace", NS)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUBECONFIG", str(control_plane.kubeconfig))
        # kopf logs in through the client library, which read KUBECONFIG when first imported.
        env.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(control_plane.kubeconfig))
        kube.api_client.cache_clear()
        settings = load_settings(env="testing", environ={
            "MLTA_OPERATOR__POLL_INTERVAL_SECONDS": "0.2", "MLTA_OPERATOR__POLL_MAX_INTERVAL_SECONDS": "1",
            "MLTA_OPERATOR__RETRY_DELAY_SECONDS": "0.5", "MLTA_STORAGE__URI": "file:///lake"})
        op = InProcessOperator(Context(settings=settings, engine=FakeEngine(), cluster=KubeCluster()))
        op.start()
        try:
            yield op
        finally:
            op.stop()
            kube.api_client.cache_clear()


@pytest.fixture
def engine(operator: InProcessOperator) -> FakeEngine:
    engine = operator.ctx.engine
    assert isinstance(engine, FakeEngine)
    return engine


def apply(cp: ControlPlane, manifest: str) -> None:
    kubectl(cp, "-n", NS, "apply", "-f", "-", stdin=manifest)


def get(cp: ControlPlane, kind: str, name: str) -> dict[str, Any] | None:
    res = kubectl(cp, "-n", NS, "get", kind, name, "-o", "json", check=False)
    return json.loads(res.stdout) if res.returncode == 0 else None


def status(cp: ControlPlane, kind: str, name: str) -> dict[str, Any]:
    obj = get(cp, kind, name)
    return dict((obj or {}).get("status") or {})


def ready_reason(cp: ControlPlane, kind: str, name: str) -> str | None:
    conds = status(cp, kind, name).get("conditions") or []
    return next((c["reason"] for c in conds if c["type"] == "Ready"), None)


def submitted(cp: ControlPlane, engine: FakeEngine, name: str, after: str | None = None) -> str:
    """The DataPipeline's recorded submission id, once the engine has it (recorded first)."""
    def sid() -> str | None:
        recorded = status(cp, "dp", name).get("submissionId")
        return recorded if recorded in engine.jobs and recorded != after else None
    return str(wait_for(sid, timeout=30, what=f"dp/{name} submitted"))


def job_of(engine: FakeEngine, name: str) -> str:
    ids = [sid for sid, job in engine.jobs.items() if job.envelope.resource.name == name]
    assert len(ids) == 1, ids
    return ids[0]


def pipeline(name: str, symbol: str = "BTCUSDT") -> str:
    return f"""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {{name: {name}}}
spec: {{source: {{type: sample, symbols: [{symbol}]}}}}
"""


def training(name: str, dp: str) -> str:
    return f"""
apiVersion: mlta.io/v1alpha1
kind: TrainingJob
metadata: {{name: {name}}}
spec: {{dataPipeline: {dp}, model: {{type: lightgbm, numBoostRound: 10}}}}
"""


@pytest.mark.e2e
def test_the_chain_runs_on_watch_events(control_plane: ControlPlane, engine: FakeEngine) -> None:
    """TrainingJobs and a deployment applied first wait; the pipeline finishing wakes them."""
    apply(control_plane, training("deep", "prices") + "---" + training("fast", "prices") + """---
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: ab}
spec: {variants: [{name: champion, trainingJob: deep, weight: 80},
                  {name: challenger, trainingJob: fast, weight: 20}]}
""")
    for kind, name in (("tj", "deep"), ("tj", "fast"), ("md", "ab")):
        wait_for(lambda k=kind, n=name: ready_reason(control_plane, k, n) == "WaitingForDependency",
                 timeout=60, what=f"{kind}/{name} waiting")
    apply(control_plane, pipeline("prices"))
    sid = submitted(control_plane, engine, "prices")
    engine.set_job(sid, JobState.SUCCEEDED, outputs=DATASET)
    wait_for(lambda: status(control_plane, "dp", "prices").get("phase") == "Ready", timeout=30,
             what="the pipeline Ready")
    assert status(control_plane, "dp", "prices")["datasetUri"] == DATASET["datasetUri"]
    for name in ("deep", "fast"):
        wait_for(lambda n=name: any(j.envelope.resource.name == n for j in engine.jobs.values()),
                 timeout=30, what=f"{name} submitted")
        engine.set_job(job_of(engine, name), JobState.SUCCEEDED, outputs={
            "modelName": name, "modelVersion": "v1", "modelUri": f"file:///lake/models/{name}/v1",
            "datasetVersion": "v1", "metrics": {"score": 0.6}})
    app = serve_app_name(NS, "ab")
    wait_for(lambda: app in engine.apps, timeout=30, what="the Serve app applied")
    engine.set_app(app, ServeState.RUNNING)
    wait_for(lambda: status(control_plane, "md", "ab").get("phase") == "Ready", timeout=30,
             what="the deployment Ready")
    st = status(control_plane, "md", "ab")
    assert st["split"] == "champion=80,challenger=20" and st["observedGeneration"] == 1
    assert [v["modelVersion"] for v in st["variants"]] == ["v1", "v1"]
    mine = [op for op, target in engine.calls if op == "submit_job"
            and engine.jobs[target].envelope.resource.name in ("prices", "deep", "fast")]
    assert len(mine) == 3  # each submitted once (the module's other tests share the engine)


@pytest.mark.e2e
def test_engine_outage_is_retried_and_shown_as_an_event(control_plane: ControlPlane,
                                                        engine: FakeEngine) -> None:
    engine.fail_next("submit_job", BackendError("Ray dashboard at http://ray:8265 unreachable"))
    apply(control_plane, pipeline("outage", "ETHUSDT"))
    submitted(control_plane, engine, "outage")  # after the retry

    def warned() -> list[dict[str, Any]]:
        events = json.loads(kubectl(control_plane, "-n", NS, "get", "events", "-o", "json",
                                    "--field-selector", "involvedObject.name=outage").stdout)["items"]
        return [e for e in events if e["reason"] == "BackendUnavailable"]

    event = wait_for(warned, timeout=30, what="a BackendUnavailable event")[0]
    assert event["type"] == "Warning" and "unreachable" in event["message"]
    assert len([j for j in engine.jobs.values() if j.envelope.resource.name == "outage"]) == 1


@pytest.mark.e2e
def test_spec_edit_resubmits_and_deletion_stops_the_job(control_plane: ControlPlane,
                                                       engine: FakeEngine) -> None:
    apply(control_plane, pipeline("edited", "SOLUSDT"))
    first = submitted(control_plane, engine, "edited")
    engine.set_job(first, JobState.RUNNING)
    obj = get(control_plane, "dp", "edited")
    assert obj is not None and obj["metadata"].get("finalizers"), "the operator holds a finalizer"
    apply(control_plane, pipeline("edited", "XRPUSDT"))
    second = submitted(control_plane, engine, "edited", after=first)
    assert "-g2-" in str(second) and engine.jobs[first].state == JobState.STOPPED
    kubectl(control_plane, "-n", NS, "delete", "dp", "edited", "--wait=true", "--timeout=60s")
    assert get(control_plane, "dp", "edited") is None
    assert engine.jobs[str(second)].state == JobState.STOPPED


@pytest.mark.e2e
def test_a_restarted_operator_converges_without_resubmitting(
    control_plane: ControlPlane, operator: InProcessOperator, engine: FakeEngine
) -> None:
    apply(control_plane, pipeline("restarted", "ADAUSDT"))
    sid = submitted(control_plane, engine, "restarted")
    operator.stop()
    engine.set_job(sid, JobState.SUCCEEDED, outputs=DATASET)  # finished while nobody watched
    operator.start()
    wait_for(lambda: status(control_plane, "dp", "restarted").get("phase") == "Ready", timeout=60,
             what="Ready after the restart")
    assert [j for j in engine.jobs if engine.jobs[j].envelope.resource.name == "restarted"] == [sid]
    assert engine.calls.count(("submit_job", sid)) == 1
