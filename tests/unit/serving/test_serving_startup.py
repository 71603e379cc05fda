"""What a deployment refuses to start with, and the hub's own edges: every refusal names the
variant, the model or the Gold version it is about and says what to do.

The broken inputs are real registry versions and Gold versions: copies of the serving world's,
with one thing changed in their metadata, manifest or data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.support.serving_world import SYMBOLS, World

from mlta import registry, storage
from mlta.data.lake import read_manifest
from mlta.data.manifest import MANIFEST_FILE
from mlta.errors import ServingError
from mlta.serving.asgi import LocalHub
from mlta.serving.features import load_group, warm_start
from mlta.serving.hub import HubCore
from mlta.serving.model import ServedModel, load_served_model
from mlta.serving.service import Service
from mlta.serving.validation import RequestRejected, parse_body


def _path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def copy_gold(world: World, dest: Path, **manifest: Any) -> str:
    """The world's Gold version copied to ``dest``, its manifest changed by ``manifest``."""
    shutil.copytree(_path(world.dataset_uri), dest)
    original = read_manifest(world.dataset_uri)
    assert original is not None
    changed = original.model_copy(update={"uri": dest.as_uri(), **manifest})
    storage.write_json_atomic(storage.join(dest.as_uri(), MANIFEST_FILE),
                              changed.model_dump(mode="json"))
    return dest.as_uri()


def copy_model(world: World, variant: str, dest: Path, **metadata: Any) -> str:
    """A variant's registered version copied to ``dest``, its metadata changed."""
    source = world.models[variant]["modelUri"]
    shutil.copytree(_path(source), dest)
    meta = registry.read_metadata(source)
    registry.write_metadata(dest.as_uri(), meta.model_copy(update=metadata))
    return dest.as_uri()


@pytest.fixture(scope="module")
def served(serving_world: World) -> dict[str, ServedModel]:
    return {n: load_served_model(o["modelUri"]) for n, o in serving_world.models.items()}


def _with_lineage(model: ServedModel, **lineage: Any) -> ServedModel:
    meta = model.metadata.model_copy(update={"lineage": {**model.metadata.lineage, **lineage}})
    return dataclasses.replace(model, metadata=meta)


@pytest.fixture()
def serving_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="mlta.serving"):
        yield caplog


# -- model versions ----------------------------------------------------------------------------
def _members(meta: registry.ModelVersionMetadata, **update: Any) -> dict[str, Any]:
    """The version's members, each changed by ``update``."""
    return {"members": [m.model_copy(update=update) for m in meta.member_list()]}


@pytest.mark.parametrize(("change", "needle"), [
    (lambda _: {"target": {"kind": "volume", "horizon": 3}},
     "target kind 'volume' of tj-champion/v1 is unknown"),
    (lambda _: {"feature_columns": []}, "tj-champion/v1 lists no feature columns"),
    (lambda meta: _members(meta, learner="sklearn"), "learner 'sklearn' is not one of"),
    (lambda meta: _members(meta, artifact="gone.txt"),
     "member 0 (lightgbm, gone.txt) cannot be loaded"),
    (lambda meta: _members(meta, feature_columns=["f_not_in_the_model"]),
     "cannot load tj-champion/v1 (lightgbm): member columns ['f_not_in_the_model']"),
], ids=["kind", "no-columns", "learner", "artifact", "member-columns"])
def test_unservable_model_versions_are_refused_by_name(
        serving_world: World, tmp_path: Path,
        change: Callable[[registry.ModelVersionMetadata], dict[str, Any]], needle: str) -> None:
    meta = registry.read_metadata(serving_world.models["champion"]["modelUri"])
    uri = copy_model(serving_world, "champion", tmp_path / "v1", **change(meta))
    with pytest.raises(ServingError) as info:
        load_served_model(uri)
    assert needle in info.value.message


def test_a_missing_or_other_model_version_is_refused(serving_world: World, tmp_path: Path) -> None:
    missing = (tmp_path / "nothing").as_uri()
    with pytest.raises(ServingError, match="cannot read model metadata at") as info:
        load_served_model(missing)
    assert info.value.hint == "modelUri must be a registry version directory"
    uri = serving_world.models["champion"]["modelUri"]
    version = registry.read_metadata(uri).version
    with pytest.raises(ServingError) as other:
        load_served_model(uri, expected_version=version + "0")
    assert f"holds model version {version!r}, the deployment asked for " \
           f"{version + '0'!r}" in other.value.message


def test_the_app_builder_checks_args_and_every_variant(serving_world: World,
                                                       tmp_path: Path) -> None:
    """What Serve's DEPLOY_FAILED says (mlta.serving.app imports Ray Serve, so only here)."""
    from mlta.serving.app import parse_args

    args = serving_world.args()
    assert parse_args(args, check_models=False) is args
    assert parse_args(args.to_wire()).variants == args.variants  # gates waived: it builds
    with pytest.raises(ServingError) as bad:
        parse_args({"appName": "x", "variants": []})
    assert bad.value.message.startswith("invalid Serve app args: variants:")
    meta = registry.read_metadata(serving_world.models["champion"]["modelUri"])
    assert meta.gate is not None and meta.gate.reasons
    kind_uri = copy_model(serving_world, "champion", tmp_path / "kind",
                          target={"kind": "volume", "horizon": 3})
    cases = [({"allowFailedGate": False},
              f"{meta.name} {meta.version} failed its gate: {'; '.join(meta.gate.reasons)}"),
             ({"modelVersion": "v9"}, f"holds version {meta.version!r}, not 'v9'"),
             ({"modelUri": (tmp_path / "none").as_uri()}, "cannot read model metadata at"),
             ({"modelUri": kind_uri}, "target kind 'volume' is not servable")]
    for change, needle in cases:
        wire = args.to_wire()
        wire["variants"][0].update(change)
        with pytest.raises(ServingError) as info:
            parse_args(wire)
        assert info.value.message.startswith("variant 'champion': ") and needle in \
            info.value.message, change


# -- the hub's Gold feature groups ---------------------------------------------------------
def test_candle_feeds_need_a_readable_gold_version_with_its_spec(
        serving_world: World, served: dict[str, ServedModel], tmp_path: Path) -> None:
    args = serving_world.args()
    no_lineage = dict(served, champion=_with_lineage(served["champion"], datasetUri=""))
    with pytest.raises(ServingError, match="model tj-champion/v1 has no datasetUri in its "
                                           "lineage"):
        HubCore(args, models=no_lineage)
    gone = (tmp_path / "gone").as_uri()
    unreadable = dict(served, champion=_with_lineage(served["champion"], datasetUri=gone))
    with pytest.raises(ServingError, match=f"cannot read the Gold version {gone}"):
        HubCore(args, models=unreadable)
    bare = copy_gold(serving_world, tmp_path / "bare", features=None)
    no_spec = dict(served, champion=_with_lineage(served["champion"], datasetUri=bare))
    with pytest.raises(ServingError, match=f"the Gold version {bare} does not record its "
                                           "feature spec"):
        HubCore(args, models=no_spec)


def test_without_a_feed_a_missing_gold_only_costs_the_drift_reference(
        serving_world: World, served: dict[str, ServedModel], tmp_path: Path,
        serving_log: pytest.LogCaptureFixture) -> None:
    args = serving_world.args(feed={"type": "none"})
    gone = (tmp_path / "gone").as_uri()
    models = dict(served, champion=_with_lineage(served["champion"], datasetUri=gone))
    hub = HubCore(args, models=models)
    assert "champion" not in hub.monitor.variants and "challenger" in hub.monitor.variants
    warned = [r for r in serving_log.records if r.getMessage() == "no Gold reference for drift"]
    assert [(r.variant, r.uri) for r in warned] == [("champion", gone)]  # type: ignore[attr-defined]
    no_lineage = dict(served, champion=_with_lineage(served["champion"], datasetUri=""))
    assert "champion" not in HubCore(args, models=no_lineage).monitor.variants
    assert (hub.symbols, hub.step_ms) == ([], 0)
    assert asyncio.run(LocalHub(hub).info())["stepMs"] == 0
    last = HubCore(serving_world.args()).last_candle(SYMBOLS[0])
    assert last is not None
    with pytest.raises(RequestRejected) as info:
        hub.push(SYMBOLS[0], [last.flat_after(300_000, 1)])
    assert info.value.status == 404 and info.value.message == "this deployment has no candle feed"


def test_variants_must_agree_on_interval_symbols_and_features(
        serving_world: World, served: dict[str, ServedModel], tmp_path: Path) -> None:
    manifest = read_manifest(serving_world.dataset_uri)
    assert manifest is not None and manifest.features is not None
    # another DataPipeline: 15m candles, one more exclusion (so another feature group)
    features = dict(manifest.features, exclude=[*manifest.features["exclude"], "f_none_*"])
    other = copy_gold(serving_world, tmp_path / "15m", interval="15m", features=features)
    models = dict(served, challenger=_with_lineage(served["challenger"], datasetUri=other))
    with pytest.raises(ServingError, match=r"Gold versions have intervals \['15m', '5m'\]"):
        HubCore(serving_world.args(), models=models)
    with pytest.raises(ServingError) as symbols:
        HubCore(serving_world.args(feed={"symbols": ["zzzusdt", SYMBOLS[0]]}), models=served)
    assert "feed.symbols ['ZZZUSDT'] are not in every variant's Gold version" in \
        symbols.value.message and symbols.value.hint == f"serve some of: {sorted(SYMBOLS)}"
    dropped = manifest.feature_columns[-1]
    narrower = copy_gold(serving_world, tmp_path / "narrow",
                         feature_columns=manifest.feature_columns[:-1])
    models = dict(served, champion=_with_lineage(served["champion"], datasetUri=narrower))
    with pytest.raises(ServingError, match=rf"model features \['{dropped}'\] are not in the "
                                           f"Gold feature set of {narrower}"):
        HubCore(serving_world.args(), models=models)
    with pytest.raises(ServingError, match=f"the feature spec of {narrower} no longer gives"):
        warm_start(load_group(narrower), [SYMBOLS[0]], None)
    with pytest.raises(ServingError, match=r"symbol ZZZUSDT is not in the Gold version"):
        warm_start(load_group(serving_world.dataset_uri), ["ZZZUSDT"], None)


def test_a_gold_version_the_streaming_code_does_not_reproduce_is_refused(
        serving_world: World, tmp_path: Path) -> None:
    uri = copy_gold(serving_world, tmp_path / "edited")
    manifest = read_manifest(uri)
    assert manifest is not None
    part = next(f for f in manifest.files if f"symbol={SYMBOLS[0]}" in f)
    table = pq.read_table(_path(uri) / part)
    last = table["open_time"].to_pylist().index(max(table["open_time"].to_pylist()))
    column = next(c for c in manifest.feature_columns
                  if math.isfinite(v := table[c][last].as_py()) and v != 0.0)
    values = table[column].to_pylist()
    values[last] *= 1 + 1e-6  # far beyond the parity tolerance (1e-9 relative)
    table = table.set_column(table.schema.get_field_index(column), column,
                             pa.array(values, pa.float64()))
    pq.write_table(table, _path(uri) / part)
    with pytest.raises(ServingError) as info:
        warm_start(load_group(uri), [SYMBOLS[0]], None)
    assert info.value.message == f"{SYMBOLS[0]}: streaming features differ from Gold in " \
                                 f"{[column]}"
    warm_start(load_group(uri), [SYMBOLS[1]], None)  # the other symbol is untouched


def test_warmup_bars_replays_only_the_last_candles(serving_world: World,
                                                   served: dict[str, ServedModel]) -> None:
    full = HubCore(serving_world.args(), models=served)
    short = HubCore(serving_world.args(feed={"warmupBars": 300}), models=served)
    (group,) = short.groups.values()
    (whole,) = full.groups.values()
    for symbol in SYMBOLS:
        assert whole.streams[symbol].candles > 300 and group.streams[symbol].candles == 300
        assert short.last_candle(symbol) == full.last_candle(symbol)


# -- the hub at run time -----------------------------------------------------------------------
def test_a_subscriber_that_lags_is_dropped_and_the_others_get_everything(
        serving_world: World, served: dict[str, ServedModel]) -> None:
    hub = HubCore(serving_world.args(), models=served)
    last = hub.last_candle(SYMBOLS[0])
    assert last is not None
    candles = [last.flat_after(hub.step_ms, k) for k in (1, 2, 3)]

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        slow, steady = hub.subscribe(maxsize=2), hub.subscribe(maxsize=10)
        assert (await anext(slow))["type"] == (await anext(steady))["type"] == "subscribed"
        hub.push(SYMBOLS[0], candles)
        async def drain(events: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
            return [event async for event in events]

        got_slow = await asyncio.wait_for(drain(slow), 10)  # ends by itself after "dropped"
        got_steady = [await asyncio.wait_for(anext(steady), 10) for _ in candles]
        await steady.aclose()
        return got_slow, got_steady

    got_slow, got_steady = asyncio.run(scenario())
    assert [e.get("openTime") for e in got_slow] == [candles[1].open_ms, None]
    assert got_slow[-1] == {"type": "dropped"}
    assert [e["openTime"] for e in got_steady] == [c.open_ms for c in candles]
    assert hub._subscribers == {}
    assert b"mlta_serving_stream_dropped_total 1.0" in hub.metrics.exposition()


def test_a_status_file_that_cannot_be_written_is_logged_not_raised(
        serving_world: World, served: dict[str, ServedModel], tmp_path: Path,
        serving_log: pytest.LogCaptureFixture) -> None:
    (tmp_path / "file").write_text("not a directory")
    uri = (tmp_path / "file" / "status.json").as_uri()
    hub = HubCore(serving_world.args(statusUri=uri), models=served)
    hub.write_status()
    (record,) = [r for r in serving_log.records if r.getMessage() == "cannot write status"]
    assert record.uri == uri and "status.json" in record.error  # type: ignore[attr-defined]
    good = (tmp_path / "ok" / "status.json").as_uri()
    HubCore(serving_world.args(statusUri=good), models=served).write_status()
    assert storage.read_json(good)["app"] == serving_world.args().app_name


def test_named_variants_and_explanations_are_checked(serving_world: World,
                                                     served: dict[str, ServedModel]) -> None:
    args = serving_world.args(feed={"type": "none"})
    plain = dict(served, champion=dataclasses.replace(served["champion"], contributions=None))
    service = Service(args, LocalHub(HubCore(args, models=plain)), models=plain)
    row = {c: 0.1 for c in plain["champion"].feature_columns}
    with pytest.raises(RequestRejected) as unknown:
        service.predict(parse_body({"features": row}), variant="nope")
    assert unknown.value.status == 404 and unknown.value.hint == "variants: champion, challenger"
    assert service.predict(parse_body({"features": row}), variant="challenger").variant == \
        "challenger"
    with pytest.raises(RequestRejected) as explain:
        service.predict(parse_body({"features": row, "explain": True}), variant="champion")
    assert explain.value.status == 422
    assert explain.value.message == "explanations are not available for tj-champion/v1"
    explained = service.predict(parse_body({"features": row, "explain": True}),
                                variant="challenger")
    assert set(explained.payload["contributions"]) == set(plain["challenger"].feature_columns)
