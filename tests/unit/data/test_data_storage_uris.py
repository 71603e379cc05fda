"""How a lake URI picks its S3 endpoint and region: standard env vars, or the URI's query."""

from __future__ import annotations

from typing import Any

import pytest

from mlta import storage
from mlta.errors import StorageError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*storage.ENDPOINT_ENV, *storage.REGION_ENV):
        monkeypatch.delenv(name, raising=False)


def _options(uri: str) -> dict[str, Any]:
    fs, _ = storage.resolve(uri)
    options: dict[str, Any] = fs.__reduce__()[1][0]  # the S3FileSystem's constructor kwargs
    return options


def test_join_keeps_the_query_at_the_end() -> None:
    root = "s3://bucket/lake/?endpoint_override=h:9000&scheme=http"
    assert storage.join(root, "gold", "/ns/", "v1") == (
        "s3://bucket/lake/gold/ns/v1?endpoint_override=h:9000&scheme=http")
    assert storage.join("file:///tmp/lake/", "a") == "file:///tmp/lake/a"


def test_s3_specific_endpoint_wins_over_the_generic_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert _options("s3://bucket/x")["endpoint_override"] == "http://127.0.0.1:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    fs, path = storage.resolve("s3://bucket/lake/gold/x")
    assert path == "bucket/lake/gold/x"
    assert _options("s3://bucket/x")["endpoint_override"] == "http://127.0.0.1:2"
    assert fs.region == "ap-south-1"


def test_the_uri_query_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    fs, path = storage.resolve("s3://bucket/p/q?endpoint_override=h:3&scheme=http&region=us-east-2")
    opts = _options("s3://bucket/p?endpoint_override=h:3&scheme=http&region=us-east-2")
    assert path == "bucket/p/q" and fs.region == "us-east-2"
    assert opts["endpoint_override"] == "h:3" and opts["scheme"] == "http"


def test_filesystems_are_reused_per_bucket_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    first = storage.resolve("s3://bucket/a")[0]
    assert storage.resolve("s3://bucket/b/c")[0] is first
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4")
    assert storage.resolve("s3://bucket/a")[0] is not first  # a changed env is honoured


def test_a_bad_uri_names_the_fix() -> None:
    with pytest.raises(StorageError, match=r"cannot open storage.*AWS_ENDPOINT_URL"):
        storage.resolve("nosuchscheme://x/y")
