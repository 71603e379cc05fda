"""The kuberay backend against the real API server with KubeRay's real CRDs.

No KubeRay controller runs here, so the test plays its part: it writes the RayJob/RayService
status the way KubeRay does (status subresource) and checks how the backend reads it. What the
API server validates is real: our manifests must pass KubeRay's own schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mlta.config import load_settings
from mlta.local.controlplane import ControlPlane
from mlta.specs.jobs import JobEnvelope, ResourceRef
from mlta_operator import kube
from mlta_operator.backends.base import JobState, ServeState
from mlta_operator.backends.kuberay import KubeRayBackend
from mlta_operator.builders.jobs import kube_name
from tests.e2e.conftest import kubectl

NS = "kuberay-test"
OWNER: dict[str, Any] = {
    "apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline",
    "metadata": {"name": "owner", "namespace": NS, "uid": "6f1c1a5e-0000-4000-8000-000000000001",
                 "generation": 1},
    "spec": {"source": {"type": "sample", "symbols": ["BTCUSDT"]}},
}


@pytest.fixture(scope="module")
def backend(control_plane: ControlPlane) -> Iterator[KubeRayBackend]:
    kubectl(control_plane, "create", "namespace", NS)
    with pytest.MonkeyPatch.context() as env:  # restored afterwards: no test inherits it
        env.setenv("KUBECONFIG", str(control_plane.kubeconfig))
        kube.api_client.cache_clear()
        settings = load_settings(env="testing", environ={"MLTA_OPERATOR__BACKEND": "kuberay"})
        try:
            yield KubeRayBackend(settings)
        finally:
            kube.api_client.cache_clear()


def _set_status(cp: ControlPlane, plural: str, name: str, status: dict[str, Any]) -> None:
    kube.custom_objects().patch_namespaced_custom_object_status(
        "ray.io", "v1", NS, plural, name, {"status": status})


@pytest.mark.e2e
def test_rayjob_is_accepted_owned_and_read_back(control_plane: ControlPlane, backend: KubeRayBackend) -> None:
    sid = "mlta-dp-kuberay-test-owner-g1-0123abcd-with-a-long-tail"
    envelope = JobEnvelope(resource=ResourceRef(kind="DataPipeline", namespace=NS, name="owner",
                                                uid=OWNER["metadata"]["uid"], generation=1),
                           spec=OWNER["spec"], storage_uri="s3://lake/x", correlation_id="cid",
                           submission_id=sid)
    backend.submit_job(envelope, OWNER)
    backend.submit_job(envelope, OWNER)  # idempotent: 409 is "already there"
    name = kube_name(sid)
    obj = json.loads(kubectl(control_plane, "-n", NS, "get", "rayjob", name, "-o", "json").stdout)
    assert obj["metadata"]["ownerReferences"][0]["uid"] == OWNER["metadata"]["uid"]
    assert obj["spec"]["jobId"] == sid and obj["spec"]["entrypoint"] == "python -m mlta.jobs.run"
    assert backend.job_status(sid, NS).state == JobState.PENDING

    _set_status(control_plane, "rayjobs", name, {"jobStatus": "RUNNING", "jobDeploymentStatus": "Running"})
    assert backend.job_status(sid, NS).state == JobState.RUNNING
    _set_status(control_plane, "rayjobs", name, {"jobStatus": "FAILED", "jobDeploymentStatus": "Failed",
                                                 "message": "driver exited with 1"})
    status = backend.job_status(sid, NS)
    assert status.state == JobState.FAILED and "driver exited" in status.message

    backend.stop_job(sid, NS)
    assert backend.job_status(sid, NS).state == JobState.MISSING
    backend.stop_job(sid, NS)  # unknown ids are fine


@pytest.mark.e2e
def test_rayservice_apply_update_status_delete(control_plane: ControlPlane, backend: KubeRayBackend) -> None:
    body = {"metadata": {"name": "ab", "namespace": NS, "uid": "6f1c1a5e-0000-4000-8000-000000000002"}}
    app = {"name": "mlta-kuberay-test-ab", "route_prefix": "/mlta/kuberay-test/ab",
           "import_path": "mlta.serving.app:build_app",
           "args": {"appName": "mlta-kuberay-test-ab", "variants": []}}
    backend.apply_serve_app(app, body)
    assert backend.serve_status(app["name"], NS).state == ServeState.DEPLOYING
    app["args"]["stickyKey"] = False
    backend.apply_serve_app(app, body)  # changed config -> patched in place
    obj = json.loads(kubectl(control_plane, "-n", NS, "get", "rayservice", app["name"], "-o", "json").stdout)
    assert "stickyKey: false" in obj["spec"]["serveConfigV2"]
    generation = obj["metadata"]["generation"]
    # KubeRay has not acted on the patched generation yet: the new config is not live.
    _set_status(control_plane, "rayservices", app["name"], {"observedGeneration": generation - 1})
    status = backend.serve_status(app["name"], NS)
    assert status.state == ServeState.DEPLOYING and f"generation {generation}" in status.message

    # No application reported yet and the pending cluster's head cannot be scheduled: the
    # status says why (the scheduler's own words), not just "deploying".
    kubectl(control_plane, "-n", NS, "run", "ab-pending-head", "--image=mlta/ray:0.1.0",
            "--restart=Never", "--labels=ray.io/cluster=ab-pending")
    kubectl(control_plane, "-n", NS, "patch", "pod", "ab-pending-head", "--subresource=status",
            "--type=merge", "-p", json.dumps({"status": {"conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu."}]}}))
    _set_status(control_plane, "rayservices", app["name"], {
        "observedGeneration": generation, "pendingServiceStatus": {"rayClusterName": "ab-pending"}})
    status = backend.serve_status(app["name"], NS)
    assert status.state == ServeState.DEPLOYING and "Insufficient cpu" in status.message
    kubectl(control_plane, "-n", NS, "delete", "pod", "ab-pending-head", "--wait=false")

    def kuberay_reports(app_status: dict[str, Any], ready: str) -> None:
        _set_status(control_plane, "rayservices", app["name"], {
            "observedGeneration": generation,
            "activeServiceStatus": {"applicationStatuses": {app["name"]: app_status}},
            "conditions": [{"type": "Ready", "status": ready, "reason": "NonZeroServeEndpoints",
                            "message": "ok", "lastTransitionTime": "2026-01-01T00:00:00Z"}]})

    kuberay_reports({"status": "SOMETHING_NEW"}, "False")  # a state this code does not know
    assert backend.serve_status(app["name"], NS).state == ServeState.DEPLOYING
    kuberay_reports({"status": "RUNNING"}, "False")  # no serve endpoint yet
    assert backend.serve_status(app["name"], NS).state == ServeState.DEPLOYING
    kuberay_reports({"status": "RUNNING"}, "True")
    assert backend.serve_status(app["name"], NS).state == ServeState.RUNNING
    kuberay_reports({"status": "DEPLOY_FAILED", "message": "ImportError: no module x"}, "True")
    failed = backend.serve_status(app["name"], NS)
    assert failed.state == ServeState.FAILED and "ImportError" in failed.message
    # A KubeRay that reports no application statuses: its Ready condition decides.
    _set_status(control_plane, "rayservices", app["name"], {
        "observedGeneration": generation, "activeServiceStatus": {"applicationStatuses": None},
        "conditions": [{"type": "Ready", "status": "True", "reason": "RayServiceReady", "message": "ok",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
    assert backend.serve_status(app["name"], NS).state == ServeState.RUNNING
    backend.delete_serve_app(app["name"], NS)
    assert backend.serve_status(app["name"], NS).state == ServeState.MISSING
