from __future__ import annotations

from typing import Any

import pytest
import yaml

from mlta.config import Backend, load_settings
from mlta.specs import ModelDeploymentSpec
from mlta.specs.jobs import ENVELOPE_ENV, JobEnvelope
from mlta.specs.serving import ServeAppArgs, ServeUserConfig
from mlta_operator import naming
from mlta_operator.builders import jobs, serve

BODY: dict[str, Any] = {
    "apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline",
    "metadata": {"name": "crypto", "namespace": "research", "uid": "1234abcd-0000", "generation": 2},
    "spec": {"source": {"type": "sample", "symbols": ["BTCUSDT"]}},
}


@pytest.fixture
def settings():
    return load_settings(env="testing", environ={})


def test_submission_id_is_deterministic_and_generation_specific() -> None:
    a = naming.submission_id("DataPipeline", "ns", "name", "uid", 1)
    assert a == naming.submission_id("DataPipeline", "ns", "name", "uid", 1)
    assert a != naming.submission_id("DataPipeline", "ns", "name", "uid", 2)
    assert a != naming.submission_id("DataPipeline", "ns", "name", "other-uid", 1)
    long = naming.submission_id("TrainingJob", "n" * 60, "x" * 80, "u", 1)
    assert len(long) < 100 and long.startswith("mlta-tj-")


def test_ray_job_submission_carries_envelope_and_correlation(settings) -> None:
    env = jobs.build_envelope(kind="DataPipeline", body=BODY, settings=settings,
                              submission_id="sid-1", correlation_id="cid-1")
    req = jobs.ray_job_submission(env, settings)
    assert req["submission_id"] == "sid-1"
    assert req["entrypoint"] == "python -m mlta.jobs.run"
    env_vars = req["runtime_env"]["env_vars"]
    assert env_vars["MLTA_CORRELATION_ID"] == "cid-1"
    decoded = JobEnvelope.decode(env_vars[ENVELOPE_ENV])
    assert decoded.spec == BODY["spec"] and decoded.resource.generation == 2
    assert decoded.storage_uri == settings.storage.uri


def test_rayjob_manifest_is_owned_by_the_cr(settings) -> None:
    env = jobs.build_envelope(kind="DataPipeline", body=BODY, settings=settings,
                              submission_id="mlta-dp-" + "x" * 80, correlation_id="c")
    manifest = jobs.rayjob_manifest(env, BODY, settings, "mlta.io/v1alpha1")
    owner = manifest["metadata"]["ownerReferences"][0]
    assert owner == {"apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline", "name": "crypto",
                     "uid": "1234abcd-0000", "controller": True, "blockOwnerDeletion": True}
    assert len(manifest["metadata"]["name"]) <= 47
    assert manifest["spec"]["jobId"] == env.submission_id
    runtime_env = yaml.safe_load(manifest["spec"]["runtimeEnvYAML"])
    assert ENVELOPE_ENV in runtime_env["env_vars"]
    assert manifest["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0][
        "image"] == settings.kuberay.image


def test_serve_application_and_hash(settings) -> None:
    spec = ModelDeploymentSpec.model_validate({"replicas": 2, "variants": [
        {"name": "champion", "trainingJob": "deep", "weight": 80},
        {"name": "challenger", "trainingJob": "fast", "weight": 20}]})
    resolved = {"deep": {"modelUri": "file:///r/deep/v3", "modelVersion": "v3"},
                "fast": {"modelUri": "file:///r/fast/v1", "modelVersion": "v1"}}
    args = serve.serve_args(spec, "ns", "ab", resolved, "cid-1", "file:///lake/s.json")
    app = serve.serve_application(spec, "ns", "ab", args)
    assert app["route_prefix"] == "/mlta/ns/ab"
    assert app["import_path"] == "mlta.serving.app:build_app"
    parsed = ServeAppArgs.model_validate(app["args"])
    assert [(v.name, v.weight, v.model_version) for v in parsed.variants] == [
        ("champion", 80, "v3"), ("challenger", 20, "v1")]
    assert parsed.replicas == 2 and parsed.status_uri == "file:///lake/s.json"
    assert [d["name"] for d in app["deployments"]] == ["service", "hub"]
    single = ModelDeploymentSpec.model_validate({**spec.to_wire(), "replicas": 1})
    one = serve.serve_application(single, "ns", "ab", serve.serve_args(single, "ns", "ab",
                                                                       resolved, "c"))
    assert [d["name"] for d in one["deployments"]] == ["service"]  # the hub lives inside
    assert app["deployments"][0] == {"name": "service", "num_replicas": 2,
                                     "user_config": ServeUserConfig().to_wire()}
    assert app["runtime_env"]["env_vars"]["RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD"] == "0"
    assert serve.split_summary(spec) == "champion=80,challenger=20"
    assert serve.split_summary(spec, {"champion": 0, "challenger": 100}) == \
        "champion=0,challenger=100"
    # The correlation id changes per generation but must not force a redeploy.
    other = serve.serve_application(spec, "ns", "ab", serve.serve_args(spec, "ns", "ab", resolved, "cid-2"))
    assert serve.config_hash(app) != serve.config_hash(other)  # the status URI differs
    same = serve.serve_application(spec, "ns", "ab", serve.serve_args(
        spec, "ns", "ab", resolved, "cid-2", "file:///lake/s.json"))
    assert serve.config_hash(app) == serve.config_hash(same)
    live = serve.serve_application(spec, "ns", "ab", args, ServeUserConfig(weights={"champion": 0}))
    assert serve.config_hash(live) != serve.config_hash(app)  # a weight change reconfigures
    resolved["fast"]["modelVersion"] = "v2"
    changed = serve.serve_application(spec, "ns", "ab", serve.serve_args(spec, "ns", "ab", resolved, "c"))
    assert serve.config_hash(changed) != serve.config_hash(app)
    assert serve.endpoint(settings, app) == "http://127.0.0.1:8000/mlta/ns/ab/v1/predict"
    kuberay = settings.model_copy(update={"operator": settings.operator.model_copy(
        update={"backend": Backend.KUBERAY})})
    assert serve.endpoint(kuberay, app, "ns") == (
        "http://mlta-ns-ab-serve-svc.ns.svc.cluster.local:8000/mlta/ns/ab/v1/predict")


def test_rayservice_manifest_embeds_the_app(settings) -> None:
    app = {"name": "mlta-ns-ab", "route_prefix": "/mlta/ns/ab", "import_path": "x:y", "args": {}}
    body = {"metadata": {"name": "ab", "namespace": "ns", "uid": "u"}}
    manifest = serve.rayservice_manifest(app, body, settings, "mlta.io/v1alpha1")
    assert yaml.safe_load(manifest["spec"]["serveConfigV2"]) == {"applications": [app]}
    assert manifest["metadata"]["ownerReferences"][0]["kind"] == "ModelDeployment"


def test_rayservice_nodes_run_serve_behind_haproxy_and_rayjobs_do_not(settings) -> None:
    """Every Ray node of a RayService gets the cluster-level HAProxy settings (Serve's fast
    ingress); a RayJob's cluster serves nothing and gets none."""
    from mlta.serving.layout import cluster_env

    kuberay = settings.model_copy(update={"kuberay": settings.kuberay.model_copy(
        update={"worker_replicas": 1})})
    app = {"name": "mlta-ns-ab", "route_prefix": "/mlta/ns/ab", "import_path": "x:y", "args": {}}
    body = {"metadata": {"name": "ab", "namespace": "ns", "uid": "u"}}
    cluster = serve.rayservice_manifest(app, body, kuberay, "mlta.io/v1alpha1")["spec"]["rayClusterConfig"]
    pods = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    expected = sorted(cluster_env(serve.HAPROXY_STATE_DIR).items())
    for group in pods:
        (container,) = group["template"]["spec"]["containers"]
        assert [(e["name"], e["value"]) for e in container["env"]] == expected
        assert dict(expected)["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    envelope = jobs.build_envelope(kind="DataPipeline", body=BODY, settings=kuberay,
                                   submission_id="s-1", correlation_id="c")
    job = jobs.rayjob_manifest(envelope, BODY, kuberay, "mlta.io/v1alpha1")["spec"]["rayClusterSpec"]
    for group in [job["headGroupSpec"], *job["workerGroupSpecs"]]:
        assert "env" not in group["template"]["spec"]["containers"][0]
