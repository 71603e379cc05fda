"""The lake on s3://, against a real S3-compatible HTTP server (moto's, on loopback).

The DataPipeline job runs with its storage at ``s3://<bucket>/lake``, configured the
standard way (``AWS_ENDPOINT_URL`` + credentials + region in the environment) or by the
URI alone (``?endpoint_override=...&scheme=http``). Gold read back from S3 must equal the
Gold of the same spec on file:// (same version id, same rows, verified hashes), every
manifest's lineage must point at objects that exist, and a commit that fails halfway must
leave no readable version, and no temporary objects, behind.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.ray_cluster import wait_for

from mlta import storage
from mlta.config import cache_dir
from mlta.data import catalog, lake
from mlta.data.lake import read_dataset
from mlta.errors import DataError
from mlta.jobs.pipeline import run
from mlta.specs import JobEnvelope, JobResult

MOTO_SERVER = cache_dir() / "venvs" / "moto-5.2.5" / "bin" / "moto_server"

BUCKET = "mlta-lake"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP server (moto's, its own process and venv) on 127.0.0.1 with an empty bucket.

    ``make test`` installs it (scripts/install-s3-server.sh); run that script to use it alone.
    """
    import httpx
    import pyarrow.fs as pafs

    if not MOTO_SERVER.exists():
        pytest.fail(f"{MOTO_SERVER} missing: run scripts/install-s3-server.sh (make test does)")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: httpx.get(endpoint, timeout=1).status_code < 500, timeout=60,
                 what="the S3 server")
        admin = pafs.S3FileSystem(endpoint_override=endpoint, region="us-east-1",
                                  access_key="testing", secret_key="testing", scheme="http",
                                  allow_bucket_creation=True)
        admin.create_dir(BUCKET)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture()
def aws_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    return s3_endpoint


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)


def _spec(candles_dir: Path, symbols: list[str]) -> dict[str, Any]:
    return {"source": {"type": "files", "symbols": symbols,
                       "files": {"uri": str(candles_dir), "format": "feather"}},
            "features": {"indicators": [{"name": "returns", "params": {"window": 1}},
                                        {"name": "rsi", "params": {"window": 14}}]}}


def _run(spec: dict[str, Any], root: str, name: str = "s3demo") -> JobResult:
    return run(JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "team-s3", "name": name},
        "spec": spec, "storageUri": root, "correlationId": "cid-s3", "submissionId": "sub"}))


def _objects(prefix: str, query: str = "") -> list[str]:
    """Every object key under ``prefix`` in the bucket (a fresh listing, not a cache)."""
    import pyarrow.fs as pafs

    fs, path = storage.resolve(f"s3://{BUCKET}/{prefix}{query}")
    infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def test_gold_on_s3_reads_back_like_file_with_lineage(aws_env: str, candles_dir: Path,
                                                      tmp_path: Path) -> None:
    spec = _spec(candles_dir, ["ADA_BTC", "ETH_BTC"])
    local = _run(spec, f"file://{tmp_path}/lake")
    root = f"s3://{BUCKET}/lake"
    remote = _run(spec, root)
    assert local.ok and remote.ok, remote.message
    out = remote.outputs
    assert out["datasetUri"] == f"{root}/gold/team-s3/s3demo/{out['datasetVersion']}"
    assert out["datasetVersion"] == local.outputs["datasetVersion"]
    assert out["rows"] == local.outputs["rows"] == 5727 + 5760
    frame, manifest = read_dataset(out["datasetUri"], verify=True)
    ref, ref_manifest = read_dataset(local.outputs["datasetUri"], verify=True)
    assert frame.equals(ref) and manifest.content_hash == ref_manifest.content_hash
    assert manifest.feature_columns == ref_manifest.feature_columns
    objects = _objects("lake")
    assert f"{BUCKET}/lake/gold/team-s3/s3demo/{manifest.version}/_manifest.json" in objects
    assert not [o for o in objects if f"/{lake.TMP_PREFIX}" in o]  # temp dirs cleaned up

    # Lineage: Gold -> Silver per symbol -> the Bronze batches, all committed on S3.
    silver_refs = [i for i in manifest.inputs if i.layer == "silver"]
    bronze_refs = [i for i in manifest.inputs if i.layer == "bronze"]
    assert sorted(r.symbol or "" for r in silver_refs) == ["ADA_BTC", "ETH_BTC"]
    assert bronze_refs and all(r.uri.startswith(f"{root}/bronze/") for r in bronze_refs)
    for ref_in in silver_refs:
        silver = lake.read_manifest(ref_in.uri)
        assert silver is not None and silver.version == ref_in.version
        assert {i.version for i in silver.inputs} <= {r.version for r in bronze_refs}
    assert all(storage.exists(r.uri) for r in bronze_refs)
    names = {d.name for d in catalog.list_datasets(root)}
    assert "gold/team-s3/s3demo" in names
    assert {f"silver/source={manifest.source}/symbol={s}/interval=5m"
            for s in ("ADA_BTC", "ETH_BTC")} <= names

    again = _run(spec, root)  # rerun on S3: same version, nothing new in Bronze
    assert again.ok and again.outputs["datasetVersion"] == manifest.version
    assert again.outputs["newBronzeBatches"] == 0


def test_the_uri_alone_can_name_the_endpoint(aws_env: str, candles_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    spec = _spec(candles_dir, ["XRP_ETH"])
    local = _run(spec, f"file://{tmp_path}/lake")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    host_port = aws_env.removeprefix("http://")
    root = f"s3://{BUCKET}/by-uri?endpoint_override={host_port}&scheme=http&region=us-east-1"
    result = _run(spec, root)
    assert result.ok and local.ok, result.message
    assert result.outputs["datasetVersion"] == local.outputs["datasetVersion"]
    uri = result.outputs["datasetUri"]
    assert uri.endswith("?endpoint_override=" + host_port + "&scheme=http&region=us-east-1")
    frame, _ = read_dataset(uri, verify=True)
    assert frame.equals(read_dataset(local.outputs["datasetUri"])[0])
    query = root[root.index("?"):]
    assert any(o.startswith(f"{BUCKET}/by-uri/gold/") for o in _objects("by-uri", query))


class _FailManifestCopy:
    """A filesystem whose copy of a Gold manifest fails: a commit dying at its last step."""

    def __init__(self, fs: Any) -> None:
        self._fs = fs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fs, name)

    def copy_file(self, src: str, dst: str) -> None:
        if "/gold/" in dst and dst.endswith("/_manifest.json"):
            raise OSError(f"injected: connection reset while copying {dst}")
        self._fs.copy_file(src, dst)


def test_a_commit_failing_halfway_leaves_no_visible_version(
        aws_env: str, candles_dir: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    spec = _spec(candles_dir, ["LTC_BTC"])
    expected = _run(spec, f"file://{tmp_path}/lake")
    assert expected.ok
    root = f"s3://{BUCKET}/atomic"
    copy_commit = lake._copy_commit
    monkeypatch.setattr(lake, "_copy_commit",
                        lambda fs, src, dst: copy_commit(_FailManifestCopy(fs), src, dst))
    failed = _run(spec, root)
    assert not failed.ok and failed.reason == "StorageError"
    assert "committing" in failed.message and "injected" in failed.message
    version_uri = f"{root}/gold/team-s3/s3demo/{expected.outputs['datasetVersion']}"
    partial = _objects(f"atomic/gold/team-s3/s3demo/{expected.outputs['datasetVersion']}")
    assert partial and not [o for o in partial if o.endswith("_manifest.json")]  # data, no commit
    with pytest.raises(DataError, match="no committed dataset"):
        read_dataset(version_uri)
    assert catalog.list_datasets(root, "gold") == []
    assert not [o for o in _objects("atomic") if f"/{lake.TMP_PREFIX}" in o]

    monkeypatch.setattr(lake, "_copy_commit", copy_commit)
    retried = _run(spec, root)
    assert retried.ok and retried.outputs["datasetVersion"] == expected.outputs["datasetVersion"]
    frame, _ = read_dataset(version_uri, verify=True)
    assert frame.equals(read_dataset(expected.outputs["datasetUri"])[0])
