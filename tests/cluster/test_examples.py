"""examples/ on the real node: RayJobs and a RayService run by KubeRay, predictions with the split.

The whole production path: the chart's operator (kuberay backend) in a PodSecurity-restricted
namespace, KubeRay from its Go module, the lake on the in-cluster S3 endpoint with credentials
from a Secret, the project's images, and examples/*.yaml applied with kubectl unchanged.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlta_operator.builders.serve import HAPROXY_STATE_DIR

from .conftest import CR_NS, KINDS, LAKE_SECRET, OPERATOR_NS, Cluster, wait_until

KEYS_SECRET = "direction-ab-keys"


def test_operator_runs_restricted_and_the_api_server_enforces_it(cluster: Cluster) -> None:
    ns = cluster.get("namespace", OPERATOR_NS)
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = cluster.get("-n", OPERATOR_NS, "pods", "-l", "app.kubernetes.io/component=operator")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running"]
    refused = cluster.kubectl("-n", OPERATOR_NS, "run", "privileged", "--image=mlta/operator:0.1.0",
                              "--image-pull-policy=Never", "--restart=Never",
                              "--overrides", json.dumps({"spec": {"containers": [{
                                  "name": "privileged", "image": "mlta/operator:0.1.0",
                                  "securityContext": {"privileged": True}}]}}), check=False)
    assert refused.returncode != 0 and "violates PodSecurity \"restricted" in refused.stderr


def test_pods_resolve_cluster_dns(cluster: Cluster) -> None:
    name = "dns-probe"
    cluster.kubectl("-n", CR_NS, "run", name, "--image=mlta/operator:0.1.0", "--image-pull-policy=Never",
                    "--restart=Never", "--command", "--", "python", "-c",
                    "import socket; print(socket.gethostbyname('kubernetes.default.svc.cluster.local'))")
    try:
        wait_until("dns probe finished", lambda: cluster.get("-n", CR_NS, "pod", name)["status"]["phase"]
                   in ("Succeeded", "Failed"), timeout=120)
        out = cluster.kubectl("-n", CR_NS, "logs", name).stdout.strip()
        assert out == cluster.layout.kubernetes_service_ip
    finally:
        cluster.kubectl("-n", CR_NS, "delete", "pod", name, "--wait=false", check=False)


def test_examples_run_on_kuberay_and_serve_the_split(cluster: Cluster, applied: dict[str, float],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # One RayJob per DataPipeline / TrainingJob submission, owned by its CR.
    rayjobs = cluster.get("-n", CR_NS, "rayjobs")["items"]
    crs = {o["metadata"]["uid"]: o for o in cluster.get("-n", CR_NS, KINDS)["items"]}
    owners = sorted(crs[j["metadata"]["ownerReferences"][0]["uid"]]["metadata"]["name"] for j in rayjobs)
    assert owners == ["crypto-5m", "direction-search", "lgbm-fast"]
    assert all(j["status"]["jobStatus"] == "SUCCEEDED" for j in rayjobs)
    for job in rayjobs:
        head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
        assert head["image"] == "mlta/ray:0.1.0"
        assert head["envFrom"] == [{"secretRef": {"name": LAKE_SECRET}}]
    listing = cluster.kubectl("-n", CR_NS, "get", "mlta").stdout
    assert listing.count("Ready") == 4, listing

    # The lake is on S3: the dataset the DataPipeline reports lives in the bucket.
    dp = cluster.get("-n", CR_NS, "datapipeline", "crypto-5m")
    assert dp["status"]["datasetUri"].startswith("s3://mlta-lake/node/gold/")

    # One grep follows the DataPipeline through the operator and the Ray job (submitter log).
    cid = dp["status"]["correlationId"]
    operator_log = cluster.kubectl("-n", OPERATOR_NS, "logs", "deploy/mlta-operator").stdout
    assert cid in operator_log
    job_name = next(j["metadata"]["name"] for j in rayjobs if j["metadata"]["name"].startswith("mlta-dp-"))
    job_log = cluster.kubectl("-n", CR_NS, "logs", f"job/{job_name}").stdout
    assert f'"correlation_id": "{cid}"' in job_log and "MLTA_RESULT" in job_log

    # The ModelDeployment is a RayService; its serve Service answers with the configured split.
    md = cluster.get("-n", CR_NS, "modeldeployment", "direction-ab")
    rs_name = md["status"]["appName"]
    rs = cluster.get("-n", CR_NS, "rayservice", rs_name)
    assert rs["metadata"]["ownerReferences"][0]["uid"] == md["metadata"]["uid"]
    assert md["status"]["endpoint"] == (f"http://{rs_name}-serve-svc.{CR_NS}.svc.cluster.local:8000"
                                        f"/mlta/{CR_NS}/direction-ab/v1/predict")
    svc_ip = cluster.get("-n", CR_NS, "service", f"{rs_name}-serve-svc")["spec"]["clusterIP"]
    url = f"http://{svc_ip}:8000/mlta/{CR_NS}/direction-ab/v1/predict"   # behind the node's veth
    rows = _feature_rows(cluster, md, dp, monkeypatch)
    counts: Counter[str] = Counter()
    rng = random.Random(3)
    with httpx.Client(timeout=30) as client:
        for i in range(300):
            body = {"key": f"k-{rng.randrange(10**9)}", "features": rows[i % len(rows)]}
            resp = client.post(url, json=body)
            assert resp.status_code == 200, resp.text
            counts[resp.json()["variant"]] += 1
    assert set(counts) == {"champion", "challenger"}
    assert 0.70 <= counts["champion"] / 300 <= 0.90, counts
    _record(cluster, {"split_champion_pct": 100 * counts["champion"] / 300})


def test_the_rayservice_serves_behind_haproxy(cluster: Cluster, applied: dict[str, float]) -> None:
    """The RayService's Ray head runs Serve's HAProxy ingress (the layout the embedded default
    uses), found by its own state directory from inside the pod."""
    md = cluster.get("-n", CR_NS, "modeldeployment", "direction-ab")
    rs = cluster.get("-n", CR_NS, "rayservice", md["status"]["appName"])
    ray_cluster = rs["status"]["activeServiceStatus"]["rayClusterName"]
    (head,) = cluster.get("-n", CR_NS, "pods", "-l",
                          f"ray.io/cluster={ray_cluster},ray.io/node-type=head")["items"]
    env = {e["name"]: e.get("value") for e in head["spec"]["containers"][0].get("env", [])}
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    probe = ("from mlta.serving.layout import haproxy_pids; "
             f"print(len(haproxy_pids({HAPROXY_STATE_DIR!r})))")
    out = cluster.kubectl("-n", CR_NS, "exec", head["metadata"]["name"], "--", "python", "-c", probe)
    assert int(out.stdout.strip()) >= 1, "no HAProxy runs for the RayService"


def test_api_keys_from_a_secret_through_the_rayservice(cluster: Cluster, applied: dict[str, float],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """spec.auth on the RayService: the operator reads the Secret (get, through the chart's
    RBAC), only digests reach the RayService, and a rotated Secret reaches the live replicas."""
    first, second = (f"desk-{secrets.token_hex(12)}" for _ in range(2))

    def put_keys(key: str) -> None:
        cluster.kubectl("apply", "-f", "-", input_text=json.dumps({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": KEYS_SECRET, "namespace": CR_NS}, "stringData": {"desk": key}}))

    md = cluster.get("-n", CR_NS, "modeldeployment", "direction-ab")
    svc_ip = cluster.get("-n", CR_NS, "service", f"{md['status']['appName']}-serve-svc")["spec"]["clusterIP"]
    url = f"http://{svc_ip}:8000/mlta/{CR_NS}/direction-ab/v1/predict"
    body = {"features": _feature_rows(cluster, md, cluster.get("-n", CR_NS, "datapipeline", "crypto-5m"),
                                      monkeypatch)[0]}
    put_keys(first)
    generation = _patch_auth(cluster, {"secretName": KEYS_SECRET})
    with httpx.Client(timeout=30) as client:
        def code(key: str | None) -> int:
            try:
                return client.post(url, json=body, headers={"x-api-key": key} if key else {}).status_code
            except httpx.HTTPError:
                return 0  # the application is being updated in place

        try:
            wait_until("a request without a key refused", lambda: code(None) == 401, 600)
            assert code(first) == 200 and code("desk-not-a-key") == 401
            ready = wait_until(f"direction-ab Ready at generation {generation}",
                               lambda: _ready_at(cluster, generation), 300)
            rayservice = json.dumps(cluster.get("-n", CR_NS, "rayservice", md["status"]["appName"]))
            assert first not in rayservice and base64.b64encode(first.encode()).decode() not in rayservice
            keys_hash = ready["status"]["keysHash"]
            put_keys(second)  # rotation: no restart, the replicas are reconfigured
            wait_until("the rotated key accepted", lambda: code(second) == 200, 300)
            assert code(first) == 401
            wait_until("status.keysHash follows the rotation", lambda: cluster.get(
                "-n", CR_NS, "modeldeployment", "direction-ab")["status"].get("keysHash") != keys_hash, 120)
        finally:  # the other tests (any order) use the deployment without keys
            reopened = _patch_auth(cluster, None)
            wait_until("direction-ab open again", lambda: code(None) == 200, 600)
            wait_until(f"direction-ab Ready at generation {reopened}",
                       lambda: _ready_at(cluster, reopened), 300)


def _patch_auth(cluster: Cluster, auth: dict[str, Any] | None) -> int:
    """Set (or remove) spec.auth of direction-ab; the generation the change gets."""
    cluster.kubectl("-n", CR_NS, "patch", "modeldeployment", "direction-ab", "--type=merge",
                    "-p", json.dumps({"spec": {"auth": auth}}))
    return int(cluster.get("-n", CR_NS, "modeldeployment", "direction-ab")["metadata"]["generation"])


def _ready_at(cluster: Cluster, generation: int) -> dict[str, Any] | None:
    md = cluster.get("-n", CR_NS, "modeldeployment", "direction-ab")
    status = md.get("status") or {}
    ok = status.get("phase") == "Ready" and status.get("observedGeneration") == generation
    return md if ok else None


def _feature_rows(cluster: Cluster, md: dict, dp: dict, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Rows of the Gold dataset, read from the in-cluster S3 endpoint through its Service IP."""
    from mlta.local import demo
    from mlta.registry import read_metadata

    secret = cluster.get("-n", CR_NS, "secret", LAKE_SECRET)["data"]
    for key, value in secret.items():
        monkeypatch.setenv(key, base64.b64decode(value).decode())
    s3_ip = cluster.get("-n", "mlta-s3", "service", "mlta-s3")["spec"]["clusterIP"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{s3_ip}:5000")
    columns = read_metadata(md["status"]["variants"][0]["modelUri"]).feature_columns
    return demo.feature_rows(dp["status"]["datasetUri"], columns, 50)


def _record(cluster: Cluster, figures: dict[str, float]) -> None:
    path = Path(cluster.layout.state_dir) / "figures.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **cluster.timings, **figures}, indent=2))
