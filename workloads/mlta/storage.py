"""Storage through pyarrow filesystems: the same code for file:// paths and s3:// buckets.

Writes are atomic: data goes to a temporary sibling name first and is renamed into place
(on object stores, where rename is a copy, the final object appears whole or not at all),
so a killed job never leaves half a file behind.

Object stores (``s3://bucket/prefix``) are configured the standard way, so the same lake URI
works against AWS, MinIO, Ceph or a local test server:

- credentials: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (/ ``AWS_SESSION_TOKEN``),
  a profile, or the instance/pod role, exactly as the AWS SDK finds them;
- region: ``AWS_REGION`` or ``AWS_DEFAULT_REGION`` (otherwise the bucket's region is looked
  up, which needs a HEAD request per filesystem);
- endpoint: ``AWS_ENDPOINT_URL_S3`` (S3 only) or ``AWS_ENDPOINT_URL`` (all services), e.g.
  ``http://127.0.0.1:9000``; the scheme in the URL decides http or https;
- or per URI, in a query pyarrow's ``FileSystem.from_uri`` accepts, which wins over the
  environment: ``s3://bucket/lake?endpoint_override=127.0.0.1:9000&scheme=http&region=us-east-1``
  (also ``access_key``/``secret_key``, ``allow_bucket_creation``, ...).

:func:`join` keeps such a query at the end of the URI, so dataset URIs built from a root
with a query still open. Filesystems are cached per (scheme, bucket, query, endpoint env),
since building an S3 client for every file would dominate small writes.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from typing import TYPE_CHECKING, Any

from .errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow.fs as pafs


#: Endpoint variables the AWS SDKs read, most specific first.
ENDPOINT_ENV = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")


def join(uri: str, *parts: str) -> str:
    """Join URI path segments with single slashes (a ``?query`` stays at the end)."""
    base, sep, query = uri.partition("?")
    out = base.rstrip("/")
    for part in parts:
        out += "/" + part.strip("/")
    return out + sep + query


def _first_env(names: tuple[str, ...]) -> str:
    return next((os.environ[n] for n in names if os.environ.get(n)), "")


def _with_s3_env(uri: str) -> str:
    """``uri`` with the endpoint/region from the environment added unless its query has them."""
    from urllib.parse import parse_qsl, urlencode

    base, _, query = uri.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    endpoint = _first_env(ENDPOINT_ENV)
    if endpoint and "endpoint_override" not in params:
        params["endpoint_override"] = endpoint  # pyarrow takes the scheme from the URL
    region = _first_env(REGION_ENV)
    if region and "region" not in params:
        params["region"] = region
    return base + ("?" + urlencode(params) if params else "")


@functools.lru_cache(maxsize=64)
def _filesystem(location: str, _env: tuple[str, ...]) -> pafs.FileSystem:
    """One filesystem per store location (``_env`` is part of the key: a changed env -> new)."""
    import pyarrow.fs as pafs

    fs, _ = pafs.FileSystem.from_uri(location)
    return fs


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """A pyarrow filesystem and the path inside it for ``uri`` (file://, s3:// or a path)."""
    import pyarrow.fs as pafs

    if "://" not in uri:
        uri = "file://" + uri
    try:
        if uri.startswith("s3://"):
            full = _with_s3_env(uri)
            base, _, query = full.partition("?")
            path = base[len("s3://"):].rstrip("/")
            bucket = path.split("/", 1)[0]
            env = tuple(os.environ.get(n, "") for n in (*ENDPOINT_ENV, *REGION_ENV))
            return _filesystem(f"s3://{bucket}" + (f"?{query}" if query else ""), env), path
        fs, path = pafs.FileSystem.from_uri(uri)
    except (ValueError, OSError) as exc:
        raise StorageError(f"cannot open storage {uri!r}: {exc}",
                           hint="use file:///absolute/path or s3://bucket/prefix; for an S3 "
                                "endpoint set AWS_ENDPOINT_URL or add ?endpoint_override=") from exc
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
