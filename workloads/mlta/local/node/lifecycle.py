"""``node up|down|status``: bring the single node up, take it down, say how it is.

``up`` is idempotent and fails with the daemon's own log lines when something does not start;
``down`` stops every process of the node (everything in its mount namespace), then removes the
host objects ``hostnet`` made and the per-run state, and reports anything it could not undo.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ...errors import BackendError
from ..controlplane import REPO, pid_alive
from . import configs, hostnet, pki
from .layout import NODE_NAME, NodeLayout


def log(msg: str) -> None:
    print(f"[node] {msg}", flush=True)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise BackendError("the node needs root (network namespaces, cgroups, containerd)",
                           hint="run as root, e.g. sudo make node")


def ensure_built() -> None:
    """Host packages from Debian, then the binaries from Go modules (both cached)."""
    for script in ("setup-node.sh", "build-control-plane.sh", "build-node.sh"):
        res = subprocess.run(["bash", str(REPO / "scripts" / script)])
        if res.returncode != 0:
            raise BackendError(f"scripts/{script} failed (exit {res.returncode})",
                               hint="see its output above")


def supervisor_pid(layout: NodeLayout) -> int | None:
    return pid_alive(layout.supervisor_pid)


def apiserver_ready(layout: NodeLayout) -> bool:
    try:
        resp = httpx.get(f"{layout.server}/readyz", verify=str(layout.pki / "ca.crt"), timeout=2,
                         headers={"Authorization": f"Bearer {pki.token(layout, 'admin')}"})
        return resp.status_code == 200
    except (httpx.HTTPError, OSError):
        return False


def kubectl(layout: NodeLayout, *args: str, check: bool = True,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(layout.kubectl() + list(args), capture_output=True, text=True,
                         input=input_text)
    if check and res.returncode != 0:
        raise BackendError(f"kubectl {' '.join(args[:3])} failed: {res.stderr.strip()}")
    return res


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _start_supervisor(layout: NodeLayout) -> None:
    layout.logs.mkdir(parents=True, exist_ok=True)
    argv = ["nsenter", f"--net=/run/netns/{layout.netns}", "--",
            "unshare", "--mount", "--propagation", "slave", "--",
            sys.executable, "-m", "mlta.local.node.supervisor", str(layout.state_dir)]
    env = dict(os.environ, PYTHONPATH=str(REPO / "workloads"), PYTHONUNBUFFERED="1")
    with open(layout.logs / "supervisor.log", "ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
    layout.supervisor_pid.write_text(str(proc.pid))


def _wait_for(what: str, check: object, timeout: float, layout: NodeLayout) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        failed = layout.run_dir / "supervisor.failed"
        if supervisor_pid(layout) is None or failed.exists():
            raise BackendError(f"the node stopped while waiting for {what}:\n"
                               f"{_tail(layout.logs / 'supervisor.log')}",
                               hint=f"daemon logs in {layout.logs}")
        time.sleep(0.5)
    raise BackendError(f"{what} not ready after {timeout:.0f}s", hint=f"daemon logs in {layout.logs}")


def node_ready(layout: NodeLayout) -> bool:
    res = kubectl(layout, "get", "node", NODE_NAME, "-o", "json", check=False)
    if res.returncode != 0:
        return False
    conds = json.loads(res.stdout).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def up(layout: NodeLayout | None = None, *, build: bool = True, timeout: float = 180) -> NodeLayout:
    """Bring the node up (idempotent): namespaces, daemons, images, cluster DNS, Ready."""
    from . import addons

    layout = layout or NodeLayout()
    _require_root()
    if build:
        ensure_built()
    start = time.monotonic()
    if supervisor_pid(layout) is None:
        if hostnet.netns_exists(layout):
            log("a previous node did not stop cleanly: taking it down first")
            down(layout)
        shutil.rmtree(layout.run_dir, ignore_errors=True)
        layout.save()
        hostnet.create(layout)
        pki.ensure(layout)
        configs.write_all(layout)
        log(f"starting the node's daemons in network namespace {layout.netns} ({layout.node_ip})")
        _start_supervisor(layout)
    _wait_for("kube-apiserver", lambda: apiserver_ready(layout), timeout, layout)
    _wait_for("containerd", (layout.run_dir / "supervisor.ready").exists, timeout, layout)
    addons.import_images(layout, addons.node_images())
    _wait_for(f"node {NODE_NAME} Ready", lambda: node_ready(layout), timeout, layout)
    addons.install_dns(layout)
    _wait_for("cluster DNS", lambda: addons.dns_ready(layout), timeout, layout)
    log(f"node Ready with cluster DNS in {time.monotonic() - start:.0f}s; "
        f"export KUBECONFIG={layout.kubeconfig}")
    return layout


def namespace_pids(layout: NodeLayout) -> list[int]:
    """Processes in the node's mount namespace (the supervisor's), i.e. everything it runs."""
    pid = supervisor_pid(layout)
    inner = _supervisor_python(pid) if pid else None
    if inner is None:
        return []
    target = os.readlink(f"/proc/{inner}/ns/mnt")
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "mnt") == target:
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def _supervisor_python(pid: int) -> int | None:
    """nsenter execs unshare which execs python: the pid is the same process throughout."""
    try:
        os.readlink(f"/proc/{pid}/ns/mnt")
        return pid
    except OSError:
        return None


def memory_bytes(layout: NodeLayout) -> int:
    """Resident memory of every process of the node: daemons and shims (its mount namespace)
    and every pod's processes (its cgroups)."""
    total = 0
    for pid in set(namespace_pids(layout)) | hostnet.cgroup_pids(layout):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def down(layout: NodeLayout | None = None, timeout: float = 90) -> list[str]:
    """Stop everything the node runs and undo its host changes; returns what was left."""
    layout = layout or NodeLayout()
    _require_root()
    pid = supervisor_pid(layout)
    if pid is not None:
        log(f"stopping the node (supervisor pid {pid})")
        leftovers = namespace_pids(layout)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and supervisor_pid(layout) is not None:
            time.sleep(0.3)
        for p in leftovers + [pid]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        supervisor_pid(layout)  # reap
    layout.supervisor_pid.unlink(missing_ok=True)
    problems = hostnet.remove(layout)
    shutil.rmtree(layout.run_dir, ignore_errors=True)
    for problem in problems:
        log(f"could not undo: {problem}")
    log("node down; host changes undone" if not problems else "node down with leftovers")
    return problems


def status(layout: NodeLayout | None = None) -> dict[str, object]:
    layout = layout or NodeLayout()
    pid = supervisor_pid(layout)
    info: dict[str, object] = {"supervisor": pid, "netns": hostnet.netns_exists(layout),
                               "apiserver": bool(pid) and apiserver_ready(layout),
                               "server": layout.server, "kubeconfig": str(layout.kubeconfig)}
    if info["apiserver"]:
        info["node_ready"] = node_ready(layout)
        info["memory_mib"] = round(memory_bytes(layout) / 2**20)
    return info
