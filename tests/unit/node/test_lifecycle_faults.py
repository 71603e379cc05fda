"""``node up|down|status`` and the host changes behind them, when something is wrong.

Nothing here changes the host: ``ip``, ``nsenter`` and ``mount`` are fakes first on PATH (the
``host`` fixture), the cgroup hierarchies a tree in tmp, kubectl a fake in the test's cache.
Where the node's network namespace must "exist", its name is an absolute path to a file of the
test's own (``/run/netns/<name>`` joined with an absolute name is that path). The node's
addresses are loopback ones (127.0.0.2) and its supervisor, where one runs, is a process the
test started.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.unit.node.hostfakes import (
    NO_PID,
    Cache,
    Fake,
    Host,
    Procs,
    Request,
    fake_exe,
    needs_openssl,
    serving,
)

from mlta.errors import BackendError
from mlta.local import __main__ as cli
from mlta.local.node import hostnet, lifecycle, pki
from mlta.local.node.layout import NODE_NAME, NodeLayout


def _stale_netns(tmp_path: Path, layout: NodeLayout) -> NodeLayout:
    """The layout with a network namespace that looks left behind by an earlier node."""
    mount_point = tmp_path / "netns" / layout.netns
    mount_point.parent.mkdir(parents=True)
    mount_point.touch()
    return dataclasses.replace(layout, netns=str(mount_point))


def _sysctls() -> dict[str, str]:
    return {k: Path("/proc/sys", k).read_text().strip() for k in hostnet.KERNEL_SYSCTLS
            if Path("/proc/sys", k).exists()}


def test_node_up_as_a_user_says_it_needs_root(node_layout: NodeLayout, host: Host,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(lifecycle, "NodeLayout", lambda: node_layout)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert cli.main(["node", "up"]) == 1
    assert capsys.readouterr().err == ("error: the node needs root (network namespaces, cgroups, "
                                       "containerd) (run as root, e.g. sudo make node)\n")
    assert host.ip.calls() == [] and not node_layout.state_dir.exists()


def test_a_failing_setup_script_stops_up_before_any_host_change(
        tmp_path: Path, node_layout: NodeLayout, host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    scripts = tmp_path / "repo" / "scripts"
    setup = fake_exe(scripts / "setup-node.sh", "echo 'E: Unable to locate package containerd'; exit 3")
    later = [fake_exe(scripts / s) for s in ("build-control-plane.sh", "build-node.sh")]
    monkeypatch.setattr(lifecycle, "REPO", tmp_path / "repo")
    with pytest.raises(BackendError, match=r"scripts/setup-node.sh failed \(exit 3\)") as caught:
        lifecycle.up(node_layout)
    assert caught.value.hint == "see its output above"
    assert len(setup.calls()) == 1 and [f.calls() for f in later] == [[], []]
    assert host.ip.calls() == [] and not node_layout.state_dir.exists()


@needs_openssl
def test_up_takes_a_stale_node_down_first_and_reports_a_supervisor_that_dies(
        tmp_path: Path, node_layout: NodeLayout, host: Host, on_path: Callable[[str, str], Fake],
        capsys: pytest.CaptureFixture[str]) -> None:
    layout = _stale_netns(tmp_path, node_layout)
    (host.cgroups / "cpu").mkdir()
    on_path("ip", 'case "$*" in "link show"*) exit 1;; esac')  # no veth yet
    nsenter = on_path("nsenter", f'echo "nsenter: cannot open /run/netns/{layout.netns}: Invalid argument"'
                                 "; exit 1")
    with pytest.raises(BackendError, match="the node stopped while waiting for kube-apiserver:\n"
                                           "nsenter: cannot open") as caught:
        lifecycle.up(layout, build=False, timeout=30)
    assert caught.value.hint == f"daemon logs in {layout.logs}"
    assert "a previous node did not stop cleanly: taking it down first" in capsys.readouterr().out
    calls = host.ip.calls()
    assert calls.index(f"netns del {layout.netns}") < calls.index(
        f"link add {layout.host_veth} type veth peer name {layout.node_veth} netns {layout.netns}")
    assert json.loads(layout.host_record.read_text()) == {"sysctls": _sysctls()}
    assert (host.cgroups / "cpu" / layout.cgroup_root).is_dir()
    assert NodeLayout.load(layout.state_dir) == layout
    assert nsenter.calls() == [f"--net=/run/netns/{layout.netns} -- unshare --mount --propagation slave -- "
                               f"{sys.executable} -m mlta.local.node.supervisor {layout.state_dir}"]


def test_waiting_on_a_supervisor_that_never_gets_ready_failed_or_vanished(
        node_layout: NodeLayout, host: Host, procs: Procs) -> None:
    layout = node_layout
    layout.run_dir.mkdir(parents=True)
    layout.supervisor_pid.write_text(str(procs.sleeper().pid))
    with pytest.raises(BackendError, match=r"kube-apiserver not ready after 1s") as caught:
        lifecycle.up(layout, build=False, timeout=0.6)
    assert caught.value.hint == f"daemon logs in {layout.logs}"

    (layout.run_dir / "supervisor.failed").write_text("kube-apiserver exited with 1")
    layout.logs.mkdir()
    (layout.logs / "supervisor.log").write_text("".join(f"line {i}\n" for i in range(1, 31)))
    with pytest.raises(BackendError, match="stopped while waiting for kube-apiserver") as caught:
        lifecycle.up(layout, build=False)
    assert caught.value.message.endswith("\n" + "\n".join(f"line {i}" for i in range(6, 31)))

    assert host.ip.calls() == []  # a node that runs (or claims to) is never set up again

    layout.supervisor_pid.write_text(str(NO_PID))  # it died before it wrote a line
    (layout.logs / "supervisor.log").unlink()
    with pytest.raises(BackendError, match="stopped while waiting for containerd:\n\\(no log\\)"):
        lifecycle._wait_for("containerd", lambda: False, 30, layout)


def test_kubectl_failures_name_the_command_and_a_missing_node_is_not_ready(
        cache: Cache, node_layout: NodeLayout) -> None:
    fake_exe(cache.k8s_bin / "kubectl",
             f"echo 'Error from server (NotFound): nodes \"{NODE_NAME}\" not found' >&2; exit 1")
    with pytest.raises(BackendError, match=f'kubectl get node {NODE_NAME} failed: Error from server '
                                           r'\(NotFound\)'):
        lifecycle.kubectl(node_layout, "get", "node", NODE_NAME, "-o", "json")
    assert lifecycle.node_ready(node_layout) is False


@needs_openssl
def test_status_of_a_running_node_reports_readiness_and_memory(
        cache: Cache, node_layout: NodeLayout, host: Host, procs: Procs) -> None:
    pki.ensure(node_layout)
    admin = pki.token(node_layout, "admin")
    node = {"status": {"conditions": [{"type": "MemoryPressure", "status": "False"},
                                      {"type": "Ready", "status": "True"}]}}
    fake_exe(cache.k8s_bin / "kubectl", f"echo '{json.dumps(node)}'")

    def readyz(req: Request) -> tuple[int, str]:
        return (200, "ok") if req.headers.get("authorization") == f"Bearer {admin}" else (401, "")

    with serving(readyz, host=node_layout.node_ip,
                 tls=(node_layout.pki / "apiserver.crt", node_layout.pki / "apiserver.key")) as api:
        layout = dataclasses.replace(node_layout, apiserver_port=api.port)
        supervisor = procs.sleeper()
        layout.supervisor_pid.write_text(str(supervisor.pid))
        own_rss = _rss(os.getpid())  # this test runs in the supervisor's (our) mount namespace
        info = lifecycle.status(layout)
    assert info["supervisor"] == supervisor.pid and info["apiserver"] is True
    assert info["node_ready"] is True and info["netns"] is False
    assert isinstance(info["memory_mib"], int) and info["memory_mib"] >= int(0.8 * own_rss / 2**20)


def _rss(pid: int) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_memory_counts_pod_processes_found_by_cgroup(node_layout: NodeLayout, host: Host,
                                                    procs: Procs) -> None:
    pod = procs.sleeper()
    pod_cgroup = host.cgroups / "memory" / node_layout.cgroup_root / "pod-1"
    pod_cgroup.mkdir(parents=True)
    (pod_cgroup / "cgroup.procs").write_text(f"{pod.pid}\n{NO_PID}\n")  # one of them already gone
    node_layout.state_dir.mkdir(parents=True)
    node_layout.supervisor_pid.write_text(str(NO_PID))
    assert lifecycle.namespace_pids(node_layout) == []  # no supervisor: no daemons
    # The sleep's pages are still faulting in right after its exec: its RSS only grows.
    before = _rss(pod.pid)
    counted = lifecycle.memory_bytes(node_layout)
    assert before <= counted <= _rss(pod.pid)
    assert lifecycle._supervisor_python(NO_PID) is None
    assert lifecycle._supervisor_python(pod.pid) == pod.pid


def test_node_down_reports_what_it_could_not_undo(
        tmp_path: Path, node_layout: NodeLayout, host: Host, on_path: Callable[[str, str], Fake],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    layout = _stale_netns(tmp_path, node_layout)
    layout.run_dir.mkdir(parents=True)
    layout.supervisor_pid.write_text(str(NO_PID))  # the supervisor died earlier
    busy = "Cannot remove namespace file: Device or resource busy"
    ip = on_path("ip", f'case "$*" in "netns del"*) echo "{busy}" >&2; exit 1;; esac')
    cpu = host.cgroups / "cpu" / layout.cgroup_root
    cpu.mkdir(parents=True)
    (cpu / "cgroup.procs").write_text("")  # a plain directory keeps its files: rmdir fails
    (host.cgroups / "memory").mkdir()        # a hierarchy the node never made its root in
    monkeypatch.setattr(lifecycle, "NodeLayout", lambda: layout)
    assert cli.main(["node", "down"]) == 1
    out = capsys.readouterr().out
    assert f"could not undo: netns {layout.netns}: {busy}" in out
    assert f"could not undo: {cpu}: Directory not empty" in out and "node down with leftovers" in out
    assert ip.calls() == [f"route del {layout.pod_net}", f"route del {layout.service_net}",
                          f"link show {layout.host_veth}", f"link del {layout.host_veth}",
                          f"netns del {layout.netns}"]
    assert not layout.supervisor_pid.exists() and not layout.run_dir.exists()


def test_a_failing_ip_command_stops_create_after_recording_the_host(
        node_layout: NodeLayout, host: Host, on_path: Callable[[str, str], Fake]) -> None:
    (host.cgroups / "cpu").mkdir()
    ip = on_path("ip", 'echo "mount --make-shared /run/netns failed: Operation not permitted" >&2; exit 1')
    with pytest.raises(BackendError, match=f"ip netns add {node_layout.netns} failed: mount --make-shared "
                                           "/run/netns failed: Operation not permitted") as caught:
        hostnet.create(node_layout)
    assert caught.value.hint == "the node needs root and iproute2"
    assert json.loads(node_layout.host_record.read_text()) == {"sysctls": _sysctls()}
    assert ip.calls() == [f"netns add {node_layout.netns}"]
    assert not (host.cgroups / "cpu" / node_layout.cgroup_root).exists()


def test_cgroup_pids_read_every_hierarchy_and_skip_what_is_unreadable(
        node_layout: NodeLayout, host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    root = node_layout.cgroup_root
    for rel, procs in ((f"cpu/{root}", "11\n12\n"), (f"cpu/{root}/pod-a", "13\n"), (f"pids/{root}", "n/a\n")):
        (host.cgroups / rel).mkdir(parents=True)
        (host.cgroups / rel / "cgroup.procs").write_text(procs)
    (host.cgroups / "memory").mkdir()  # no node root in it
    (host.cgroups / "cpuacct").symlink_to(host.cgroups / "cpu")  # v1's co-mounted aliases
    assert hostnet.cgroup_dirs(node_layout) == [host.cgroups / h / root for h in ("cpu", "memory", "pids")]
    assert hostnet.cgroup_pids(node_layout) == {11, 12, 13}
    monkeypatch.setattr(hostnet, "CGROUP_BASE", host.cgroups / "absent")  # no cgroupfs at all
    assert hostnet.cgroup_dirs(node_layout) == [] and hostnet.cgroup_pids(node_layout) == set()
