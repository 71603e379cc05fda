"""`make demo` / `make up` / `make status` / `make down` as the user runs them: ``python -m mlta.local``.

The CLI's own control plane, Ray head (HAProxy in front of Serve) and operator, on free ports
and in a cache directory of their own (the compiled binaries shared by a link), with a small
set of CRs instead of examples/ so the whole demo takes a minute or two. It must run beside
`make up` and beside this session's own Ray head: `down` stops what the CLI started and
nothing else.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlta.local.controlplane import CACHE, K8S_VERSION
from tests.support.control_plane import private_ports
from tests.support.ray_cluster import RayCluster, free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "01-datapipeline.yaml": """
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {name: tiny}
spec:
  source: {type: sample, symbols: [BTCUSDT], interval: 5m, sample: {seed: 5, bars: 3000}}
  quality: {policy: repair}
""",
    "02-trainingjob.yaml": """
apiVersion: mlta.io/v1alpha1
kind: TrainingJob
metadata: {name: tiny-lgbm}
spec:
  dataPipeline: tiny
  target: {kind: direction, horizon: 12}
  validation: {folds: 2, testFraction: 0.2, embargoBars: 12}
  features: {exclude: ["f_cdl*"]}
  model: {type: lightgbm, numBoostRound: 20, lightgbm: {numLeaves: 7, minDataInLeaf: 50}}
""",
    "03-modeldeployment.yaml": """
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: tiny-ab}
spec:
  variants:
    - {name: only, trainingJob: tiny-lgbm, weight: 100, allowFailedGate: true}
""",
}


@pytest.fixture(scope="module")
def cli_env() -> Iterator[dict[str, str]]:
    # Short: Ray's socket paths under it must stay within AF_UNIX's 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="mlta-c-", dir="/tmp"))
    (home / "bin").symlink_to(CACHE / "bin")  # kube-apiserver, etcd, kubectl: built once
    # The kernels' machine code too (mlta.features.jit keeps it under the cache directory):
    # without it the demo's pipeline compiled every kernel again, minutes of CPU.
    (CACHE / "numba").mkdir(parents=True, exist_ok=True)
    (home / "numba").symlink_to(CACHE / "numba")
    assert (home / "bin" / f"k8s-{K8S_VERSION}" / "kube-apiserver").exists()
    etcd, api = private_ports()
    haproxy = Path(f"/tmp/mlta-hp-{secrets.token_hex(3)}")  # its socket paths must stay short
    serve = free_port()
    env = dict(
        os.environ, MLTA_CACHE_DIR=str(home), MLTA_ETCD_PORT=str(etcd), MLTA_APISERVER_PORT=str(api),
        MLTA_RAY_GCS_PORT=str(free_port()), MLTA_RAY_DASHBOARD_PORT=str(free_port()),
        MLTA_RAY_CLIENT_PORT=str(free_port()), MLTA_RAY_AGENT_PORT=str(free_port()),
        MLTA_HAPROXY_DIR=str(haproxy), MLTA_HAPROXY_STATS_PORT=str(free_port()),
        MLTA_HAPROXY_METRICS_PORT=str(free_port()), MLTA_RAY__SERVE_URL=f"http://127.0.0.1:{serve}",
        MLTA_OPERATOR__METRICS_PORT=str(free_port()), MLTA_OPERATOR__HEALTH_PORT=str(free_port()),
        MLTA_STORAGE__URI=f"file://{home / 'lake'}", MLTA_ENV="testing",
    )
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "KUBECONFIG"):
        env.pop(name, None)  # this session's Ray and cluster are not the CLI's
    try:
        yield env
    finally:
        cli(env, "down", timeout=300)  # whatever a failed test left running
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(haproxy, ignore_errors=True)


def cli(env: dict[str, str], *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlta.local", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.e2e
def test_demo_status_and_down(cli_env: dict[str, str], tmp_path: Path, ray_cluster: RayCluster) -> None:
    examples = tmp_path / "examples"
    examples.mkdir()
    for name, text in EXAMPLES.items():
        (examples / name).write_text(text)
    demo = cli(cli_env, "demo", "--examples", str(examples), "--requests", "40")
    assert demo.returncode == 0, f"demo failed:\n{demo.stdout[-4000:]}\n{demo.stderr[-4000:]}"
    assert "A/B split observed over 40 requests: only=100.0%" in demo.stdout, demo.stdout[-2000:]
    assert "tiny-lgbm" in demo.stdout  # the training report

    status = cli(cli_env, "status", timeout=60)
    assert status.returncode == 0, status.stderr
    assert "kube-apiserver: ready" in status.stdout and "ray: up" in status.stdout
    assert "operator: running" in status.stdout

    down = cli(cli_env, "down", timeout=300)
    assert down.returncode == 0, down.stderr
    after = cli(cli_env, "status", timeout=60)
    assert "kube-apiserver: down" in after.stdout and "ray: down" in after.stdout, after.stdout
    assert "operator: stopped" in after.stdout
    # `down` stopped the CLI's own head and nothing else: this session's head still answers.
    assert httpx.get(f"{ray_cluster.dashboard_url}/api/version", headers=ray_cluster.headers,
                     timeout=10).status_code == 200
    assert cli(cli_env, "down", timeout=120).returncode == 0  # twice is fine
