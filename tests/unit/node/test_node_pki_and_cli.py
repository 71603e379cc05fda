"""The node's PKI made with the real openssl (a CA, serving and client certificates with the
SANs the components check, static tokens, kubeconfigs), idempotent; the CLI's read-only
commands (status of the embedded default and of a node that is not up)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from tests.support.ray_cluster import free_port
from tests.unit.node.hostfakes import needs_openssl

from mlta.errors import BackendError
from mlta.local import __main__ as cli
from mlta.local.controlplane import ControlPlane, pid_alive, process_started_at
from mlta.local.node import pki
from mlta.local.node.layout import NodeLayout


def _text(cert: Path) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


@needs_openssl
def test_pki_is_signed_by_one_ca_with_the_names_components_check(tmp_path: Path) -> None:
    layout = NodeLayout(state_dir=tmp_path / "node")
    pki.ensure(layout)
    ca = layout.pki / "ca.crt"
    for name in ("apiserver", "kubelet", "apiserver-kubelet-client"):
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(layout.pki / f"{name}.crt")],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stderr
    served = _text(layout.pki / "apiserver.crt")
    assert f"IP Address:{layout.node_ip}" in served and "DNS:kubernetes.default.svc" in served
    assert "TLS Web Client Authentication" in _text(layout.pki / "apiserver-kubelet-client.crt")
    tokens = (layout.pki / "tokens.csv").read_text().splitlines()
    assert len(tokens) == len(pki.IDENTITIES)
    assert any(",system:node:" in line and '"system:nodes"' in line for line in tokens)
    assert (layout.pki / "tokens.csv").stat().st_mode & 0o077 == 0
    admin = yaml.safe_load(layout.kubeconfig.read_text())
    assert admin["clusters"][0]["cluster"]["server"] == layout.server
    before = {p.name: p.read_bytes() for p in layout.pki.iterdir()}
    pki.ensure(layout)  # idempotent: nothing is re-made
    assert {p.name: p.read_bytes() for p in layout.pki.iterdir() if p.name in before} == before


def test_an_openssl_failure_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="openssl x509 failed"):
        pki._openssl("x509", "-in", str(tmp_path / "missing.crt"), "-noout")


def test_cli_status_of_a_stopped_node_and_a_stopped_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLTA_NODE_NETNS", "mlta-test-absent")
    from mlta.local.node import lifecycle

    monkeypatch.setattr(lifecycle, "NodeLayout", lambda: NodeLayout(state_dir=tmp_path / "node",
                                                                     netns="mlta-test-absent"))
    assert cli.main(["node", "status"]) == 0
    out = capsys.readouterr().out
    assert '"supervisor": null' in out and '"apiserver": false' in out
    from mlta.local import rayhead

    # the default's status, on ports nothing listens on (the demo may be up on its own)
    monkeypatch.setenv("MLTA_APISERVER_PORT", str(free_port()))
    monkeypatch.setenv("MLTA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(rayhead, "DASHBOARD_PORT", free_port())
    # and the default's state in tmp: the machine's own (a demo's pid files) is not this test's
    (tmp_path / "cluster").mkdir()
    monkeypatch.setattr(cli.controlplane, "ControlPlane",
                        lambda: ControlPlane(state_dir=tmp_path / "cluster"))
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("kube-apiserver: down") and "ray: down" in out and "operator: stopped" in out


def test_a_pid_file_older_than_its_process_names_no_process(tmp_path: Path) -> None:
    """Pids are reused: a file left by a process long gone must not name whatever runs under
    that number now (the CLI's status said "operator: running" for a reused pid)."""
    import os
    import time

    pid_file = tmp_path / "operator.pid"
    pid_file.write_text(str(os.getpid()))  # a live process: this one
    assert pid_alive(pid_file) == os.getpid()
    started = process_started_at(os.getpid())
    assert started is not None and abs(started - time.time()) < 24 * 3600
    os.utime(pid_file, (started - 3600, started - 3600))  # written an hour before it started
    assert pid_alive(pid_file) is None
    assert process_started_at(2**22 + 1) is None  # above pid_max: no such process
