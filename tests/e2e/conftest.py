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

from mlta.local import controlplane, crds
from mlta.local.controlplane import ControlPlane
from tests.support.ray_cluster import RayCluster

REPO = Path(__file__).resolve().parents[2]
METRICS_PORT = 29090  # the e2e operator's Prometheus endpoint


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(state_dir=tmp_path_factory.mktemp("cluster"), etcd_port=22379,
                      apiserver_port=26443)
    controlplane.start(cp)
    try:
        crds.install_all(cp, with_kuberay=True)
        yield cp
    finally:
        controlplane.stop(cp)


@pytest.fixture(scope="session")
def lake_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return "file://" + str(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="session")
def operator_log(control_plane: ControlPlane, ray_cluster: RayCluster, lake_uri: str) -> Iterator[Path]:
    """The operator as a subprocess (as `make up` runs it), JSON logs to a file."""
    log_file = control_plane.state_dir / "operator.log"
    env = dict(
        os.environ, KUBECONFIG=str(control_plane.kubeconfig), MLTA_ENV="testing",
        **ray_cluster.operator_env, MLTA_STORAGE__URI=lake_uri, PYTHONUNBUFFERED="1",
        MLTA_OPERATOR__METRICS_PORT=str(METRICS_PORT),
    )
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
