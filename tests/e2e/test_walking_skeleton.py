"""The demo's path, checked: kubectl apply examples/ -> operator -> Ray jobs -> Ray Serve A/B.

Real kube-apiserver + etcd, real Ray, the real operator process; nothing mocked.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlta.data.lake import read_dataset
from mlta.local.controlplane import ControlPlane
from mlta.registry import read_metadata
from tests.e2e.conftest import OPERATOR_NAMESPACE, REPO, kubectl
from tests.support.ray_cluster import RayCluster, wait_for

NS = OPERATOR_NAMESPACE
KINDS = "datapipelines,trainingjobs,modeldeployments"


def get_all(cp: ControlPlane) -> list[dict[str, Any]]:
    return list(json.loads(kubectl(cp, "-n", NS, "get", KINDS, "-o", "json").stdout)["items"])


def phases(cp: ControlPlane) -> dict[str, str]:
    return {f"{o['kind']}/{o['metadata']['name']}": (o.get("status") or {}).get("phase", "Pending")
            for o in get_all(cp)}


@pytest.fixture(scope="module")
def applied(control_plane: ControlPlane, operator_log: Path) -> list[dict[str, Any]]:
    kubectl(control_plane, "create", "namespace", NS)
    for manifest in sorted((REPO / "examples").glob("*.yaml")):
        kubectl(control_plane, "-n", NS, "apply", "-f", str(manifest))

    def all_ready() -> list[dict[str, Any]] | None:
        items = get_all(control_plane)
        failed = [o for o in items if (o.get("status") or {}).get("phase") == "Failed"]
        if failed:
            raise AssertionError(f"failed: {[(o['metadata']['name'], o['status']) for o in failed]}")
        ok = len(items) == 4 and all((o.get("status") or {}).get("phase") == "Ready" for o in items)
        return items if ok else None

    try:
        return wait_for(all_ready, timeout=900, what="all examples Ready", interval=2)  # type: ignore[no-any-return]
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; phases {phases(control_plane)}; operator log tail:\n"
                             f"{operator_log.read_text()[-4000:]}") from exc


@pytest.mark.e2e
def test_kubectl_get_mlta_lists_all_ready(control_plane: ControlPlane, applied: list[dict[str, Any]]) -> None:
    out = kubectl(control_plane, "-n", NS, "get", "mlta").stdout
    for name in ("crypto-5m", "direction-search", "lgbm-fast", "direction-ab"):
        line = next((ln for ln in out.splitlines() if name in ln), "")
        assert "Ready" in line, out
    for obj in applied:
        st = obj["status"]
        assert st["observedGeneration"] == obj["metadata"]["generation"]
        ready = next(c for c in st["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True" and ready["observedGeneration"] == obj["metadata"]["generation"]


@pytest.mark.e2e
def test_status_carries_lineage(applied: list[dict[str, Any]]) -> None:
    by_name = {o["metadata"]["name"]: o for o in applied}
    pipeline = by_name["crypto-5m"]["status"]
    assert pipeline["rows"] > 1000 and pipeline["featureCount"] >= 5
    for job in ("direction-search", "lgbm-fast"):
        st = by_name[job]["status"]
        assert st["datasetVersion"] == pipeline["datasetVersion"]
        meta = read_metadata(st["modelUri"])
        assert meta.version == st["modelVersion"]
        assert meta.lineage["datasetVersion"] == pipeline["datasetVersion"]
        assert 0.0 <= st["metrics"]["score"] <= 1.0
        assert st["gate"] in ("passed", "failed") and st["gate"] == meta.gate.status.value
        assert {"lockboxAuc", "cvAuc", "lockboxSharpe"} <= st["metrics"].keys()
    search = by_name["direction-search"]["status"]
    assert search["trials"] == "6/6" and search["bestLearner"] == "ensemble"
    assert search["dashboardUrl"].endswith(f"/#/jobs/{search['submissionId']}")
    assert by_name["lgbm-fast"]["status"]["trials"] == "1/1"


@pytest.mark.e2e
def test_kubectl_get_tj_shows_trials_and_gate(control_plane: ControlPlane,
                                              applied: list[dict[str, Any]]) -> None:
    out = kubectl(control_plane, "-n", NS, "get", "tj").stdout.splitlines()
    header = out[0].split()
    assert header[:7] == ["NAME", "PHASE", "TRIALS", "LEARNER", "SCORE", "GATE", "VERSION"], out
    row = next(ln.split() for ln in out if ln.startswith("direction-search"))
    assert row[1] == "Ready" and row[2] == "6/6" and row[3] == "ensemble"
    assert row[5] in ("passed", "failed")


@pytest.mark.e2e
def test_predictions_follow_the_split(applied: list[dict[str, Any]], ray_cluster: RayCluster) -> None:
    deployment = next(o for o in applied if o["kind"] == "ModelDeployment")["status"]
    versions = {v["name"]: v["modelVersion"] for v in deployment["variants"]}
    meta = read_metadata(deployment["variants"][0]["modelUri"])
    columns = meta.feature_columns
    # Rows of the Gold version the models learned on, as a real client would send: the
    # deployment watches its inputs for drift, and made-up values would (rightly) turn it
    # Degraded for every test that runs after this one.
    gold, _ = read_dataset(str(meta.lineage["datasetUri"]))
    rows = gold[columns].dropna().to_dict("records")
    rng = random.Random(1)
    counts: Counter[str] = Counter()
    with httpx.Client(timeout=30) as client:
        for _ in range(400):
            features = rng.choice(rows)
            resp = client.post(deployment["endpoint"], json={"key": f"k{rng.random()}", "features": features})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            counts[body["variant"]] += 1
            assert body["modelVersion"] == versions[body["variant"]]
            assert 0.0 <= body["prediction"] <= 1.0
    share = counts["champion"] / 400
    assert 0.72 <= share <= 0.88, counts  # 80/20 within sampling noise (sd ~2%)


@pytest.mark.e2e
def test_operator_serves_prometheus_metrics(applied: list[dict[str, Any]], metrics_port: int) -> None:
    ready = ('mlta_resource_phase{kind="ModelDeployment",name="direction-ab",namespace="e2e",'
             'phase="Ready"} 1.0')
    seen = [""]

    def scraped() -> str | None:
        # the phase is recorded right after the status is written: poll, do not race it
        seen[:] = [httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text]
        return seen[0] if ready in seen[0] else None

    try:
        text = wait_for(scraped, timeout=60, what="direction-ab Ready in the metrics")
    except TimeoutError as exc:
        phases = [ln for ln in seen[0].splitlines() if ln.startswith(("mlta_resource_phase",
                                                                     "mlta_followed"))]
        raise AssertionError(f"{exc}; the operator reports:\n" + "\n".join(phases)) from exc
    assert 'mlta_reconcile_total{kind="DataPipeline",result="ok"}' in text
    assert "mlta_reconcile_seconds_bucket" in text


@pytest.mark.e2e
def test_correlation_id_follows_cr_into_ray_job(
    applied: list[dict[str, Any]], operator_log: Path, ray_cluster: RayCluster
) -> None:
    pipeline = next(o for o in applied if o["kind"] == "DataPipeline")["status"]
    cid, sid = pipeline["correlationId"], pipeline["submissionId"]
    operator_lines = [json.loads(ln) for ln in operator_log.read_text().splitlines() if ln.startswith("{")]
    assert any(rec.get("correlation_id") == cid for rec in operator_lines)
    logs = httpx.get(f"{ray_cluster.dashboard_url}/api/jobs/{sid}/logs",
                     headers=ray_cluster.headers, timeout=10).json()["logs"]
    job_lines = [json.loads(ln) for ln in logs.splitlines() if ln.startswith("{")]
    assert job_lines and all(rec.get("correlation_id") == cid for rec in job_lines)


@pytest.mark.e2e
def test_workload_failure_sets_ready_false_with_reason(
    control_plane: ControlPlane, applied: list[dict[str, Any]], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir"
    manifest = f"""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {{name: broken-files, namespace: {NS}}}
spec:
  source:
    type: files
    symbols: [BTCUSDT]
    files: {{uri: "file://{missing}", format: feather}}
"""
    kubectl(control_plane, "apply", "-f", "-", stdin=manifest)

    def failed() -> dict[str, Any] | None:
        obj = json.loads(kubectl(control_plane, "-n", NS, "get", "datapipeline", "broken-files",
                                 "-o", "json").stdout)
        st = obj.get("status") or {}
        return st if st.get("phase") == "Failed" else None

    status = wait_for(failed, timeout=300, what="broken-files to fail", interval=1)
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "NotFound"  # the job's own typed reason, not a generic JobFailed
    assert "no-such-dir" in ready["message"]
    kubectl(control_plane, "-n", NS, "delete", "datapipeline", "broken-files", "--wait=true")


KEYED = """
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: direction-keys, namespace: e2e}
spec:
  variants:
    - {name: champion, trainingJob: direction-search, weight: 50, allowFailedGate: true}
    - {name: challenger, trainingJob: lgbm-fast, weight: 50, allowFailedGate: true}
  auth:
    secretName: md-keys
    keys: [{name: ops, scopes: [admin, predict]}]
  rateLimit: {requestsPerSecond: 1000, burst: 1000}
  monitoring: {intervalSeconds: 1, minSamples: 10}
"""


def _secret(cp: ControlPlane, desk: str) -> None:
    manifest = kubectl(cp, "-n", NS, "create", "secret", "generic", "md-keys",
                       f"--from-literal=desk={desk}", "--from-literal=ops=ops-0123456789abcdef",
                       "--dry-run=client", "-o", "yaml").stdout
    kubectl(cp, "apply", "-f", "-", stdin=manifest)


@pytest.mark.e2e
def test_api_keys_from_a_secret_with_rotation_and_live_status(
        control_plane: ControlPlane, applied: list[dict[str, Any]], ray_cluster: RayCluster) -> None:
    """A ModelDeployment with spec.auth: keys from a Secret, only digests in the Serve config,
    rotation by editing the Secret, and the service's numbers in the CR status."""
    first, second = "desk-key-aaaaaaaaaaaaaaaa", "desk-key-bbbbbbbbbbbbbbbb"
    _secret(control_plane, first)
    kubectl(control_plane, "apply", "-f", "-", stdin=KEYED)

    def get() -> dict[str, Any]:
        return json.loads(kubectl(control_plane, "-n", NS, "get", "modeldeployment",
                                  "direction-keys", "-o", "json").stdout)

    obj = wait_for(lambda: (o := get()).get("status", {}).get("phase") == "Ready" and o,
                   timeout=300, what="direction-keys Ready", interval=1)
    status = obj["status"]
    endpoint, app = status["endpoint"], status["appName"]
    config = json.dumps(httpx.get(f"{ray_cluster.dashboard_url}/api/serve/applications/",
                                  headers=ray_cluster.headers, timeout=10).json()["applications"][app])
    assert first not in config and "ops-0123456789abcdef" not in config  # digests only
    assert first not in json.dumps(obj)
    columns = read_metadata(status["variants"][0]["modelUri"]).feature_columns
    body = {"features": dict.fromkeys(columns, 0.0)}
    assert httpx.post(endpoint, json=body, timeout=30).status_code == 401
    ok = httpx.post(endpoint, json=body, headers={"x-api-key": first}, timeout=30)
    assert ok.status_code == 200, ok.text
    base = endpoint.removesuffix("/v1/predict")
    assert httpx.get(f"{base}/v1/status", headers={"x-api-key": first},
                     timeout=30).status_code == 403
    assert httpx.get(f"{base}/v1/status", headers={"x-api-key": "ops-0123456789abcdef"},
                     timeout=30).status_code == 200
    keys_hash = status["keysHash"]
    _secret(control_plane, second)  # rotate
    wait_for(lambda: httpx.post(endpoint, json=body, headers={"x-api-key": second},
                                timeout=10).status_code == 200, timeout=120,
             what="the rotated key to work", interval=1)
    assert httpx.post(endpoint, json=body, headers={"x-api-key": first},
                      timeout=30).status_code == 401
    counted = wait_for(lambda: (v := get()["status"]["variants"]) and any(
        (x.get("requests") or 0) > 0 for x in v) and v, timeout=120,
        what="live request counts in status", interval=1)
    assert get()["status"]["keysHash"] != keys_hash
    assert {x["name"] for x in counted} == {"champion", "challenger"}
    kubectl(control_plane, "-n", NS, "delete", "modeldeployment", "direction-keys",
            "--wait=true", "--timeout=120s")
    kubectl(control_plane, "-n", NS, "delete", "secret", "md-keys")


@pytest.mark.e2e
def test_delete_removes_serve_app_through_finalizer(
    control_plane: ControlPlane, applied: list[dict[str, Any]], ray_cluster: RayCluster
) -> None:
    """A deployment of its own (the examples' stays for the other tests, in any order)."""
    manifest = f"""
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {{name: doomed, namespace: {NS}}}
spec:
  variants:
    - {{name: only, trainingJob: lgbm-fast, weight: 100, allowFailedGate: true}}
"""
    kubectl(control_plane, "apply", "-f", "-", stdin=manifest)

    def ready() -> dict[str, Any] | None:
        obj = json.loads(kubectl(control_plane, "-n", NS, "get", "modeldeployment", "doomed",
                                 "-o", "json").stdout)
        if (obj.get("status") or {}).get("phase") == "Failed":
            raise AssertionError(obj["status"])
        return obj if (obj.get("status") or {}).get("phase") == "Ready" else None

    deployment = wait_for(ready, timeout=300, what="deployment doomed Ready", interval=1)
    app = deployment["status"]["appName"]
    endpoint = deployment["status"]["endpoint"]
    assert deployment["metadata"].get("finalizers"), "operator must hold a finalizer"
    kubectl(control_plane, "-n", NS, "delete", "modeldeployment", "doomed", "--wait=true",
            "--timeout=120s")

    def app_gone() -> bool:
        apps = httpx.get(f"{ray_cluster.dashboard_url}/api/serve/applications/",
                         headers=ray_cluster.headers, timeout=10).json()
        return app not in (apps.get("applications") or {})

    wait_for(app_gone, timeout=120, what="Serve app deleted")
    wait_for(lambda: httpx.post(endpoint, json={}, timeout=5).status_code == 404, timeout=60,
             what="route removed")
    examples = next(o for o in applied if o["kind"] == "ModelDeployment")["status"]["appName"]
    assert examples != app
    apps = httpx.get(f"{ray_cluster.dashboard_url}/api/serve/applications/",
                     headers=ray_cluster.headers, timeout=10).json()
    assert examples in (apps.get("applications") or {}), "the examples' app must stay"
