"""Silver and Gold versions: content-addressed, atomic, idempotent, with lineage."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlta
from mlta.data import catalog
from mlta.data import lake as lakemod
from mlta.data.manifest import content_hash
from mlta.data.silver import write_silver
from mlta.errors import DataError
from mlta.jobs.pipeline import run_pipeline
from mlta.specs import DataPipelineSpec

from .helpers import simple_features

SPEC = {"source": {"type": "sample", "symbols": ["BTCUSDT", "ETHUSDT"],
                   "sample": {"seed": 5, "bars": 600}}}


def _spec(**changes: object) -> DataPipelineSpec:
    payload = {**SPEC, **changes}
    return DataPipelineSpec.model_validate(payload)


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def _gold_entries(lake_root: str) -> list[str]:
    base = _local(lake_root) / "gold" / "default" / "p"
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


def test_gold_follows_the_contract(lake: str) -> None:
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    uri = out["datasetUri"]
    assert uri == f"{lake}/gold/default/p/{out['datasetVersion']}"
    for symbol in ("BTCUSDT", "ETHUSDT"):
        assert (_local(uri) / "data" / f"symbol={symbol}" / "part-0.parquet").is_file()
    frame, manifest = lakemod.read_dataset(uri, verify=True)
    assert list(frame.columns) == ["symbol", "open_time", "close_time", "open", "high", "low",
                                   "close", "volume", "f_logret"]
    assert manifest.feature_columns == ["f_logret"] and out["featureCount"] == 1
    assert pd.api.types.is_string_dtype(frame["symbol"])
    for col in ("open_time", "close_time"):
        assert str(frame[col].dt.tz) == "UTC"
    for col in ("open", "high", "low", "close", "volume", "f_logret"):
        assert frame[col].dtype == "float64"
    assert len(frame) == out["rows"] == manifest.rows == 1200
    assert frame.groupby("symbol")["f_logret"].apply(lambda s: s.isna().sum()).tolist() == [1, 1]
    keys = list(zip(frame["symbol"], frame["close_time"], strict=True))
    assert keys == sorted(keys)


def test_manifests_carry_lineage_hashes_schema_and_quality(lake: str) -> None:
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    _, gold = lakemod.read_dataset(out["datasetUri"])
    assert gold.layer == "gold" and gold.code_version == mlta.__version__
    assert len(gold.content_hash) == 64 and len(gold.spec_hash) == 64
    assert gold.rows_by_symbol == {"BTCUSDT": 600, "ETHUSDT": 600}
    assert gold.time_range.start is not None and gold.time_range.end is not None
    assert [c.name for c in gold.columns][:3] == ["symbol", "open_time", "close_time"]
    assert set(gold.quality["symbols"]) == {"BTCUSDT", "ETHUSDT"}
    silver_refs = [i for i in gold.inputs if i.layer == "silver"]
    bronze_refs = [i for i in gold.inputs if i.layer == "bronze"]
    assert {r.symbol for r in silver_refs} == {r.symbol for r in bronze_refs} == {
        "BTCUSDT", "ETHUSDT"}
    for ref in silver_refs:  # the exact Silver versions exist and name their Bronze batches
        silver = lakemod.read_manifest(ref.uri)
        assert silver is not None and silver.version == ref.version
        assert silver.quality["missing_bars"] == 0
        assert {i.version for i in silver.inputs} == {
            b.version for b in bronze_refs if b.symbol == ref.symbol}
    listed = {(m.layer, m.version) for m in catalog.list_manifests(lake)}
    assert {("bronze", r.version) for r in bronze_refs} <= listed
    assert {("silver", r.version) for r in silver_refs} <= listed


def test_rerun_is_idempotent_and_a_spec_change_makes_a_new_version(lake: str) -> None:
    first = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    again = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    assert again["datasetVersion"] == first["datasetVersion"]
    assert again["silverVersions"] == first["silverVersions"]
    assert again["newBronzeBatches"] == 0
    assert _gold_entries(lake) == [first["datasetVersion"]]  # no temp dirs left behind
    stricter = run_pipeline(_spec(quality={"policy": "fail"}), lake, "default", "p",
                            featurizer=simple_features)
    assert stricter["datasetVersion"] != first["datasetVersion"]
    gold = catalog.list_versions(lake, "gold/default/p")
    assert [m.version for m in gold] == [first["datasetVersion"], stricter["datasetVersion"]]
    latest = catalog.latest_version(lake, "gold/default/p")
    assert latest is not None and latest.version == stricter["datasetVersion"]


def test_a_crash_between_write_and_rename_leaves_nothing_visible(lake: str,
                                                                  monkeypatch) -> None:
    real = lakemod._rename

    def crash(fs, src: str, dst: str) -> None:
        if "/gold/" not in dst:
            return real(fs, src, dst)
        assert (Path(src) / "data" / "symbol=BTCUSDT" / "part-0.parquet").exists()
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(lakemod, "_rename", crash)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    assert _gold_entries(lake) == []  # the temp dir was cleaned up too
    assert catalog.list_datasets(lake, "gold") == []


def test_a_killed_process_leaves_only_an_invisible_temp_dir(lake: str, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from helpers import simple_features
        from mlta.data import lake as lakemod
        from mlta.jobs.pipeline import run_pipeline
        from mlta.specs import DataPipelineSpec
        real = lakemod._rename
        def killed(fs, src, dst):
            if "/gold/" not in dst:
                return real(fs, src, dst)
            os._exit(137)  # like SIGKILL: no cleanup code runs
        lakemod._rename = killed
        run_pipeline(DataPipelineSpec.model_validate({SPEC!r}), {lake!r}, "default", "p",
                     featurizer=simple_features)
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 137, proc.stderr
    leftovers = _gold_entries(lake)
    assert len(leftovers) == 1 and leftovers[0].startswith(lakemod.TMP_PREFIX)
    assert (_local(lake) / "gold" / "default" / "p" / leftovers[0] / "_manifest.json").exists()
    assert catalog.list_datasets(lake, "gold") == []
    with pytest.raises(DataError, match="no committed dataset"):
        lakemod.read_dataset(f"{lake}/gold/default/p/{leftovers[0]}")
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    assert lakemod.read_dataset(out["datasetUri"], verify=True)[1].rows == 1200
    assert [d.name for d in catalog.list_datasets(lake, "gold")] == ["gold/default/p"]


def test_stores_without_directory_rename_commit_by_copy_manifest_last(lake: str,
                                                                      monkeypatch) -> None:
    order: list[str] = []

    def no_dir_rename(fs: object, src: str, dst: str) -> None:
        raise NotImplementedError("object stores cannot rename directories")

    real_copy = lakemod._copy_commit

    def traced(fs, src: str, dst: str) -> None:
        original = fs.copy_file

        class Tracing:
            def __getattr__(self, name: str):
                return getattr(fs, name)

            def copy_file(self, a: str, b: str) -> None:
                if "/gold/" in b:
                    order.append(b.rsplit("/", 1)[-1])
                original(a, b)

        real_copy(Tracing(), src, dst)

    monkeypatch.setattr(lakemod, "_rename", no_dir_rename)
    monkeypatch.setattr(lakemod, "_copy_commit", traced)
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    assert order[-1] == "_manifest.json" and order.count("part-0.parquet") == 2
    assert _gold_entries(lake) == [out["datasetVersion"]]
    assert lakemod.read_dataset(out["datasetUri"], verify=True)[1].rows == 1200


def test_concurrent_writers_of_the_same_version_agree(lake: str, tmp_path: Path) -> None:
    table = pa.table({"x": [1.0, 2.0]})
    parent = f"{lake}/silver/demo"
    from mlta.data.manifest import DatasetManifest

    def manifest(tag: str) -> DatasetManifest:
        return DatasetManifest(layer="silver", name="silver/demo", version="v1", uri="u",
                               created_at=pd.Timestamp("2024-01-01", tz="UTC"),
                               code_version=tag, spec_hash="s", content_hash="c", rows=2)

    with lakemod.version_writer(parent) as a, lakemod.version_writer(parent) as b:
        a.write_table("part-0.parquet", table)
        b.write_table("part-0.parquet", table)
        first = a.commit(manifest("a"))
        second = b.commit(manifest("b"))
    assert first.code_version == second.code_version == "a"
    assert sorted(p.name for p in _local(parent).iterdir()) == ["v1"]


def test_read_dataset_rejects_tampered_missing_and_non_gold_data(lake: str) -> None:
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    with pytest.raises(DataError, match="is a silver dataset, not gold"):
        lakemod.read_dataset(next(iter(catalog.list_manifests(lake, "silver"))).uri)
    with pytest.raises(DataError, match="no committed dataset") as info:
        lakemod.read_dataset(f"{lake}/gold/default/p/0000000000000000")
    assert info.value.reason == "NotFound"
    part = _local(out["datasetUri"]) / "data" / "symbol=ETHUSDT" / "part-0.parquet"
    table = pq.read_table(part)
    pq.write_table(table.set_column(6, "close", pa.array(table["close"].to_numpy() * 1.01)), part)
    lakemod.read_dataset(out["datasetUri"])  # readable without verification ...
    with pytest.raises(DataError, match="does not match the manifest"):
        lakemod.read_dataset(out["datasetUri"], verify=True)  # ... but verification catches it


def test_silver_versions_are_typed_and_content_addressed(lake: str) -> None:
    run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    source = catalog.list_manifests(lake, "silver")[0].source

    def silver(policy: str):
        return write_silver(lake, source=source, symbol="BTCUSDT", interval="5m",
                            policy=policy, max_gap_ratio=0.05)

    manifest, table = silver("repair")
    again, _ = silver("repair")
    assert again == manifest  # same version, the committed manifest returned as is
    warn, _ = silver("warn")
    assert warn.version != manifest.version and warn.content_hash == manifest.content_hash
    assert [f"{f.name}:{f.type}" for f in table.schema] == [
        "open_time:timestamp[ms, tz=UTC]", "close_time:timestamp[ms, tz=UTC]",
        "open:double", "high:double", "low:double", "close:double", "volume:double",
        "is_filled:bool", "is_outlier:bool"]


def test_content_hash_depends_on_values_not_on_chunking() -> None:
    t = pa.table({"a": [1.0, float("nan"), 3.0], "s": ["x", None, "z"],
                  "b": [True, False, None]})
    rechunked = pa.concat_tables([t.slice(0, 1), t.slice(1)])
    assert rechunked["a"].num_chunks == 2
    assert content_hash(t) == content_hash(rechunked)
    changed = t.set_column(0, "a", pa.array([1.0, float("nan"), 3.0000001]))
    assert content_hash(changed) != content_hash(t)
    renamed = t.rename_columns(["a2", "s", "b"])
    assert content_hash(renamed) != content_hash(t)


def test_stale_temp_dirs_of_killed_runs_are_swept(lake: str) -> None:
    parent = _local(lake) / "gold" / "default" / "p"
    stale, fresh = parent / ".tmp-stale", parent / ".tmp-fresh"
    for d in (stale, fresh):
        (d / "data").mkdir(parents=True)
        (d / "data" / "part-0.parquet").write_bytes(b"x")
    old = 1_000_000_000
    for path in (stale / "data" / "part-0.parquet", stale / "data", stale):
        os.utime(path, (old, old))
    assert lakemod.sweep_stale_temp(f"{lake}/gold/default/p") == [".tmp-stale"]
    assert sorted(p.name for p in parent.iterdir()) == [".tmp-fresh"]
    out = run_pipeline(_spec(), lake, "default", "p", featurizer=simple_features)
    assert _gold_entries(lake) == [".tmp-fresh", out["datasetVersion"]]  # a live writer's
