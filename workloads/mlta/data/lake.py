"""The lake's layout, atomic version directories, and the Gold reader the trainer uses.

Layout under the storage root (file:// or s3://)::

    bronze/source=<src>/symbol=<S>/interval=<i>/date=<YYYY-MM-DD>/<batch>.parquet
    bronze/source=<src>/symbol=<S>/interval=<i>/_batches/<batch>.json      (batch manifests)
    silver/source=<src>/symbol=<S>/interval=<i>/<version>/{part-0.parquet,_manifest.json}
    gold/<namespace>/<pipeline>/<version>/{data/symbol=<S>/part-0.parquet,_manifest.json}

A Silver or Gold version is written into a hidden temporary directory and renamed into
place when complete; the manifest inside is the commit marker readers require. On stores
without directory rename (object stores) the files are copied and the manifest is written
last, so a version is either whole or invisible, never half there.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .. import storage
from ..errors import DataError, StorageError
from .manifest import MANIFEST_FILE, DatasetManifest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa
    import pyarrow.fs as pafs

TMP_PREFIX = ".tmp-"
GOLD_PART = "part-0.parquet"


def bronze_dir(root: str, source: str, symbol: str, interval: str) -> str:
    return storage.join(root, "bronze", f"source={source}", f"symbol={symbol}",
                        f"interval={interval}")


def silver_dir(root: str, source: str, symbol: str, interval: str) -> str:
    return storage.join(root, "silver", f"source={source}", f"symbol={symbol}",
                        f"interval={interval}")


def gold_dir(root: str, namespace: str, pipeline: str) -> str:
    return storage.join(root, "gold", namespace, pipeline)


def write_parquet(fs: pafs.FileSystem, path: str, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    parent = path.rsplit("/", 1)[0]
    fs.create_dir(parent, recursive=True)
    pq.write_table(table, path, filesystem=fs, compression="zstd")


def read_manifest(version_uri: str) -> DatasetManifest | None:
    """The committed manifest at ``version_uri``, or None when nothing is committed there.

    A temporary directory is never committed, even though its manifest is written last.
    """
    uri = storage.join(version_uri, MANIFEST_FILE)
    if version_uri.rstrip("/").rsplit("/", 1)[-1].startswith(TMP_PREFIX) or not storage.exists(uri):
        return None
    return DatasetManifest.model_validate(storage.read_json(uri))


#: Filesystems where moving a directory is one atomic rename.
RENAMING_FILESYSTEMS = ("local", "hdfs")


def _rename(fs: pafs.FileSystem, src: str, dst: str) -> None:
    """Move a directory into place: one rename; NotImplementedError on object stores."""
    if fs.type_name not in RENAMING_FILESYSTEMS:
        raise NotImplementedError(f"{fs.type_name} cannot rename directories")
    fs.move(src, dst)


def _copy_commit(fs: pafs.FileSystem, src: str, dst: str) -> None:
    """Commit by copying for stores without directory rename: data first, manifest last."""
    import pyarrow.fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(src, recursive=True))
    files = [i.path for i in infos if i.type == pafs.FileType.File]
    manifest = f"{src}/{MANIFEST_FILE}"
    for path in sorted(files, key=lambda p: p == manifest):
        target = dst + path[len(src):]
        fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
        fs.copy_file(path, target)
    fs.delete_dir(src)


class VersionWriter:
    """A version directory being written: files go to a temp dir until :meth:`commit`."""

    def __init__(self, parent_uri: str) -> None:
        self.parent_uri = parent_uri
        self.fs, self.parent_path = storage.resolve(parent_uri)
        self.tmp_name = f"{TMP_PREFIX}{uuid.uuid4().hex}"
        self.tmp_path = f"{self.parent_path}/{self.tmp_name}"
        #: Where parallel writers (Ray tasks) put their files before the commit.
        self.tmp_uri = storage.join(parent_uri, self.tmp_name)
        self.committed = False

    def write_table(self, relpath: str, table: pa.Table) -> None:
        try:
            write_parquet(self.fs, f"{self.tmp_path}/{relpath}", table)
        except OSError as exc:
            raise StorageError(f"writing {self.parent_uri}/{relpath} failed: {exc}",
                               hint="check the storage URI and permissions") from exc

    def commit(self, manifest: DatasetManifest) -> DatasetManifest:
        """Publish the temp dir as ``manifest.version``; an existing version wins (idempotent)."""
        final_uri = storage.join(self.parent_uri, manifest.version)
        existing = read_manifest(final_uri)
        if existing is not None:
            self.abort()
            self.committed = True
            return existing
        final_path = f"{self.parent_path}/{manifest.version}"
        try:
            storage.write_json_atomic(
                storage.join(self.tmp_uri, MANIFEST_FILE),
                manifest.model_dump(mode="json"),
            )
            try:
                _rename(self.fs, self.tmp_path, final_path)
            except NotImplementedError:
                _copy_commit(self.fs, self.tmp_path, final_path)
        except OSError as exc:
            existing = read_manifest(final_uri)  # a concurrent writer committed it first
            if existing is None:
                raise StorageError(f"committing {final_uri} failed: {exc}",
                                   hint="check the storage URI and permissions") from exc
            self.abort()
            manifest = existing
        self.committed = True
        return manifest

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.fs.delete_dir(self.tmp_path)


def sweep_stale_temp(parent_uri: str, older_than_seconds: float = 6 * 3600) -> list[str]:
    """Delete temp dirs under ``parent_uri`` left by killed writers; returns their names.

    A temp dir counts as stale when none of its files changed for ``older_than_seconds``,
    long enough that no live writer still owns it.
    """
    import time

    import pyarrow.fs as pafs

    fs, parent = storage.resolve(parent_uri)
    try:
        entries = fs.get_file_info(pafs.FileSelector(parent, allow_not_found=True))
    except OSError:
        return []
    cutoff = time.time() - older_than_seconds
    removed = []
    for entry in entries:
        name = entry.path.rsplit("/", 1)[-1]
        if entry.type != pafs.FileType.Directory or not name.startswith(TMP_PREFIX):
            continue
        infos = fs.get_file_info(pafs.FileSelector(entry.path, recursive=True))
        stamps = [i.mtime.timestamp() for i in infos if i.mtime is not None]
        if entry.mtime is not None:
            stamps.append(entry.mtime.timestamp())
        if max(stamps, default=0.0) < cutoff:
            with contextlib.suppress(OSError):
                fs.delete_dir(entry.path)
                removed.append(name)
    return removed


@contextlib.contextmanager
def version_writer(parent_uri: str) -> Iterator[VersionWriter]:
    """A :class:`VersionWriter` whose temp dir is removed unless it was committed."""
    writer = VersionWriter(parent_uri)
    try:
        yield writer
    finally:
        if not writer.committed:
            writer.abort()


def read_table(uri: str, columns: list[str] | None = None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs, path = storage.resolve(uri)
    try:
        return pq.read_table(path, filesystem=fs, columns=columns)
    except FileNotFoundError as exc:
        raise DataError(f"{uri} does not exist", hint="the dataset is incomplete; rebuild it",
                        reason="NotFound") from exc
    except pa.ArrowInvalid as exc:
        raise DataError(f"{uri} is corrupt: {exc}", hint="rebuild the dataset") from exc


def read_dataset(uri: str, verify: bool = False) -> tuple[pd.DataFrame, DatasetManifest]:
    """A Gold version (``uri`` = its directory) as one frame, and its manifest.

    The frame has ``symbol``, ``open_time``, ``close_time`` (UTC), OHLCV and the
    ``manifest.feature_columns`` (float64), sorted by symbol then close_time. ``verify``
    recomputes the content hash and raises DataError when the files do not match it.
    """
    import pyarrow as pa

    from .manifest import combine_hashes, content_hash

    manifest = read_manifest(uri)
    if manifest is None:
        raise DataError(f"no committed dataset at {uri}",
                        hint="use the datasetUri a DataPipeline reported; an uncommitted or "
                             "interrupted write is never readable", reason="NotFound")
    if manifest.layer != "gold":
        raise DataError(f"{uri} is a {manifest.layer} dataset, not gold",
                        hint="pass a Gold version directory")
    tables = [read_table(storage.join(uri, rel)) for rel in manifest.files]
    if verify:
        actual = combine_hashes([f"{symbol}:{content_hash(t)}"
                                 for symbol, t in zip(manifest.symbols, tables, strict=True)])
        if actual != manifest.content_hash:
            raise DataError(f"{uri}: content hash {actual[:12]} does not match the manifest's "
                            f"{manifest.content_hash[:12]}", hint="the files were modified; "
                            "rebuild the dataset")
    if tables:
        frame = pa.concat_tables(tables).to_pandas()
    else:
        import pandas as pd

        frame = pd.DataFrame({c.name: [] for c in manifest.columns})
    missing = [c for c in manifest.feature_columns if c not in frame.columns]
    if missing:
        raise DataError(f"{uri}: feature columns {missing} are missing from the data files",
                        hint="rebuild the dataset")
    frame = frame.sort_values(["symbol", "close_time"], kind="stable").reset_index(drop=True)
    return frame, manifest
