"""The node's only changes to the host, each recorded before it is made and undone by ``down``.

- a network namespace (``ip netns add``) and a veth pair joining it to the host, with one
  address on each end and host routes to the pod and Service networks through the node;
- the kubelet's cgroup subtree ``/<cgroup_root>`` in every cgroup hierarchy;
- the host-wide kernel sysctls the kubelet tunes (``vm.overcommit_memory``, ``kernel.panic``,
  ...): their values before ``up`` are restored.

Everything else the node touches (iptables, the pod bridge, ip_forward, conntrack) lives inside
its network namespace and disappears with it; its mounts live in a private mount namespace.
``snapshot`` captures what a test compares before ``up`` and after ``down``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ...errors import BackendError
from .layout import NodeLayout

#: Host-wide sysctls the kubelet sets when protectKernelDefaults is off (not per netns).
KERNEL_SYSCTLS = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
                  "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes")
CGROUP_BASE = Path("/sys/fs/cgroup")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and res.returncode != 0:
        raise BackendError(f"ip {' '.join(args)} failed: {res.stderr.strip()}",
                           hint="the node needs root and iproute2")
    return res


def netns_exists(layout: NodeLayout) -> bool:
    return Path("/run/netns", layout.netns).exists()


def cgroup_dirs(layout: NodeLayout) -> list[Path]:
    """The node's cgroup root in every mounted hierarchy (v1 controllers, named, unified)."""
    if not CGROUP_BASE.is_dir():
        return []
    return [h / layout.cgroup_root for h in sorted(CGROUP_BASE.iterdir())
            if h.is_dir() and not h.is_symlink()]


def create(layout: NodeLayout) -> None:
    """Namespace, veth pair, addresses, routes, cgroup roots; records sysctls first."""
    record = {"sysctls": {k: Path("/proc/sys", k).read_text().strip() for k in KERNEL_SYSCTLS
                          if Path("/proc/sys", k).exists()}}
    layout.state_dir.mkdir(parents=True, exist_ok=True)
    if not layout.host_record.exists():  # a second `up` must not overwrite the originals
        layout.host_record.write_text(json.dumps(record, indent=2))
    plen = layout.link_net.prefixlen
    if not netns_exists(layout):
        _ip("netns", "add", layout.netns)
    ns = ["-n", layout.netns]
    if _ip("link", "show", layout.host_veth, check=False).returncode != 0:
        _ip("link", "add", layout.host_veth, "type", "veth", "peer", "name", layout.node_veth,
            "netns", layout.netns)
        _ip("addr", "add", f"{layout.host_ip}/{plen}", "dev", layout.host_veth)
        _ip(*ns, "addr", "add", f"{layout.node_ip}/{plen}", "dev", layout.node_veth)
    _ip("link", "set", layout.host_veth, "up")
    _ip(*ns, "link", "set", "lo", "up")
    _ip(*ns, "link", "set", layout.node_veth, "up")
    # No default route inside the node: a packet to any address outside the node's own
    # networks and the host end of the veth is refused there, never sent.
    for net in (layout.pod_net, layout.service_net):
        _ip("route", "replace", str(net), "via", layout.node_ip, "dev", layout.host_veth)
    for d in cgroup_dirs(layout):
        d.mkdir(exist_ok=True)


def cgroup_pids(layout: NodeLayout) -> set[int]:
    """Every process in the node's cgroup subtree: pod sandboxes and containers, which live in
    mount and PID namespaces of their own, so only their cgroup finds them all."""
    pids: set[int] = set()
    for root in cgroup_dirs(layout):
        if not root.exists():
            continue
        for procs in root.rglob("cgroup.procs"):
            try:
                pids.update(int(line) for line in procs.read_text().split())
            except (OSError, ValueError):
                continue
    return pids


def kill_cgroup_processes(layout: NodeLayout, timeout: float = 30) -> set[int]:
    """SIGKILL everything in the node's cgroups until they are empty; returns survivors."""
    import os
    import signal
    import time

    deadline = time.monotonic() + timeout
    while (pids := cgroup_pids(layout)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return cgroup_pids(layout)


def _rmdir_tree(root: Path) -> list[str]:
    """Remove a cgroup subtree bottom-up (cgroup dirs go with rmdir, not unlink)."""
    left: list[str] = []
    if not root.exists():
        return left
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                    reverse=True) + [root]:
        try:
            d.rmdir()
        except OSError as exc:
            left.append(f"{d}: {exc.strerror}")
    return left


def remove(layout: NodeLayout) -> list[str]:
    """Undo ``create``; returns what could not be undone (empty when the host is clean)."""
    problems: list[str] = []
    for net in (layout.pod_net, layout.service_net):
        _ip("route", "del", str(net), check=False)
    if _ip("link", "show", layout.host_veth, check=False).returncode == 0:
        _ip("link", "del", layout.host_veth, check=False)
    if netns_exists(layout):
        res = _ip("netns", "del", layout.netns, check=False)
        if res.returncode != 0:
            problems.append(f"netns {layout.netns}: {res.stderr.strip()}")
    survivors = kill_cgroup_processes(layout)
    if survivors:
        problems.append(f"processes {sorted(survivors)} would not die")
    for d in cgroup_dirs(layout):
        problems += _rmdir_tree(d)
    if layout.host_record.exists():
        record = json.loads(layout.host_record.read_text())
        for key, value in record.get("sysctls", {}).items():
            path = Path("/proc/sys", key)
            if path.read_text().strip() != value:
                path.write_text(value + "\n")
        layout.host_record.unlink()
    return problems


def snapshot(layout: NodeLayout) -> dict[str, Any]:
    """The host state the node may touch, in a form two calls can compare with ``==``."""
    def out(*cmd: str) -> list[str]:
        res = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
        return sorted(line for line in res.stdout.splitlines()
                      if line.strip() and not line.startswith("#"))

    iptables = [line for line in out("iptables-save") if not line.startswith(":")]
    mounts = sorted({line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()})
    return {
        "links": [line.split("@")[0] for line in out("ip", "-o", "-br", "link")],
        "addresses": out("ip", "-o", "-br", "addr"),
        "routes": out("ip", "route"),
        "netns": out("ip", "netns", "list"),
        "iptables": iptables,
        "mounts": mounts,
        "cgroups": sorted(str(p) for h in CGROUP_BASE.iterdir() if h.is_dir()
                          for p in h.iterdir() if p.is_dir()) if CGROUP_BASE.is_dir() else [],
        "sysctls": {k: Path("/proc/sys", k).read_text().strip() for k in KERNEL_SYSCTLS
                    + ("net/ipv4/ip_forward",) if Path("/proc/sys", k).exists()},
        "paths": sorted(p for p in ("/var/lib/kubelet", "/var/lib/cni", "/var/log/pods",
                                    "/var/log/containers", "/etc/cni", "/opt/cni", "/run/containerd",
                                    "/var/lib/containerd", "/etc/kubernetes", "/run/flannel",
                                    "/usr/libexec/kubernetes") if Path(p).exists()),
    }
