"""Storage through pyarrow filesystems: the same code for file:// paths and s3:// buckets.

Writes are atomic: data goes to a temporary sibling name first and is renamed into place
(on object stores, where rename is a copy, the final object appears whole or not at all),
so a killed job never leaves half a file behind.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from .errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow.fs as pafs


def join(uri: str, *parts: str) -> str:
    """Join URI path segments with single slashes."""
    out = uri.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it for ``uri`` (file://, s3:// or a path)."""
    import pyarrow.fs as pafs

    if "://" not in uri:
        uri = "file://" + uri
    try:
        fs, path = pafs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as exc:
        raise StorageError(f"cannot open storage {uri!r}: {exc}",
                           hint="use file:///absolute/path or s3://bucket/prefix") from exc
    return fs, path


def exists(uri: str) -> bool:
    import pyarrow.fs as pafs

    fs, path = resolve(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def write_bytes_atomic(uri: str, data: bytes) -> None:
    """Write ``data`` to ``uri`` via a temporary name and a rename."""
    fs, path = resolve(uri)
    parent = path.rsplit("/", 1)[0]
    tmp = f"{parent}/.tmp-{uuid.uuid4().hex}-{path.rsplit('/', 1)[-1]}"
    try:
        fs.create_dir(parent, recursive=True)
        with fs.open_output_stream(tmp) as out:
            out.write(data)
        fs.move(tmp, path)
    except OSError as exc:
        try:
            fs.delete_file(tmp)
        except OSError:
            pass
        raise StorageError(f"writing {uri} failed: {exc}", hint="check the path and permissions") from exc


def read_bytes(uri: str) -> bytes:
    fs, path = resolve(uri)
    try:
        with fs.open_input_stream(path) as src:
            return bytes(src.read())
    except FileNotFoundError as exc:
        raise StorageError(f"{uri} does not exist", hint="check the URI", reason="NotFound") from exc
    except OSError as exc:
        raise StorageError(f"reading {uri} failed: {exc}") from exc


def write_json_atomic(uri: str, payload: Any) -> None:
    write_bytes_atomic(uri, json.dumps(payload, indent=2, sort_keys=True, default=str).encode())


def read_json(uri: str) -> Any:
    try:
        return json.loads(read_bytes(uri))
    except json.JSONDecodeError as exc:
        raise StorageError(f"{uri} is not valid JSON: {exc}", reason="CorruptFile") from exc
