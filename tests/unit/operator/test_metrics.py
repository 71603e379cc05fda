"""The operator's Prometheus metrics: what a reconcile records, and the real /metrics endpoint."""

from __future__ import annotations

import httpx
import pytest
from tests.support.ray_cluster import free_port
from tests.unit.operator.world import DP_SPEC, RECONCILERS, World

from mlta.errors import BackendError
from mlta_operator import metrics
from mlta_operator.kube import Ref
from mlta_operator.loop import StatusWriter, reconcile_and_write


def sample(metric_name: str, **labels: str) -> float | None:
    for metric in metrics.PHASE.collect() + metrics.RECONCILES.collect():
        for s in metric.samples:
            if s.name == metric_name and s.labels == labels:
                return float(s.value)
    return None


def test_record_phase_sets_one_phase_and_forget_drops_them_all() -> None:
    metrics.record_phase("DataPipeline", "ns", "m1", "Progressing")
    values = {p: sample("mlta_resource_phase", kind="DataPipeline", namespace="ns", name="m1", phase=p)
              for p in metrics.PHASES}
    assert values == {"Pending": 0, "Progressing": 1, "Ready": 0, "Degraded": 0, "Failed": 0}
    metrics.forget("DataPipeline", "ns", "m1")
    metrics.forget("DataPipeline", "ns", "m1")  # twice is fine
    assert sample("mlta_resource_phase", kind="DataPipeline", namespace="ns", name="m1",
                  phase="Progressing") is None


@pytest.mark.parametrize(("fault", "result"), [(None, "ok"), (BackendError("down"), "retry")])
def test_each_reconcile_is_counted_by_result(fault: Exception | None, result: str) -> None:
    w = World()
    ref = w.add("DataPipeline", f"counted-{result}", DP_SPEC)
    if fault is not None:
        w.engine.fail_next("submit_job", fault)
    before = sample("mlta_reconcile_total", kind="DataPipeline", result=result) or 0.0
    writer = StatusWriter(w.cluster, ref)
    try:
        reconcile_and_write(w.body(ref), w.ctx, RECONCILERS["DataPipeline"], writer)
    except BackendError:
        assert fault is not None
    assert sample("mlta_reconcile_total", kind="DataPipeline", result=result) == before + 1
    got = sample("mlta_resource_phase", kind="DataPipeline", namespace="default", name=ref.name,
                 phase="Progressing")
    assert got == (1.0 if fault is None else None)  # a failed reconcile records no phase


def test_reconcile_and_write_reports_whether_status_changed() -> None:
    w = World()
    ref = w.add("DataPipeline", "changes", DP_SPEC)
    writer = StatusWriter(w.cluster, ref)
    _, changed = reconcile_and_write(w.body(ref), w.ctx, RECONCILERS["DataPipeline"], writer)
    assert changed
    body = writer.fresh(w.body(ref))
    _, changed = reconcile_and_write(body, w.ctx, RECONCILERS["DataPipeline"], writer)
    assert changed  # Submitted -> JobPending
    _, changed = reconcile_and_write(writer.fresh(w.body(ref)), w.ctx, RECONCILERS["DataPipeline"], writer)
    assert not changed
    assert w.status(Ref("DataPipeline", "default", "changes"))["phase"] == "Progressing"


def test_metrics_endpoint_serves_the_operator_metrics() -> None:
    assert metrics.serve(0) is None
    port = free_port()
    server = metrics.serve(port, addr="127.0.0.1")
    assert server is not None
    try:
        # what it checks is recorded here: the registry is the process's, and this test may
        # be the first of its worker to touch it
        metrics.RECONCILES.labels("ModelDeployment", "ok").inc()
        metrics.RECONCILE_SECONDS.labels("ModelDeployment").observe(0.02)
        metrics.FOLLOWED.labels("ModelDeployment").inc()
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        metrics.FOLLOWED.labels("ModelDeployment").dec()
        assert 'mlta_reconcile_total{kind="ModelDeployment",result="ok"}' in text
        assert 'mlta_followed_resources{kind="ModelDeployment"}' in text
        assert 'mlta_reconcile_seconds_bucket{kind="ModelDeployment",le="0.025"}' in text
    finally:
        server.shutdown()
        server.server_close()
