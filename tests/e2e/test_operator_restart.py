"""A restarted operator converges from what it finds and never runs a job twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mlta.local.controlplane import ControlPlane
from tests.e2e.conftest import REPO, kubectl, operator_env
from tests.support.ray_cluster import RayCluster, wait_for

NS = "restart"
MANIFEST = f"""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {{name: restart-me, namespace: {NS}}}
spec:
  source:
    type: sample
    symbols: [BTCUSDT, ETHUSDT, SOLUSDT]
    sample: {{seed: 3, bars: 20000}}
"""


def _start_operator(cp: ControlPlane, ray: RayCluster, lake: str, log: Path) -> subprocess.Popen[bytes]:
    env = operator_env(cp, ray, lake, NS)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "mlta_operator"], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO)


@pytest.mark.e2e
def test_killed_operator_resumes_without_resubmitting(
    control_plane: ControlPlane, ray_cluster: RayCluster, lake_uri: str, tmp_path: Path
) -> None:
    kubectl(control_plane, "create", "namespace", NS)
    log = tmp_path / "operator.log"
    first = _start_operator(control_plane, ray_cluster, lake_uri, log)
    try:
        kubectl(control_plane, "apply", "-f", "-", stdin=MANIFEST)

        def recorded() -> str | None:
            obj = json.loads(kubectl(control_plane, "-n", NS, "get", "dp", "restart-me", "-o", "json").stdout)
            return (obj.get("status") or {}).get("submissionId")

        sid = wait_for(recorded, timeout=120, what="submission id recorded in status")
    finally:
        first.send_signal(signal.SIGKILL)  # no graceful shutdown: as if the pod was evicted
        first.wait(timeout=30)

    second = _start_operator(control_plane, ray_cluster, lake_uri, log)
    try:
        def ready() -> bool:
            obj = json.loads(kubectl(control_plane, "-n", NS, "get", "dp", "restart-me", "-o", "json").stdout)
            st = obj.get("status") or {}
            if st.get("phase") == "Failed":
                raise AssertionError(st)
            return st.get("phase") == "Ready"

        wait_for(ready, timeout=600, what="DataPipeline Ready after restart", interval=1)
        obj = json.loads(kubectl(control_plane, "-n", NS, "get", "dp", "restart-me", "-o", "json").stdout)
        assert obj["status"]["submissionId"] == sid
        cid = obj["status"]["correlationId"]  # this CR instance (uid) and generation
        jobs = httpx.get(f"{ray_cluster.dashboard_url}/api/jobs/", headers=ray_cluster.headers,
                         timeout=10).json()
        mine = [j for j in jobs if (j.get("metadata") or {}).get("mlta.io/correlation-id") == cid]
        assert [j["submission_id"] for j in mine] == [sid], mine
    finally:
        second.terminate()
        second.wait(timeout=30)
        kubectl(control_plane, "-n", NS, "delete", "dp", "restart-me", "--wait=false", check=False)
