"""Configuration files of the node's daemons, written into its private state directory.

The settings that matter on this machine kind (found by experiment, see the project's notes):
cgroup v1 with the cgroupfs driver; no CAP_SYS_RESOURCE, so containerd must not raise
``oom_score_adj`` (``restrict_oom_score_adj``); no AppArmor; network namespaces of pods kept
under containerd's own state directory; runc's state and every socket under ``run_dir``.
kube-proxy is told to leave the host-wide conntrack sysctls alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .layout import NODE_NAME, NodeLayout

PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
CNI_BIN_DIR = "/usr/lib/cni"


def containerd_toml(layout: NodeLayout) -> str:
    run = layout.run_dir / "containerd"
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{layout.containerd_root}"
state = "{run / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.internal.v1.tracing"]
[grpc]
  address = "{layout.containerd_socket}"
[ttrpc]
  address = "{run / 'ttrpc.sock'}"
[plugins."io.containerd.internal.v1.opt"]
  path = "{run / 'opt'}"
[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  max_container_log_line_size = 16384
  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{run / 'runc'}"
  [{cri}.cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{layout.run_dir / 'cni' / 'net.d'}"
"""


def cni_conflist(layout: NodeLayout) -> dict[str, object]:
    """A Linux bridge with host-local IPAM (state under run_dir) and port maps."""
    return {
        "cniVersion": "1.0.0",
        "name": "mlta",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": False,
             "hairpinMode": True,
             "ipam": {"type": "host-local", "dataDir": str(layout.run_dir / "cni" / "ipam"),
                      "ranges": [[{"subnet": str(layout.pod_net), "gateway": layout.bridge_ip}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(layout: NodeLayout) -> dict[str, object]:
    pki = layout.pki
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "cgroupRoot": "/" + layout.cgroup_root,
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "address": layout.node_ip,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "tlsCertFile": str(pki / "kubelet.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet.key"),
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": str(pki / "ca.crt")}},
        "authorization": {"mode": "Webhook"},
        "clusterDomain": "cluster.local",
        "clusterDNS": [layout.dns_ip],
        "resolvConf": str(layout.run_dir / "resolv.conf"),
        "podLogsDir": str(layout.run_dir / "pod-logs"),
        "volumePluginDir": str(layout.run_dir / "volume-plugins"),
        "maxPods": 40,
        "serializeImagePulls": False,
        "evictionHard": {"memory.available": "300Mi", "nodefs.available": "3%",
                         "imagefs.available": "3%"},
        "imageGCHighThresholdPercent": 97,
        "imageGCLowThresholdPercent": 95,
        "registerNode": True,
        "shutdownGracePeriod": "0s",
    }


def kube_proxy_config(layout: NodeLayout) -> dict[str, object]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(layout.pki / "proxy.kubeconfig")},
        "hostnameOverride": NODE_NAME,
        "clusterCIDR": str(layout.pod_net),
        "bindAddress": layout.node_ip,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # 0 = leave nf_conntrack_max and the TCP timeouts as they are (host-wide sysctls).
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                      "tcpCloseWaitTimeout": "0s"},
    }


def write_all(layout: NodeLayout) -> None:
    """Write every config file; run_dir is fresh for each ``up``."""
    run = layout.run_dir
    for sub in ("containerd", "cni/net.d", "cni/ipam", "pod-logs", "volume-plugins", "kubelet"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    (run / "containerd" / "config.toml").write_text(containerd_toml(layout))
    (run / "cni" / "net.d" / "10-mlta.conflist").write_text(json.dumps(cni_conflist(layout), indent=2))
    # Pods resolve through cluster DNS only: no upstream resolver, nothing leaves the node.
    (run / "resolv.conf").write_text("# mlta node: cluster DNS only\n")
    _yaml(run / "kubelet.yaml", kubelet_config(layout))
    _yaml(run / "kube-proxy.yaml", kube_proxy_config(layout))


def _yaml(path: Path, doc: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
