"""Write a one-layer OCI image archive from files on disk (no builder, no registry).

For the node's single-program images (pause, CoreDNS, the KubeRay operator): the program and
a few files in one uncompressed layer, timestamps zeroed so the same inputs give the same
digest. ``ctr images import`` reads the archive; ``io.containerd.image.name`` names it.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def _blob(out: tarfile.TarFile, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    out.addfile(info, io.BytesIO(data))
    return f"sha256:{digest}", len(data)


def _layer(files: dict[str, Path | bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for dest in sorted(files):
            parts = dest.strip("/").split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            src = files[dest]
            data = src.read_bytes() if isinstance(src, Path) else src
            info = tarfile.TarInfo(dest.strip("/"))
            info.size = len(data)
            info.mode = 0o755 if isinstance(src, Path) else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_image(archive: Path, ref: str, files: dict[str, Path | bytes], entrypoint: list[str],
                user: str = "65532:65532", env: list[str] | None = None) -> str:
    """Write ``archive`` (OCI layout in a tar) holding one image named ``ref``; return its digest."""
    layer = _layer(files)
    config: dict[str, Any] = {
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": entrypoint, "User": user,
                   "Env": env or ["PATH=/usr/local/bin:/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    }
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as out:
        layer_digest, layer_size = _blob(out, layer)
        cfg_digest, cfg_size = _blob(out, json.dumps(config, sort_keys=True).encode())
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                    "config": {"mediaType": CONFIG, "digest": cfg_digest, "size": cfg_size},
                    "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": layer_size}]}
        man_digest, man_size = _blob(out, json.dumps(manifest, sort_keys=True).encode())
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": MANIFEST, "digest": man_digest, "size": man_size,
            "annotations": {"io.containerd.image.name": ref,
                            "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]}}]}
        for name, doc in (("index.json", index), ("oci-layout", {"imageLayoutVersion": "1.0.0"})):
            data = json.dumps(doc).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    tmp.rename(archive)
    return man_digest
