"""Install CRDs into the local API server: mlta's (generated, in crds/) and KubeRay's.

KubeRay's CRDs come from the KubeRay Go module itself (``go mod download``), so RayJob and
RayService objects made by the kuberay backend are validated by the real API server against
the real schema, not a copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ..errors import BackendError
from .controlplane import REPO, ControlPlane, log

KUBERAY_MODULE = "github.com/ray-project/kuberay/ray-operator"
KUBERAY_VERSION = os.environ.get("MLTA_KUBERAY_VERSION", "v1.4.0")
KUBERAY_CRDS = ("ray.io_rayclusters.yaml", "ray.io_rayjobs.yaml", "ray.io_rayservices.yaml")


def kuberay_crd_files() -> list[Path]:
    """Download the KubeRay module (Go module cache) and return its CRD files."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{KUBERAY_MODULE}@{KUBERAY_VERSION}"],
        check=False, capture_output=True, text=True, cwd="/tmp",
        env=dict(os.environ, GOFLAGS="-mod=mod"),
    )
    if out.returncode != 0:
        raise BackendError(f"cannot download {KUBERAY_MODULE}@{KUBERAY_VERSION}: {out.stderr}",
                           hint="check the Go toolchain and the Go module proxy")
    root = Path(json.loads(out.stdout)["Dir"]) / "config" / "crd" / "bases"
    return [root / name for name in KUBERAY_CRDS]


def mlta_crd_files() -> list[Path]:
    files = sorted((REPO / "crds").glob("*.yaml"))
    if not files:
        raise BackendError("no CRDs in crds/", hint="run `make crds`")
    return files


def apply(cp: ControlPlane, files: list[Path]) -> None:
    # Server-side apply: KubeRay's CRDs exceed the client-side last-applied annotation limit.
    args = cp.kubectl() + ["apply", "--server-side", "--force-conflicts"]
    for f in files:
        args += ["-f", str(f)]
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise BackendError(f"kubectl apply failed: {res.stderr.strip()}")


def wait_established(cp: ControlPlane, names: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        res = subprocess.run(cp.kubectl() + ["get", "crd", "-o", "json"], capture_output=True, text=True)
        items = json.loads(res.stdout).get("items", []) if res.returncode == 0 else []
        ready = {
            crd["metadata"]["name"] for crd in items
            if any(c.get("type") == "Established" and c.get("status") == "True"
                   for c in (crd.get("status") or {}).get("conditions") or [])
        }
        pending = [n for n in pending if n not in ready]
        if pending:
            time.sleep(0.3)
    if pending:
        raise BackendError(f"CRDs not established after {timeout}s: {pending}")


def install_all(cp: ControlPlane, with_kuberay: bool = True) -> None:
    files = mlta_crd_files()
    if with_kuberay:
        files += kuberay_crd_files()
    log(f"installing {len(files)} CRDs (mlta + KubeRay {KUBERAY_VERSION})")
    apply(cp, files)
    names = [f.name.removeprefix("ray.io_").removesuffix(".yaml") + ".ray.io"
             if f.name.startswith("ray.io_") else f.name.removesuffix(".yaml") for f in files]
    wait_established(cp, names)
