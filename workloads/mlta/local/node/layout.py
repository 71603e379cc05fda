"""Where the node lives: its addresses, its network names, its private directories.

Everything the node writes stays under ``state_dir`` (default ``~/.cache/mlta/node``); the
only host objects are the ones ``hostnet`` creates and removes (a network namespace, a veth
pair, two routes) and the kubelet's cgroup subtree. Addresses are private-range networks that
exist only behind our veth pair, so traffic to them never leaves the machine.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from ..controlplane import CACHE, K8S_VERSION

NODE_NAME = "mlta-node"


def _net(var: str, default: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(os.environ.get(var, default))


#: MLTA_NODE_*_CIDR override them (read once, at import: the supervisor inherits them).
LINK_NET = _net("MLTA_NODE_LINK_CIDR", "10.213.0.0/30")
POD_NET = _net("MLTA_NODE_POD_CIDR", "10.213.128.0/24")
SERVICE_NET = _net("MLTA_NODE_SERVICE_CIDR", "10.213.64.0/24")


@dataclass(frozen=True)
class NodeLayout:
    """One single-node cluster: names, networks, directories and ports."""

    state_dir: Path = CACHE / "node"
    netns: str = os.environ.get("MLTA_NODE_NETNS", "mlta-node")
    host_veth: str = "mlta-h0"
    node_veth: str = "mlta-n0"
    link_net: ipaddress.IPv4Network = LINK_NET
    pod_net: ipaddress.IPv4Network = POD_NET
    service_net: ipaddress.IPv4Network = SERVICE_NET
    apiserver_port: int = 6443
    cgroup_root: str = "mlta-node"

    # -- addresses -------------------------------------------------------------------------
    @property
    def host_ip(self) -> str:
        return str(self.link_net.network_address + 1)

    @property
    def node_ip(self) -> str:
        return str(self.link_net.network_address + 2)

    @property
    def bridge_ip(self) -> str:
        return str(self.pod_net.network_address + 1)

    @property
    def kubernetes_service_ip(self) -> str:
        return str(self.service_net.network_address + 1)

    @property
    def dns_ip(self) -> str:
        return str(self.service_net.network_address + 10)

    @property
    def server(self) -> str:
        return f"https://{self.node_ip}:{self.apiserver_port}"

    # -- directories -----------------------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        return CACHE / "bin" / f"k8s-{K8S_VERSION}"

    @property
    def pki(self) -> Path:
        return self.state_dir / "pki"

    @property
    def run_dir(self) -> Path:
        """Per-run state (sockets, pids, kubelet dirs): removed by ``down``."""
        return self.state_dir / "run"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def containerd_root(self) -> Path:
        """Image content and snapshots: kept between runs as a cache of imported images."""
        return self.state_dir / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.run_dir / "containerd" / "containerd.sock"

    @property
    def etcd_data(self) -> Path:
        return self.run_dir / "etcd"

    @property
    def kubeconfig(self) -> Path:
        """The administrator's kubeconfig (user mlta-admin, group system:masters)."""
        return self.state_dir / "kubeconfig"

    @property
    def supervisor_pid(self) -> Path:
        return self.state_dir / "supervisor.pid"

    @property
    def host_record(self) -> Path:
        """What ``up`` changed on the host and how to undo it (read by ``down``)."""
        return self.state_dir / "host-changes.json"

    def kubectl(self) -> list[str]:
        return [str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}"]

    def save(self) -> None:
        """Write the layout next to the state, for the supervisor (and a later ``down``)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        doc = {f.name: str(getattr(self, f.name)) for f in fields(self)}
        (self.state_dir / "layout.json").write_text(json.dumps(doc, indent=2))

    @classmethod
    def load(cls, state_dir: Path) -> NodeLayout:
        doc = json.loads((state_dir / "layout.json").read_text())
        kinds = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for name, raw in doc.items():
            kind = str(kinds.get(name))
            if "IPv4Network" in kind:
                values[name] = ipaddress.IPv4Network(raw)
            elif kind in ("int", "<class 'int'>"):
                values[name] = int(raw)
            elif "Path" in kind:
                values[name] = Path(raw)
            else:
                values[name] = raw
        return cls(**values)  # type: ignore[arg-type]
