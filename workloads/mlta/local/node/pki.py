"""The node's certificates, tokens and kubeconfigs, made with the openssl command line.

One CA signs the API server's serving certificate (SANs: the node IP, the ``kubernetes``
Service IP and names), the kubelet's serving certificate, and the client certificate the API
server presents to the kubelet (logs, exec). Components authenticate with static tokens named
the way Kubernetes' bootstrap RBAC and the Node authorizer expect (``system:node:<name>`` in
``system:nodes``, ``system:kube-controller-manager``, ...), so the real authorizers run.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
from pathlib import Path

from ...errors import BackendError
from .layout import NODE_NAME, NodeLayout

#: component -> (user, groups) of its static token.
IDENTITIES: dict[str, tuple[str, str]] = {
    "admin": ("mlta-admin", "system:masters"),
    "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
    "controller-manager": ("system:kube-controller-manager", ""),
    "scheduler": ("system:kube-scheduler", ""),
    "proxy": ("system:kube-proxy", ""),
}


def _openssl(*args: str) -> None:
    res = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise BackendError(f"openssl {args[0]} failed: {res.stderr.strip()}",
                           hint="the node needs openssl 3 (Debian bookworm's)")


def _key(path: Path) -> None:
    if not path.exists():
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
        path.chmod(0o600)


def _cert(pki: Path, name: str, subject: str, sans: list[str], usage: str) -> None:
    crt = pki / f"{name}.crt"
    if crt.exists():
        return
    _key(pki / f"{name}.key")
    ext = [f"extendedKeyUsage={usage}", "basicConstraints=critical,CA:FALSE",
           "keyUsage=critical,digitalSignature,keyEncipherment"]
    if sans:
        ext.append("subjectAltName=" + ",".join(sans))
    args = ["req", "-x509", "-new", "-key", str(pki / f"{name}.key"), "-subj", subject,
            "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"), "-days", "3650",
            "-out", str(crt)]
    for e in ext:
        args += ["-addext", e]
    _openssl(*args)


def ensure(layout: NodeLayout) -> None:
    """Create whatever of the PKI and tokens is missing (idempotent)."""
    pki = layout.pki
    pki.mkdir(parents=True, exist_ok=True)
    if not (pki / "ca.crt").exists():
        _key(pki / "ca.key")
        _openssl("req", "-x509", "-new", "-key", str(pki / "ca.key"), "-subj", "/CN=mlta-node-ca",
                 "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(pki / "ca.crt"))
    svc = ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
           "kubernetes.default.svc.cluster.local"]
    _cert(pki, "apiserver", "/CN=kube-apiserver",
          [f"IP:{layout.node_ip}", f"IP:{layout.kubernetes_service_ip}", "IP:127.0.0.1"]
          + [f"DNS:{n}" for n in svc], "serverAuth")
    _cert(pki, "kubelet", f"/CN={NODE_NAME}", [f"IP:{layout.node_ip}", f"DNS:{NODE_NAME}"], "serverAuth")
    _cert(pki, "apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client", [],
          "clientAuth")
    _key(pki / "sa.key")
    if not (pki / "sa.pub").exists():
        _openssl("pkey", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
    tokens = pki / "tokens.csv"
    if not tokens.exists():
        lines = []
        for component, (user, groups) in IDENTITIES.items():
            token = secrets.token_hex(16)
            (pki / f"{component}.token").write_text(token)
            lines.append(f'{token},{user},{user},"{groups}"' if groups else f"{token},{user},{user}")
        tokens.write_text("\n".join(lines) + "\n")
        tokens.chmod(0o600)
    for component in IDENTITIES:
        target = layout.kubeconfig if component == "admin" else pki / f"{component}.kubeconfig"
        write_kubeconfig(layout, target, component)


def token(layout: NodeLayout, component: str) -> str:
    return (layout.pki / f"{component}.token").read_text().strip()


def write_kubeconfig(layout: NodeLayout, path: Path, component: str) -> None:
    ca = base64.b64encode((layout.pki / "ca.crt").read_bytes()).decode()
    user = IDENTITIES[component][0]
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: mlta-node
  cluster:
    server: {layout.server}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    token: {token(layout, component)}
contexts:
- name: mlta-node
  context: {{cluster: mlta-node, user: {user}, namespace: default}}
current-context: mlta-node
""")
    path.chmod(0o600)
