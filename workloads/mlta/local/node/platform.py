"""The production path's pieces, installed on the node the way a user installs them anywhere.

- KubeRay: its CRDs and its own kustomize manifests (config/rbac + config/manager) from the
  KubeRay Go module at the version whose CRDs the project installs, with the operator image
  built here from that module (``quay.io/kuberay/operator:<version>``, present on the node);
- an S3 endpoint in the cluster (``images/s3``: moto's server) and a Secret with the lake's
  credentials and endpoint in each namespace that needs it;
- the mlta chart with ``helm install``, values from a file.

Everything waits for its Deployment to become Available and fails with the pods' own words.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from pathlib import Path

import yaml

from ...errors import BackendError
from .. import crds
from ..controlplane import CACHE, REPO
from .layout import NodeLayout

KUBERAY_NAMESPACE = "kuberay-system"
S3_NAMESPACE = "mlta-s3"
S3_PORT = 5000
RESTRICTED = "pod-security.kubernetes.io/enforce=restricted"


def log(msg: str) -> None:
    print(f"[node] {msg}", flush=True)


def kubectl(layout: NodeLayout, *args: str, input_text: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(layout.kubectl() + list(args), capture_output=True, text=True,
                         input=input_text)
    if check and res.returncode != 0:
        raise BackendError(f"kubectl {' '.join(args[:4])} failed: {res.stderr.strip()}")
    return res


def apply_docs(layout: NodeLayout, docs: list[dict[str, object]]) -> None:
    kubectl(layout, "apply", "-f", "-", input_text=yaml.safe_dump_all(docs, sort_keys=False))


def namespace(layout: NodeLayout, name: str, labels: tuple[str, ...] = ()) -> None:
    """Create a namespace (idempotent) with PodSecurity or other labels."""
    apply_docs(layout, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name, "labels": dict(label.split("=", 1) for label in labels)}}])


def wait_available(layout: NodeLayout, ns: str, deployment: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = kubectl(layout, "-n", ns, "get", "deploy", deployment, "-o", "json", check=False)
        if res.returncode == 0:
            conds = json.loads(res.stdout).get("status", {}).get("conditions", [])
            if any(c["type"] == "Available" and c["status"] == "True" for c in conds):
                return
        time.sleep(1)
    pods = kubectl(layout, "-n", ns, "get", "pods", "-o", "wide", check=False).stdout
    events = kubectl(layout, "-n", ns, "get", "events", "--sort-by=.lastTimestamp", check=False).stdout
    raise BackendError(f"deployment {ns}/{deployment} not Available after {timeout:.0f}s:\n{pods}\n"
                       f"{events[-3000:]}{node_problems(layout)}")


def node_problems(layout: NodeLayout) -> str:
    """The node's taints and the pressure conditions it reports, for an error message.

    A pod that stays Pending with "untolerated taint(s)" says nothing of which: on a host whose
    disk is nearly full the kubelet taints its node ``disk-pressure`` (evictionHard in
    configs.py), and this names it and the kubelet's own message.
    """
    res = kubectl(layout, "get", "nodes", "-o", "json", check=False)
    if res.returncode != 0:
        return ""
    lines = []
    for node in json.loads(res.stdout).get("items", []):
        name = node["metadata"]["name"]
        for taint in node.get("spec", {}).get("taints") or []:
            lines.append(f"node {name} taint {taint['key']}:{taint.get('effect', '')}")
        for cond in node.get("status", {}).get("conditions") or []:
            if cond["type"] != "Ready" and cond.get("status") == "True":
                lines.append(f"node {name} {cond['type']}: {cond.get('message', '')}")
    return "".join(f"\n{line}" for line in lines)


def kuberay_module_dir() -> Path:
    files = crds.kuberay_crd_files()
    return files[0].parents[3]


def install_kuberay(layout: NodeLayout) -> None:
    """KubeRay's CRDs (server-side apply: they are large) and operator, from its Go module."""
    kubectl(layout, "apply", "--server-side", "--force-conflicts",
            *[arg for f in crds.kuberay_crd_files() for arg in ("-f", str(f))])
    namespace(layout, KUBERAY_NAMESPACE)
    overlay = layout.run_dir / "kuberay"
    overlay.mkdir(parents=True, exist_ok=True)
    config = kuberay_module_dir() / "config"
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "namespace": KUBERAY_NAMESPACE,
        "resources": [os.path.relpath(config / d, overlay) for d in ("rbac", "manager")],
        "images": [{"name": "kuberay/operator", "newName": "quay.io/kuberay/operator",
                    "newTag": crds.KUBERAY_VERSION}],
    }))
    rendered = kubectl(layout, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(overlay))
    kubectl(layout, "apply", "-f", "-", input_text=rendered.stdout)
    wait_available(layout, KUBERAY_NAMESPACE, "kuberay-operator")
    log(f"KubeRay operator {crds.KUBERAY_VERSION} Available in {KUBERAY_NAMESPACE}")


def s3_endpoint() -> str:
    return f"http://mlta-s3.{S3_NAMESPACE}.svc.cluster.local:{S3_PORT}"


def install_s3(layout: NodeLayout, bucket: str, image: str = "docker.io/mlta/s3:0.1.0") -> str:
    """The S3 server in a restricted namespace; creates ``bucket``; returns the Service IP."""
    namespace(layout, S3_NAMESPACE, (RESTRICTED,))
    labels = {"app.kubernetes.io/name": "mlta-s3"}
    apply_docs(layout, [
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "mlta-s3", "namespace": S3_NAMESPACE, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"automountServiceAccountToken": False,
                      "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                          "seccompProfile": {"type": "RuntimeDefault"}},
                      "containers": [{
                          "name": "s3", "image": image, "imagePullPolicy": "Never",
                          "ports": [{"name": "s3", "containerPort": S3_PORT}],
                          "readinessProbe": {"tcpSocket": {"port": S3_PORT}, "periodSeconds": 2},
                          "resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                                        "limits": {"memory": "1Gi"}},
                          "securityContext": {"allowPrivilegeEscalation": False,
                                              "readOnlyRootFilesystem": True,
                                              "capabilities": {"drop": ["ALL"]}},
                          "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
                      "volumes": [{"name": "tmp", "emptyDir": {}}]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "mlta-s3", "namespace": S3_NAMESPACE, "labels": labels},
         "spec": {"selector": labels, "ports": [{"name": "s3", "port": S3_PORT, "targetPort": "s3"}]}},
    ])
    wait_available(layout, S3_NAMESPACE, "mlta-s3")
    ip = kubectl(layout, "-n", S3_NAMESPACE, "get", "svc", "mlta-s3", "-o",
                 "jsonpath={.spec.clusterIP}").stdout.strip()
    import httpx

    # The Service IP lives behind the node's veth (a network this project made).
    deadline = time.monotonic() + 60
    while True:
        try:
            resp = httpx.put(f"http://{ip}:{S3_PORT}/{bucket}", timeout=5)
            if resp.status_code in (200, 409):
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise BackendError(f"S3 server at {ip}:{S3_PORT} did not create bucket {bucket}")
        time.sleep(1)
    log(f"S3 endpoint {s3_endpoint()} ({ip}) with bucket {bucket}")
    return ip


def lake_secret(layout: NodeLayout, name: str, namespaces: list[str]) -> dict[str, str]:
    """One set of lake credentials, stored as a Secret ``name`` in each namespace."""
    creds_file = layout.state_dir / "lake-credentials.json"
    if creds_file.exists():
        data: dict[str, str] = json.loads(creds_file.read_text())
    else:
        data = {"AWS_ACCESS_KEY_ID": "mlta" + secrets.token_hex(6),
                "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(24),
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": s3_endpoint()}
        creds_file.write_text(json.dumps(data))
        creds_file.chmod(0o600)
    apply_docs(layout, [{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                         "metadata": {"name": name, "namespace": ns}, "stringData": data}
                        for ns in namespaces])
    return data


def helm() -> str:
    found = sorted(CACHE.glob("bin/helm-*/helm"))
    if not found:
        res = subprocess.run(["bash", str(REPO / "scripts" / "build-helm.sh")])
        found = sorted(CACHE.glob("bin/helm-*/helm"))
        if res.returncode != 0 or not found:
            raise BackendError(f"scripts/build-helm.sh did not give a helm binary (exit {res.returncode})",
                               hint=f"see its output above; it builds into {CACHE}/bin/helm-<version>")
    return str(found[-1])


def helm_run(layout: NodeLayout, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([helm(), f"--kubeconfig={layout.kubeconfig}", *args], capture_output=True,
                         text=True)
    if check and res.returncode != 0:
        raise BackendError(f"helm {' '.join(args[:2])} failed: {res.stderr.strip()}")
    return res
