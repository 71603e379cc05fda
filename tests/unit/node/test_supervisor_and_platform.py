"""The node supervisor's start and stop when a daemon misbehaves, and the platform installs
(S3, lake credentials, helm) when a command fails or a server is slow to answer.

The supervisor's daemons are processes the test starts. ``_kill_containers`` SIGKILLs every
process of its mount namespace, which for this test process is the whole machine, so its
view of the namespace is replaced by the test's processes; ``mount`` is a fake first on PATH.
The one whole supervisor run is a real ``python -m mlta.local.node.supervisor`` in a network
and mount namespace of its own (``unshare``, root), so its tmpfs mounts and sysctl writes
never reach the host; its daemons are fake executables. kubectl and helm are fakes in the
test's cache; the S3 server is a real HTTP server on a port the kernel picked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.unit.node.hostfakes import NO_PID, Cache, Host, Procs, Request, alive, fake_exe, gone, serving

from mlta.errors import BackendError
from mlta.local import controlplane
from mlta.local.node import pki, platform, supervisor
from mlta.local.node.layout import NodeLayout


def test_waiting_stops_when_a_daemon_exits_or_the_deadline_passes(procs: Procs) -> None:
    crashed = subprocess.Popen(["sh", "-c", "exit 3"])
    running = procs.sleeper()
    with pytest.raises(RuntimeError, match="etcd exited with 3 while waiting for kube-apiserver"):
        supervisor._wait("kube-apiserver", lambda: False, 30, {"kube-apiserver": running, "etcd": crashed})
    with pytest.raises(RuntimeError, match="containerd not ready after 0s"):
        supervisor._wait("containerd", lambda: False, 0.3, {"containerd": running})
    supervisor._wait("containerd", lambda: True, 0.3, {"containerd": crashed})  # ready wins


def test_containerd_counts_as_started_once_its_cri_answers(tmp_path: Path) -> None:
    """A real gRPC server on a unix socket, answering the CRI's Version call as containerd's
    CRI plugin does: "not initialized" while it recovers its state, then a version."""
    from concurrent import futures

    import grpc

    socket = Path("/tmp") / f"mlta-cri-{os.getpid()}-{tmp_path.name[-6:]}.sock"  # AF_UNIX: short
    assert not supervisor._cri_ready(socket)  # no socket yet
    calls: list[bytes] = []

    def version(request: bytes, context: grpc.ServicerContext) -> bytes:
        calls.append(request)
        if len(calls) == 1:
            context.abort(grpc.StatusCode.UNKNOWN, "server is not initialized yet")
        return b"\x0a\x050.1.0"

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "runtime.v1.RuntimeService", {"Version": grpc.unary_unary_rpc_method_handler(
            version, request_deserializer=bytes, response_serializer=bytes)}),))
    try:
        server.add_insecure_port(f"unix://{socket}")
        server.start()
        assert not supervisor._cri_ready(socket)  # the socket exists, the CRI is not ready
        assert supervisor._cri_ready(socket)
        assert calls == [b"", b""]
    finally:
        server.stop(None)
        socket.unlink(missing_ok=True)


def test_stopping_a_daemon_that_ignores_sigterm_kills_it(procs: Procs,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    stubborn = procs.sleeper(ignore_term=True)
    supervisor._stop("kubelet", stubborn, timeout=0.3)  # type: ignore[arg-type]
    assert stubborn.returncode == -signal.SIGKILL
    assert "kubelet ignored SIGTERM for 0s: SIGKILL" in capsys.readouterr().out
    exited = subprocess.Popen(["sh", "-c", "exit 4"])
    exited.wait()
    supervisor._stop("kube-proxy", exited)
    assert exited.returncode == 4  # an exited daemon keeps its own status
    assert "kube-proxy" not in capsys.readouterr().out


def test_leftover_container_processes_are_killed_and_daemons_spared(
        procs: Procs, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = procs.sleeper()       # our child: reaped by the kill loop
    daemon = procs.orphan()      # not our child: only a daemon's pid in the set
    listings: list[list[int]] = []

    def namespace() -> list[int]:
        # As /proc lists them: a killed child stays until it is reaped. The first look also
        # sees a process that exits before the SIGKILL reaches it.
        listing = [p for p in (shim.pid, daemon) if Path(f"/proc/{p}").exists()]
        listing += [] if listings else [NO_PID]
        listings.append(listing)
        return listing

    monkeypatch.setattr(supervisor, "_namespace_pids", namespace)
    supervisor._kill_containers({daemon})
    assert not Path(f"/proc/{shim.pid}").exists(), "killed and reaped"
    assert alive(daemon)
    assert listings[0] == [shim.pid, daemon, NO_PID] and listings[-1] == [daemon]


def test_private_mounts_cover_run_and_var_but_refuse_a_state_dir_they_would_hide(
        node_layout: NodeLayout, host: Host) -> None:
    assert shutil.which("mount") == str(host.mount.path)  # never the real one
    supervisor.private_mounts(node_layout)
    assert host.mount.calls() == [f"-t tmpfs -o mode=755,size=256m mlta-node {target}"
                                  for target in supervisor.PRIVATE_TMPFS]
    hidden = NodeLayout(state_dir=Path("/run/mlta-test/node"))
    with pytest.raises(RuntimeError, match="the node's state dir /run/mlta-test/node is under /run, which "
                                           "the node hides behind a tmpfs; set MLTA_CACHE_DIR elsewhere"):
        supervisor.private_mounts(hidden)
    assert len(host.mount.calls()) == len(supervisor.PRIVATE_TMPFS)  # nothing more was mounted


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("openssl") is None,
                    reason="needs root, unshare and openssl (namespaces of its own)")
def test_supervisor_records_a_daemon_that_dies_during_start_and_stops_the_others(
        tmp_path: Path, node_layout: NodeLayout) -> None:
    bin_dir = tmp_path / "cache" / "bin" / f"k8s-{controlplane.K8S_VERSION}"
    etcd_pid = tmp_path / "etcd.pid"
    etcd = fake_exe(bin_dir / "etcd", f'echo $$ > "{etcd_pid}"; exec sleep 60')
    apiserver = fake_exe(bin_dir / "kube-apiserver", 'echo "unable to load client CA file" >&2; exit 1')
    layout = node_layout
    layout.save()
    pki.ensure(layout)
    layout.logs.mkdir()
    layout.run_dir.mkdir()
    res = subprocess.run(["unshare", "--net", "--mount", "--propagation", "slave", "--",
                          sys.executable, "-m", "mlta.local.node.supervisor", str(layout.state_dir)],
                         env=dict(os.environ, MLTA_CACHE_DIR=str(tmp_path / "cache")), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    failed = (layout.run_dir / "supervisor.failed").read_text()
    assert failed == "kube-apiserver exited with 1 while waiting for kube-apiserver"
    assert f"start failed: {failed}" in res.stdout and "stopped etcd" in res.stdout
    assert "unable to load client CA file" in (layout.logs / "kube-apiserver.log").read_text()
    assert len(etcd.calls()) == 1 and len(apiserver.calls()) == 1
    assert gone(int(etcd_pid.read_text()))
    assert not (layout.run_dir / "supervisor.ready").exists()


def _kubectl(cache: Cache, applied: Path, **answers: str) -> None:
    """kubectl whose ``get <kind>`` prints ``answers[kind]`` and whose apply keeps what it got."""
    cases = "".join(f'  *" get {kind} "*) cat <<\'EOF\'\n{text}\nEOF\n  ;;\n'
                    for kind, text in answers.items())
    fake_exe(cache.k8s_bin / "kubectl", f"""case "$*" in
  *" apply -f -") cat >> "{applied}"; echo --- >> "{applied}";;
{cases}  *) echo "error: unexpected $*" >&2; exit 1;;
esac""")


def test_platform_kubectl_failure_names_the_command(cache: Cache, node_layout: NodeLayout) -> None:
    _kubectl(cache, cache.root / "applied.yaml")
    with pytest.raises(BackendError, match="kubectl -n mlta-s3 delete pod failed: error: unexpected"):
        platform.kubectl(node_layout, "-n", "mlta-s3", "delete", "pod", "x")


def test_a_deployment_that_never_becomes_available_shows_its_pods_and_events(
        cache: Cache, node_layout: NodeLayout) -> None:
    _kubectl(cache, cache.root / "applied.yaml",
             deploy='{"status": {"conditions": [{"type": "Progressing", "status": "True"}]}}',
             pods="mlta-s3-5d9 0/1 ErrImageNeverPull 0 1m",
             events='Container image "docker.io/mlta/s3:0.1.0" is not present with pull policy of Never')
    with pytest.raises(BackendError, match="deployment mlta-s3/mlta-s3 not Available after 0s:") as caught:
        platform.wait_available(node_layout, "mlta-s3", "mlta-s3", timeout=0.3)
    assert "ErrImageNeverPull" in caught.value.message and "is not present" in caught.value.message


def test_a_pending_deployment_names_the_nodes_taints_and_pressure(
        cache: Cache, node_layout: NodeLayout) -> None:
    node = {"metadata": {"name": "tnode"},
            "spec": {"taints": [{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}]},
            "status": {"conditions": [
                {"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"},
                {"type": "DiskPressure", "status": "True", "message": "kubelet has disk pressure"}]}}
    _kubectl(cache, cache.root / "applied.yaml", deploy='{"status": {}}', pods="kuberay 0/1 Pending",
             events="0/1 nodes are available: 1 node(s) had untolerated taint(s)",
             nodes=json.dumps({"items": [node]}))
    with pytest.raises(BackendError) as caught:
        platform.wait_available(node_layout, "kuberay-system", "kuberay-operator", timeout=0.3)
    assert caught.value.message.endswith(
        "\nnode tnode taint node.kubernetes.io/disk-pressure:NoSchedule"
        "\nnode tnode DiskPressure: kubelet has disk pressure")


def test_install_s3_retries_until_the_server_creates_the_bucket(
        cache: Cache, node_layout: NodeLayout, monkeypatch: pytest.MonkeyPatch) -> None:
    applied = cache.root / "applied.yaml"
    _kubectl(cache, applied, svc="127.0.0.1",
             deploy='{"status": {"conditions": [{"type": "Available", "status": "True"}]}}')

    def s3(req: Request) -> tuple[int, str] | None:
        return None if len(served.requests) == 1 else (200, "")  # the first one finds no server yet

    with serving(s3) as served:
        monkeypatch.setattr(platform, "S3_PORT", served.port)
        assert platform.install_s3(node_layout, "lake") == "127.0.0.1"
    assert [(r.method, r.path) for r in served.requests] == [("PUT", "/lake"), ("PUT", "/lake")]
    docs = [d for d in yaml.safe_load_all(applied.read_text()) if d]
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"] == {"pod-security.kubernetes.io/enforce": "restricted"}
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == served.port


def test_lake_credentials_are_made_once_and_stored_in_each_namespace(
        cache: Cache, node_layout: NodeLayout) -> None:
    applied = cache.root / "applied.yaml"
    _kubectl(cache, applied)
    node_layout.state_dir.mkdir(parents=True)
    first = platform.lake_secret(node_layout, "lake", ["mlta-system", "crs"])
    assert first["AWS_ENDPOINT_URL"] == platform.s3_endpoint()
    assert first["AWS_ACCESS_KEY_ID"].startswith("mlta")
    creds = node_layout.state_dir / "lake-credentials.json"
    assert creds.stat().st_mode & 0o777 == 0o600
    assert platform.lake_secret(node_layout, "lake", ["other"]) == first  # the same keys everywhere
    secrets = [d for d in yaml.safe_load_all(applied.read_text()) if d]
    assert [(s["metadata"]["namespace"], s["stringData"]) for s in secrets] == [
        ("mlta-system", first), ("crs", first), ("other", first)]


def test_helm_is_built_once_when_missing(tmp_path: Path, cache: Cache,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    helm_bin = cache.root / "bin" / "helm-v3.99.0" / "helm"
    script = fake_exe(tmp_path / "repo" / "scripts" / "build-helm.sh",
                      f'mkdir -p "{helm_bin.parent}" && touch "{helm_bin}"')
    monkeypatch.setattr(platform, "REPO", tmp_path / "repo")
    assert platform.helm() == str(helm_bin) and platform.helm() == str(helm_bin)
    assert len(script.calls()) == 1


@pytest.mark.parametrize("body", ["echo 'go: module lookup disabled' >&2; exit 1", "exit 0"],
                         ids=["fails", "builds-nothing"])
def test_a_helm_build_without_a_binary_is_an_error_naming_the_script(
        tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    fake_exe(tmp_path / "repo" / "scripts" / "build-helm.sh", body)
    monkeypatch.setattr(platform, "REPO", tmp_path / "repo")
    with pytest.raises(BackendError, match=r"scripts/build-helm.sh did not give a helm binary \(exit [01]\)"):
        platform.helm()


def test_a_failed_helm_command_names_it(cache: Cache, node_layout: NodeLayout) -> None:
    refused = "Error: INSTALLATION FAILED: cannot re-use a name that is still in use"
    helm = fake_exe(cache.root / "bin" / "helm-v3.99.0" / "helm", f"echo '{refused}' >&2; exit 1")
    with pytest.raises(BackendError, match=f"helm install mlta failed: {refused}"):
        platform.helm_run(node_layout, "install", "mlta", "charts/mlta")
    assert platform.helm_run(node_layout, "uninstall", "mlta", check=False).returncode == 1
    assert helm.calls() == [f"--kubeconfig={node_layout.kubeconfig} install mlta charts/mlta",
                            f"--kubeconfig={node_layout.kubeconfig} uninstall mlta"]
