"""A small catalog of the lake: which datasets exist, their versions, the latest one.

It reads committed manifests only (a Silver/Gold ``_manifest.json`` or a Bronze batch
manifest), so versions still being written or left behind by a crashed job never appear.
Dataset names are paths under the root: ``gold/<namespace>/<pipeline>``,
``silver/source=<s>/symbol=<S>/interval=<i>``, ``bronze/source=<s>/symbol=<S>/interval=<i>``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .. import storage
from ..errors import DataError, StorageError
from .bronze import BATCHES
from .lake import TMP_PREFIX
from .manifest import MANIFEST_FILE, DatasetManifest, TimeRange

LAYERS = ("bronze", "silver", "gold")


class VersionInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    uri: str
    created_at: datetime
    rows: int
    symbols: list[str]
    time_range: TimeRange


class DatasetInfo(BaseModel):
    """One dataset and its versions, oldest first."""

    model_config = ConfigDict(extra="forbid")

    layer: str
    name: str
    versions: list[VersionInfo]

    @property
    def latest(self) -> VersionInfo | None:
        return self.versions[-1] if self.versions else None


def _manifest_files(root: str, layer: str) -> list[str]:
    import pyarrow.fs as pafs

    fs, base = storage.resolve(storage.join(root, layer))
    try:
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    except OSError as exc:
        raise StorageError(f"listing {root}/{layer} failed: {exc}") from exc
    found = []
    for info in infos:
        if info.type != pafs.FileType.File:
            continue
        rel = info.path[len(base):].strip("/")
        parts = rel.split("/")
        if any(p.startswith(TMP_PREFIX) or p.startswith(".") for p in parts):
            continue
        if parts[-1] == MANIFEST_FILE or (len(parts) >= 2 and parts[-2] == BATCHES
                                          and parts[-1].endswith(".json")):
            found.append(rel)
    return found


def list_manifests(root: str, layer: str | None = None) -> list[DatasetManifest]:
    """Every committed dataset version's manifest (in one layer or all)."""
    layers = [layer] if layer else list(LAYERS)
    for name in layers:
        if name not in LAYERS:
            raise DataError(f"unknown lake layer {name!r}", hint=f"use one of {LAYERS}")
    out = []
    for name in layers:
        for rel in _manifest_files(root, name):
            payload = storage.read_json(storage.join(root, name, rel))
            out.append(DatasetManifest.model_validate(payload))
    return out


def list_datasets(root: str, layer: str | None = None) -> list[DatasetInfo]:
    """Datasets with their versions (oldest first), sorted by layer and name."""
    grouped: dict[tuple[str, str], list[DatasetManifest]] = {}
    for manifest in list_manifests(root, layer):
        grouped.setdefault((manifest.layer, manifest.name), []).append(manifest)
    out = []
    for (lay, name), manifests in sorted(grouped.items()):
        manifests.sort(key=lambda m: (m.created_at, m.version))
        out.append(DatasetInfo(layer=lay, name=name, versions=[
            VersionInfo(version=m.version, uri=m.uri, created_at=m.created_at, rows=m.rows,
                        symbols=m.symbols, time_range=m.time_range) for m in manifests]))
    return out


def list_versions(root: str, name: str) -> list[DatasetManifest]:
    """Manifests of one dataset's versions, oldest first; ``name`` as in :func:`list_datasets`."""
    layer = name.split("/", 1)[0]
    if layer not in LAYERS:
        raise DataError(f"dataset name {name!r} does not start with a layer",
                        hint="e.g. gold/<namespace>/<pipeline>")
    found = [m for m in list_manifests(root, layer) if m.name == name]
    return sorted(found, key=lambda m: (m.created_at, m.version))


def latest_version(root: str, name: str) -> DatasetManifest | None:
    versions = list_versions(root, name)
    return versions[-1] if versions else None
