"""E2E fixtures: a real kube-apiserver + etcd (own ports and state), real Ray, the operator.

Everything is started here and stopped after the session; readiness is polled with deadlines.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlta.local import crds
from mlta.local.controlplane import ControlPlane
from tests.support.control_plane import private_control_plane
from tests.support.ray_cluster import RayCluster, free_port

REPO = Path(__file__).resolve().parents[2]
#: The namespace the session's operator serves (tests with an operator of their own use others).
OPERATOR_NAMESPACE = "e2e"


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """kube-apiserver + etcd on free ports with every CRD installed; stopped even if a start fails."""
    with private_control_plane(tmp_path_factory.mktemp("cluster")) as cp:
        crds.install_all(cp, with_kuberay=True)
        yield cp


@pytest.fixture(scope="session")
def metrics_port() -> int:
    """The session operator's Prometheus port (free, picked once)."""
    return free_port()


@pytest.fixture(scope="session")
def lake_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "file://" + str(tmp_path_factory.mktemp("lake"))


def operator_env(cp: ControlPlane, ray: RayCluster, lake_uri: str, namespace: str,
                 metrics: int = 0) -> dict[str, str]:
    """The environment of an operator process that serves ``namespace`` of ``cp`` on ``ray``.

    Every port it opens is free or off: metrics on ``metrics`` (0: off), kopf's liveness
    endpoint on a port of its own, so a `make up` operator on this machine never collides.
    """
    return dict(
        os.environ, KUBECONFIG=str(cp.kubeconfig), MLTA_ENV="testing", **ray.operator_env,
        MLTA_STORAGE__URI=lake_uri, PYTHONUNBUFFERED="1", MLTA_OPERATOR__NAMESPACES=f"[{namespace}]",
        MLTA_OPERATOR__METRICS_PORT=str(metrics), MLTA_OPERATOR__HEALTH_PORT=str(free_port()),
    )


@pytest.fixture(scope="session")
def operator_log(control_plane: ControlPlane, ray_cluster: RayCluster, lake_uri: str,
                 metrics_port: int) -> Iterator[Path]:
    """The operator as a subprocess (as `make up` runs it) serving the e2e namespace, JSON logs."""
    log_file = control_plane.state_dir / "operator.log"
    env = operator_env(control_plane, ray_cluster, lake_uri, OPERATOR_NAMESPACE, metrics_port)
    with open(log_file, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlta_operator"], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO)
    try:
        yield log_file
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def kubectl(cp: ControlPlane, *args: str, check: bool = True, stdin: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cp.kubectl() + list(args), capture_output=True, text=True, input=stdin)
    if check and res.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {res.stderr}")
    return res
