"""``make images``: the project's OCI images, built here without Docker and cached by content.

- base: Debian bookworm with python3.11 (venv), ca-certificates, wget and libgomp1, made by
  mmdebstrap; it stands in for the public ``python:3.11-slim-bookworm`` that the Dockerfiles
  default to (``BASE`` build arg).
- operator, ray, s3: ``images/<name>/Dockerfile`` built by buildah (chroot isolation, storage
  in ~/.cache/mlta/containers) from the repository as it is now, pushed to an OCI archive.
- pause, coredns, kuberay: one program each in a one-layer image (``mlta.local.oci``).

Each archive's file name carries a hash of everything that goes into it (Dockerfile, the
copied sources, the base), so an unchanged input is never rebuilt and a changed one always is.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackendError
from . import oci
from .controlplane import CACHE, K8S_VERSION, REPO

IMAGES = CACHE / "images"
STORAGE = CACHE / "containers"
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "wget", "libgomp1")
APP_VERSION = "0.1.0"
COREDNS_VERSION = os.environ.get("MLTA_COREDNS_VERSION", "v1.12.1")
KUBERAY_VERSION = os.environ.get("MLTA_KUBERAY_VERSION", "v1.4.0")
#: What the Dockerfiles copy (mirrors .dockerignore): their content is the cache key.
CONTEXT = ("pyproject.toml", "README.md", "workloads/mlta", "operator/mlta_operator", "config")
#: Per image, the part of the context its Dockerfile copies (the S3 image copies nothing,
#: so a source change must not rebuild it).
COPIES = {"operator": CONTEXT, "ray": CONTEXT, "s3": ()}


@dataclass(frozen=True)
class Image:
    name: str
    ref: str          # the name pods use (containerd's normalised form)
    archive: Path

    @property
    def repository(self) -> str:
        return self.ref.rsplit(":", 1)[0]


DOCKERFILE_REFS = {"operator": f"docker.io/mlta/operator:{APP_VERSION}",
                   "ray": f"docker.io/mlta/ray:{APP_VERSION}",
                   "s3": f"docker.io/mlta/s3:{APP_VERSION}"}


def log(msg: str) -> None:
    print(f"[images] {msg}", flush=True)


def _buildah(*args: str, quiet: bool = False) -> str:
    env = dict(os.environ, TMPDIR=str(STORAGE / "tmp"))
    (STORAGE / "tmp").mkdir(parents=True, exist_ok=True)
    cmd = ["buildah", "--root", str(STORAGE / "storage"), "--runroot", str(STORAGE / "run"),
           "--storage-driver", "overlay", *args]
    if args[0] == "bud":  # its network set-up would otherwise lock files in /etc/cni
        cmd[cmd.index("bud") + 1:cmd.index("bud") + 1] = [
            "--cni-config-dir", str(STORAGE / "cni"), "--network", "host"]
    res = subprocess.run(cmd, env=env, text=True, capture_output=quiet)
    if res.returncode != 0:
        detail = (res.stderr or "")[-3000:] if quiet else "see the output above"
        raise BackendError(f"buildah {args[0]} failed: {detail}",
                           hint="run scripts/setup-node.sh (buildah from Debian) and retry")
    return res.stdout or ""


def _hash_paths(h: hashlib._Hash, paths: list[Path]) -> None:
    for path in paths:
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and p.suffix != ".pyc" and not p.is_relative_to(REPO / "workloads" / "mlta" / "local"))
        for f in files:
            h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")


def base_key() -> str:
    return hashlib.sha256(f"{BASE_SUITE} {' '.join(BASE_PACKAGES)}".encode()).hexdigest()[:12]


def build_base() -> str:
    """The local base (mmdebstrap rootfs -> buildah image); returns its image name."""
    name = f"localhost/mlta-base:{base_key()}"
    have = _buildah("images", "--format", "{{.Name}}:{{.Tag}}", quiet=True).split()
    if name in have:
        return name
    rootfs = IMAGES / f"base-{base_key()}.rootfs.tar"
    if not rootfs.exists():
        log(f"making the base with mmdebstrap ({BASE_SUITE}: {', '.join(BASE_PACKAGES)})")
        excludes = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "locale")]
        res = subprocess.run(["mmdebstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES),
                              *excludes, "--format=tar", BASE_SUITE, str(rootfs) + ".tmp"],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise BackendError(f"mmdebstrap failed: {res.stderr[-2000:]}",
                               hint="needs root and Debian's package mirror")
        Path(str(rootfs) + ".tmp").rename(rootfs)
    ctr = _buildah("from", "scratch", quiet=True).strip()
    try:
        _buildah("add", ctr, str(rootfs), "/", quiet=True)
        _buildah("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "--cmd", "/bin/bash", ctr, quiet=True)
        _buildah("commit", "-q", ctr, name, quiet=True)
    finally:
        _buildah("rm", ctr, quiet=True)
    return name


def dockerfile_key(name: str) -> str:
    h = hashlib.sha256(base_key().encode())
    _hash_paths(h, [REPO / "images" / name / "Dockerfile", REPO / ".dockerignore"]
                + [REPO / c for c in COPIES[name]])
    return h.hexdigest()[:12]


WARM_COMMAND = [sys.executable, "-m", "mlta.jobs.warm"]


def kernel_cache_volume() -> list[str]:
    """Warm the host's feature-kernel cache (``python -m mlta.jobs.warm``, quick when it is)
    and lend it to the Ray image's build, whose warm step then copies this source digest's
    kernels instead of compiling them. A failed warm only means the build compiles them."""
    log("ray: the feature kernels' cache on the host (python -m mlta.jobs.warm)")
    done = subprocess.run(WARM_COMMAND, cwd=REPO)
    if done.returncode != 0:
        log(f"ray: warming the host's kernel cache failed ({done.returncode}); "
            "the image build compiles the kernels itself")
    root = CACHE / "numba"  # mlta.features.jit.cache_root(): the same cache_dir() rule
    root.mkdir(parents=True, exist_ok=True)
    return ["--volume", f"{root}:/run/mlta-kernel-cache:ro"]


def build_dockerfile(name: str) -> Image:
    ref = DOCKERFILE_REFS[name]
    archive = IMAGES / f"{name}-{dockerfile_key(name)}.oci.tar"
    image = Image(name, ref, archive)
    if archive.exists():
        log(f"{name}: cached {archive.name}")
        return image
    base = build_base()
    start = time.monotonic()
    log(f"{name}: buildah bud -f images/{name}/Dockerfile (BASE={base})")
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    ca_args = ["--volume", f"{ca}:/run/mlta-build-ca.crt:ro",
               "--build-arg", "PIP_CERT=/run/mlta-build-ca.crt"] if ca.exists() else []
    # One tag per image, never removed: its intermediate layers are buildah's layer cache (a
    # source change rebuilds only the layers after the dependencies).
    tag = f"localhost/mlta-build/{name}:latest"
    kernel_args = kernel_cache_volume() if name == "ray" else []
    _buildah("bud", "--isolation", "chroot", "--pull-never", "--layers", *ca_args, *kernel_args,
             "--build-arg", f"BASE={base}", "-f", str(REPO / "images" / name / "Dockerfile"),
             "-t", tag, str(REPO))
    tmp = archive.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _buildah("push", "-q", tag, f"oci-archive:{tmp}:{ref}", quiet=True)
    tmp.rename(archive)
    for old in IMAGES.glob(f"{name}-*.oci.tar"):
        if old != archive:
            old.unlink()
    log(f"{name}: built in {time.monotonic() - start:.0f}s, {archive.stat().st_size / 2**20:.0f} MiB")
    return image


def binary_images(names: tuple[str, ...] = ("pause", "coredns", "kuberay")) -> list[Image]:
    """pause, CoreDNS and the KubeRay operator, each its program in one layer."""
    k8s_bin = CACHE / "bin" / f"k8s-{K8S_VERSION}"
    specs = [
        ("pause", "registry.k8s.io/pause:3.10.1", k8s_bin / "pause", "/pause", "65535:65535"),
        ("coredns", f"registry.k8s.io/coredns/coredns:{COREDNS_VERSION}",
         CACHE / "bin" / f"coredns-{COREDNS_VERSION}" / "coredns", "/coredns", "0:0"),
        ("kuberay", f"quay.io/kuberay/operator:{KUBERAY_VERSION}",
         CACHE / "bin" / f"kuberay-{KUBERAY_VERSION}" / "kuberay", "/manager", "65532:65532"),
    ]
    out = []
    for name, ref, program, dest, user in specs:
        if name not in names:
            continue
        if not program.exists():
            raise BackendError(f"{program} is missing", hint="run scripts/build-node.sh")
        key = hashlib.sha256(ref.encode() + program.read_bytes()).hexdigest()[:12]
        archive = IMAGES / f"{name}-{key}.oci.tar"
        if not archive.exists():
            oci.write_image(archive, ref, {dest: program}, [dest], user=user)
            log(f"{name}: packed {program} as {ref}")
        out.append(Image(name, ref, archive))
    return out


def build_all(names: tuple[str, ...] = ("operator", "ray", "s3")) -> list[Image]:
    """Every image the node runs; writes images/index.json naming the current archives."""
    start = time.monotonic()
    images = binary_images() + [build_dockerfile(n) for n in names]
    index = {i.name: {"ref": i.ref, "archive": str(i.archive),
                      "mib": round(i.archive.stat().st_size / 2**20)} for i in images}
    (IMAGES / "index.json").write_text(json.dumps(index, indent=2))
    log(f"{len(images)} images ready in {time.monotonic() - start:.0f}s ({IMAGES})")
    return images


def current() -> list[Image]:
    """The images ``build_all`` last wrote (empty before the first build)."""
    try:
        index = json.loads((IMAGES / "index.json").read_text())
    except FileNotFoundError:
        return []
    return [Image(name, v["ref"], Path(v["archive"])) for name, v in index.items()
            if Path(v["archive"]).exists()]


def main() -> int:
    from ..errors import MltaError

    try:
        for image in build_all():
            print(f"{image.ref:48s} {image.archive}")
    except MltaError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
