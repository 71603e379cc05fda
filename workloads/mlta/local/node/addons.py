"""What a bare node needs before workloads: its images in containerd, and cluster DNS.

Images are imported into containerd's ``k8s.io`` namespace from the OCI archives that
``mlta.local.images`` built (no registry anywhere); pods find them by name with
``imagePullPolicy: IfNotPresent`` or ``Never``. CoreDNS serves ``cluster.local`` only, with no
upstream: nothing a pod resolves is ever forwarded off the node.
"""

from __future__ import annotations

import json
import subprocess
import time

import yaml

from ...errors import BackendError
from .. import images as images_mod
from .layout import NodeLayout

DNS_NAMESPACE = "kube-system"
COREFILE = """.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    reload
}
"""


def log(msg: str) -> None:
    print(f"[node] {msg}", flush=True)


def node_images() -> list[images_mod.Image]:
    """pause and CoreDNS always; the project's images when ``make images`` built them."""
    base = images_mod.binary_images(("pause", "coredns"))
    return base + [i for i in images_mod.current() if i.name not in ("pause", "coredns")]


def _ctr(layout: NodeLayout, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ctr", "--address", str(layout.containerd_socket), "-n", "k8s.io", *args],
                          capture_output=True, text=True)


def present(layout: NodeLayout) -> dict[str, str]:
    """ref -> manifest digest of every image containerd has."""
    res = _ctr(layout, "images", "list")
    out = {}
    for line in res.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 3:
            out[cols[0]] = cols[2]
    return out


def import_images(layout: NodeLayout, wanted: list[images_mod.Image]) -> None:
    """Import each archive unless containerd already has that exact image."""
    have = present(layout)
    for image in wanted:
        digest = _archive_digest(image)
        if have.get(image.ref) == digest:
            continue
        start = time.monotonic()
        res = _ctr(layout, "images", "import", "--base-name", image.repository, str(image.archive))
        if res.returncode != 0 or image.ref not in present(layout):
            raise BackendError(f"importing {image.archive.name} as {image.ref} failed: "
                               f"{res.stderr.strip() or res.stdout.strip()}",
                               hint="rebuild it with `make images`")
        log(f"imported {image.ref} in {time.monotonic() - start:.1f}s")


def _archive_digest(image: images_mod.Image) -> str:
    import tarfile

    with tarfile.open(image.archive) as tar:
        member = tar.extractfile("index.json")
        index = json.loads(member.read()) if member else {}
    manifests = index.get("manifests") or [{}]
    return str(manifests[0].get("digest", ""))


def dns_manifests(layout: NodeLayout) -> list[dict[str, object]]:
    labels = {"k8s-app": "kube-dns"}
    image = images_mod.binary_images(("coredns",))[0].ref
    meta = {"name": "coredns", "namespace": DNS_NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "system:coredns"},
         "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
                    "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": DNS_NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"Corefile": COREFILE}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {**meta, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"serviceAccountName": "coredns", "dnsPolicy": "Default",
                      "priorityClassName": "system-cluster-critical",
                      "containers": [{
                          "name": "coredns", "image": image, "imagePullPolicy": "Never",
                          "args": ["-conf", "/etc/coredns/Corefile"],
                          "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                    {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}],
                          "resources": {"requests": {"cpu": "50m", "memory": "32Mi"},
                                        "limits": {"memory": "128Mi"}},
                          "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181},
                                             "periodSeconds": 2},
                          "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                          "securityContext": {"allowPrivilegeEscalation": False,
                                              "readOnlyRootFilesystem": True,
                                              "capabilities": {"drop": ["ALL"],
                                                               "add": ["NET_BIND_SERVICE"]}},
                          "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns"}]}],
                      "volumes": [{"name": "config", "configMap": {"name": "coredns"}}]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": DNS_NAMESPACE, "labels": labels},
         "spec": {"clusterIP": layout.dns_ip, "selector": labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}},
    ]


def install_dns(layout: NodeLayout) -> None:
    docs = yaml.safe_dump_all(dns_manifests(layout), sort_keys=False)
    res = subprocess.run(layout.kubectl() + ["apply", "-f", "-"], input=docs, capture_output=True,
                         text=True)
    if res.returncode != 0:
        raise BackendError(f"installing CoreDNS failed: {res.stderr.strip()}")


def dns_ready(layout: NodeLayout) -> bool:
    res = subprocess.run(layout.kubectl() + ["-n", DNS_NAMESPACE, "get", "deploy", "coredns", "-o",
                                             "jsonpath={.status.readyReplicas}"],
                         capture_output=True, text=True)
    return res.returncode == 0 and res.stdout.strip() == "1"
