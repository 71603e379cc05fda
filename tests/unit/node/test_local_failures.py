"""The embedded default's set-up when something is wrong or already there: ``python -m mlta.local``
(up, cluster, reset), the control plane's start and stop, the CRD install, the operator process.

Binaries are fake executables in the test's cache (kubectl, etcd, kube-apiserver) or first on
PATH (go); a running API server and Ray dashboard are real HTTP(S) servers on ports the kernel
picked; pid files name real processes the test started. Nothing here starts the real control
plane, Ray or the operator.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tests.support.ray_cluster import free_port
from tests.unit.node.hostfakes import (
    NO_PID,
    Cache,
    Fake,
    Procs,
    Request,
    alive,
    fake_exe,
    gone,
    needs_openssl,
    self_signed,
    serving,
)

from mlta.errors import BackendError
from mlta.local import __main__ as cli
from mlta.local import controlplane, crds, operator_proc, rayhead
from mlta.local.controlplane import ControlPlane


def _cp(tmp_path: Path, apiserver_port: int | None = None) -> ControlPlane:
    cp = ControlPlane(state_dir=tmp_path / "cluster", etcd_port=free_port(),
                      apiserver_port=apiserver_port or free_port())
    cp.state_dir.mkdir(parents=True, exist_ok=True)
    return cp


def _established(names: list[str], not_yet: tuple[str, ...] = ()) -> str:
    """``kubectl get crd -o json`` as the API server answers it."""
    return json.dumps({"items": [{"metadata": {"name": n}, "status": {"conditions": [
        {"type": "NamesAccepted", "status": "True"},
        {"type": "Established", "status": "False" if n in not_yet else "True"}]}} for n in names]})


def _kubectl(cache: Cache, get_crd_json: str, refuse_apply: bool = False) -> Fake:
    """kubectl answering ``get crd`` with ``get_crd_json``; its apply succeeds or is refused."""
    answer = cache.root / "crds.json"
    cache.root.mkdir(parents=True, exist_ok=True)
    answer.write_text(get_crd_json)
    apply = ("echo 'error: the server could not find the requested resource' >&2; exit 1" if refuse_apply
             else "exit 0")
    return fake_exe(cache.k8s_bin / "kubectl", f"""case "$*" in
  *" get crd -o json") cat "{answer}";;
  *" apply "*) {apply};;
  *) exit 1;;
esac""")


@needs_openssl
def test_up_against_a_running_control_plane_ray_and_operator_starts_nothing_new(
        tmp_path: Path, cache: Cache, ray_home: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "cluster"
    etcd = fake_exe(cache.k8s_bin / "etcd", "exit 1")
    apiserver = fake_exe(cache.k8s_bin / "kube-apiserver", "exit 1")
    names = [yaml.safe_load(f.read_text())["metadata"]["name"] for f in crds.mlta_crd_files()]
    kubectl = _kubectl(cache, _established(names))
    operator = procs.sleeper()
    state.mkdir(parents=True)
    (state / "operator.pid").write_text(str(operator.pid))

    def readyz(req: Request) -> tuple[int, str]:
        token = (state / "token").read_text().strip()
        return (200, "ok") if req.headers.get("authorization") == f"Bearer {token}" else (401, "")

    def ray_version(req: Request) -> tuple[int, str]:
        token = rayhead.TOKEN_FILE.read_text().strip()
        return (200, "{}") if req.headers.get("authorization") == f"Bearer {token}" else (401, "")

    with serving(readyz, tls=self_signed(tmp_path)) as api, serving(ray_version) as ray:
        monkeypatch.setattr(controlplane, "ControlPlane", functools.partial(
            ControlPlane, state_dir=state, etcd_port=free_port(), apiserver_port=api.port))
        monkeypatch.setattr(rayhead, "DASHBOARD_PORT", ray.port)
        assert cli.main(["up", "--no-kuberay-crds"]) == 0
    out = capsys.readouterr().out
    assert f"API server already running at https://127.0.0.1:{api.port}" in out
    assert "installing 3 CRDs" in out and "Ray already running" in out
    assert "operator already running" in out
    assert etcd.calls() == [] and apiserver.calls() == []  # nothing was started again
    assert [r.path for r in api.requests] == ["/readyz"] and ray.requests[0].path == "/api/version"
    apply, *gets = kubectl.calls()
    assert "apply --server-side --force-conflicts" in apply
    assert all(f"-f {f}" in apply for f in crds.mlta_crd_files())
    assert gets and all(g.endswith("get crd -o json") for g in gets)
    assert (state / "operator.pid").read_text() == str(operator.pid) and alive(operator.pid)


@needs_openssl
def test_cluster_reports_an_etcd_that_exits_during_start_up(
        tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_exe(cache.k8s_bin / "etcd", 'echo "listen tcp 127.0.0.1:2379: bind: address already in use" >&2\n'
                                     "exit 1")
    fake_exe(cache.k8s_bin / "kube-apiserver", "exec sleep 60")
    fake_exe(cache.k8s_bin / "kubectl")
    cp = _cp(tmp_path)
    monkeypatch.setattr(controlplane, "ControlPlane", lambda: cp)
    try:
        assert cli.main(["cluster"]) == 1
    finally:
        apiserver_pid = int((cp.state_dir / "kube-apiserver.pid").read_text())
        controlplane.stop(cp)
    err = capsys.readouterr().err
    assert err.startswith("error: etcd exited during start-up:")
    assert "bind: address already in use" in err and f"see {cp.state_dir / 'etcd.log'}" in err
    assert not alive(apiserver_pid) and not (cp.state_dir / "kube-apiserver.pid").exists()


def test_a_failed_binary_build_is_an_error_naming_the_script(
        tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    fake_exe(tmp_path / "repo" / "scripts" / "build-control-plane.sh",
             "echo 'go: cannot reach the module proxy' >&2; exit 2")
    monkeypatch.setattr(controlplane, "REPO", tmp_path / "repo")
    cp = _cp(tmp_path)
    monkeypatch.setattr(controlplane, "ControlPlane", lambda: cp)
    assert cli.main(["cluster"]) == 1
    err = capsys.readouterr().err
    assert "error: scripts/build-control-plane.sh failed (exit 2)" in err and "Go module proxy" in err
    assert not (cp.state_dir / "etcd.pid").exists()  # nothing started without binaries


def test_binaries_are_built_once_then_reused(tmp_path: Path, cache: Cache,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    script = fake_exe(tmp_path / "repo" / "scripts" / "build-control-plane.sh",
                      f'mkdir -p "{cache.k8s_bin}" && touch ' + " ".join(
                          f'"{cache.k8s_bin / b}"' for b in ("etcd", "kube-apiserver", "kubectl")))
    monkeypatch.setattr(controlplane, "REPO", tmp_path / "repo")
    cp = _cp(tmp_path)
    controlplane.ensure_binaries(cp)
    controlplane.ensure_binaries(cp)
    assert len(script.calls()) == 1 and (cp.bin_dir / "kube-apiserver").exists()


def test_reset_stops_etcd_and_forgets_its_data(tmp_path: Path, procs: Procs, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cp = _cp(tmp_path)
    etcd = procs.sleeper()
    (cp.state_dir / "etcd.pid").write_text(str(etcd.pid))
    (cp.state_dir / "kube-apiserver.pid").write_text(str(NO_PID))  # already gone
    (cp.state_dir / "etcd-data" / "member").mkdir(parents=True)
    (cp.state_dir / "etcd-data" / "member" / "db").write_bytes(b"objects")
    monkeypatch.setattr(controlplane, "ControlPlane", lambda: cp)
    assert cli.main(["reset"]) == 0
    out = capsys.readouterr().out
    assert f"stopping etcd (pid {etcd.pid})" in out and "stopping kube-apiserver" not in out
    assert not alive(etcd.pid) and not (cp.state_dir / "etcd.pid").exists()
    assert not (cp.state_dir / "etcd-data").exists()


@pytest.mark.parametrize(("stop", "pid_name"), [(controlplane.stop, "kube-apiserver.pid"),
                                                (operator_proc.stop, "operator.pid")])
def test_stop_kills_a_process_that_ignores_sigterm(tmp_path: Path, procs: Procs,
                                                   stop: Callable[..., None], pid_name: str) -> None:
    cp = _cp(tmp_path)
    stubborn = procs.sleeper(ignore_term=True)
    (cp.state_dir / pid_name).write_text(str(stubborn.pid))
    stop(cp, timeout=0.3)
    assert gone(stubborn.pid), "SIGKILL follows when SIGTERM is ignored past the timeout"
    assert not (cp.state_dir / pid_name).exists()


@needs_openssl
def test_start_keeps_a_live_etcd_and_gives_up_on_an_api_server_that_never_answers(
        tmp_path: Path, cache: Cache, procs: Procs) -> None:
    etcd_bin = fake_exe(cache.k8s_bin / "etcd", "exit 1")
    apiserver_bin = fake_exe(cache.k8s_bin / "kube-apiserver", "exec sleep 60")
    fake_exe(cache.k8s_bin / "kubectl")
    cp = _cp(tmp_path)
    etcd = procs.sleeper()
    (cp.state_dir / "etcd.pid").write_text(str(etcd.pid))
    try:
        with pytest.raises(BackendError, match=r"kube-apiserver not ready after 0.5s") as caught:
            controlplane.start(cp, timeout=0.5)
    finally:
        controlplane.stop(cp, timeout=5)
    assert caught.value.hint == f"see {cp.state_dir / 'kube-apiserver.log'}"
    assert etcd_bin.calls() == []  # the running etcd was kept, not started twice
    (call,) = apiserver_bin.calls()
    assert f"--secure-port={cp.apiserver_port}" in call
    assert f"--etcd-servers=http://127.0.0.1:{cp.etcd_port}" in call


def test_kuberay_crds_need_the_go_module(on_path: Callable[[str, str], Fake]) -> None:
    go = on_path("go", "echo 'go: reading https://proxy.golang.org: 403 Forbidden' >&2; exit 1")
    with pytest.raises(BackendError, match=r"cannot download github.com/ray-project/kuberay/ray-operator@"
                                           r"v\d.*403 Forbidden") as caught:
        crds.kuberay_crd_files()
    assert caught.value.hint == "check the Go toolchain and the Go module proxy"
    assert go.calls() == [f"mod download -json {crds.KUBERAY_MODULE}@{crds.KUBERAY_VERSION}"]


def test_no_generated_crds_says_run_make_crds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "crds").mkdir()
    monkeypatch.setattr(crds, "REPO", tmp_path)
    with pytest.raises(BackendError, match="no CRDs in crds/") as caught:
        crds.mlta_crd_files()
    assert caught.value.hint == "run `make crds`"


def test_a_refused_apply_names_kubectls_error(tmp_path: Path, cache: Cache) -> None:
    _kubectl(cache, _established([]), refuse_apply=True)
    with pytest.raises(BackendError, match="kubectl apply failed: error: the server could not find"):
        crds.apply(_cp(tmp_path), [tmp_path / "x.yaml"])


def test_crds_that_never_become_established_are_named(tmp_path: Path, cache: Cache) -> None:
    names = ["datapipelines.mlta.io", "rayjobs.ray.io"]
    kubectl = _kubectl(cache, _established(names, not_yet=("rayjobs.ray.io",)))
    # 2 s: long enough for a second poll (0.3 s apart) when a fake kubectl call is slow
    with pytest.raises(BackendError, match=r"CRDs not established after 2.0s: \['rayjobs.ray.io'\]"):
        crds.wait_established(_cp(tmp_path), names, timeout=2.0)
    assert len(kubectl.calls()) >= 2  # polled until the deadline, not asked once
