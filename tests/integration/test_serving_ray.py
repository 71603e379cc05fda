"""The Serve application on a real local Ray, deployed the way the operator does it.

Two really trained tiny models (a direction classifier and a return regressor) are served
as an 80/20 A/B split through the Serve REST API (PUT /api/serve/applications/ on the
dashboard). The PUT is declarative for *all* applications, so the test, like the operator's
ray backend, merges its entry into the running config and removes it the same way,
leaving other people's applications alone.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.ray_cluster import RayCluster, wait_for
from tests.unit.serving.tinymodels import ALL_FEATURES, candle_features, register_tiny_model

from mlta.serving.app import IMPORT_PATH
from mlta.specs.serving import ServeAppArgs, ServedVariant

pytestmark = pytest.mark.integration

APP = "mlta-test-serving-ab"
PREFIX = "/mlta/test/serving-ab"


def _details(cluster: RayCluster) -> dict[str, Any]:
    resp = httpx.get(f"{cluster.dashboard_url}/api/serve/applications/", headers=cluster.headers,
                     timeout=30)
    resp.raise_for_status()
    return resp.json()


def _put_apps(cluster: RayCluster, entry: dict[str, Any] | None, drop: str) -> None:
    """PUT the running config with ``drop`` replaced by ``entry`` (or removed when None)."""
    serve = httpx.URL(cluster.serve_url)
    http_options = {"host": serve.host, "port": serve.port}
    current = _details(cluster).get("applications") or {}
    apps = [app["deployed_app_config"] for name, app in sorted(current.items())
            if name != drop and app.get("deployed_app_config")]
    if entry is not None:
        apps.append(entry)
    resp = httpx.put(f"{cluster.dashboard_url}/api/serve/applications/", headers=cluster.headers,
                     json={"http_options": http_options, "applications": apps}, timeout=60)
    assert resp.status_code == 200, resp.text


def _app_state(cluster: RayCluster, name: str = APP) -> str | None:
    app = (_details(cluster).get("applications") or {}).get(name)
    if app is None:
        return None
    if app["status"] == "DEPLOY_FAILED":
        raise AssertionError(f"deploy failed: {app.get('message')}")
    return str(app["status"])


def _entry(name: str, prefix: str, models: dict[str, Any]) -> dict[str, Any]:
    """The app's config entry as the operator builds it: the 80/20 split of the two models."""
    args = ServeAppArgs(app_name=name, correlation_id="cid-serving-test", variants=[
        ServedVariant(name="champion", weight=80, model_uri=models["champion"].uri,
                      model_version="v1"),
        ServedVariant(name="challenger", weight=20, model_uri=models["challenger"].uri,
                      model_version="v2"),
    ])
    return {"name": name, "route_prefix": prefix, "import_path": IMPORT_PATH,
            "args": args.to_wire(),
            "runtime_env": {"env_vars": {"MLTA_CORRELATION_ID": "cid-serving-test"}}}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, candles_dir: Path) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("registry").as_uri()
    candles = candles_dir / "ETH_BTC-5m.feather"
    champion = register_tiny_model(store, candles, name="ethbtc-dir", version="v1",
                                   kind="direction", features=["ret_1", "ret_3", "range_hl"])
    challenger = register_tiny_model(store, candles, name="ethbtc-ret", version="v2",
                                     kind="return", features=["ret_1", "ret_6", "vol_6"])
    rows = candle_features(candles)[ALL_FEATURES].iloc[-300:].to_dict("records")
    return {"champion": champion, "challenger": challenger, "rows": rows}


@pytest.fixture(scope="module")
def served(ray_cluster: RayCluster, models: dict[str, Any]) -> Iterator[str]:
    """The app deployed through the REST API; yields its base URL; removed afterwards."""
    base = ray_cluster.serve_url.rstrip("/") + PREFIX
    _put_apps(ray_cluster, _entry(APP, PREFIX, models), drop=APP)
    try:
        wait_for(lambda: _app_state(ray_cluster) == "RUNNING", timeout=240,
                 what=f"Serve application {APP} RUNNING")
        wait_for(lambda: httpx.get(f"{base}/healthz", timeout=5).status_code == 200,
                 timeout=60, what="the Serve proxy routing to the app")
        yield base
    finally:
        if APP in (_details(ray_cluster).get("applications") or {}):
            _put_apps(ray_cluster, None, drop=APP)


def test_split_follows_weights_and_variants_answer_with_their_versions(
        served: str, models: dict[str, Any]) -> None:
    rng = random.Random(20240611)
    rows = models["rows"]
    seen: Counter[str] = Counter()
    versions: dict[str, set[str]] = {"champion": set(), "challenger": set()}
    with httpx.Client(timeout=30) as client:
        for i in range(500):
            key = f"client-{rng.getrandbits(48):012x}"
            resp = client.post(f"{served}/predict", json={"features": rows[i % len(rows)],
                                                          "key": key})
            assert resp.status_code == 200, resp.text
            body = resp.json()
            seen[body["variant"]] += 1
            versions[body["variant"]].add(body["modelVersion"])
            assert body["predictions"][0]["variant"] == body["variant"]
            assert body["latencyMs"] >= 0
            if body["variant"] == "champion":
                assert 0.0 < body["prediction"] < 1.0
                assert body["label"] == ("up" if body["prediction"] >= 0.5 else "down")
            else:
                assert "label" not in body and math.isfinite(body["prediction"])
    share = 100 * seen["champion"] / 500
    assert abs(share - 80) <= 6, f"observed split {dict(seen)}"
    assert versions == {"champion": {"v1"}, "challenger": {"v2"}}


def test_predictions_are_the_models_own(served: str, models: dict[str, Any]) -> None:
    """A batch through the service equals the booster's local predictions for that variant."""
    import numpy as np

    rows = models["rows"][:25]
    resp = httpx.post(f"{served}/predict", json={"rows": rows, "key": "batch-key"}, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    tiny = models[body["variant"]]
    local = tiny.booster.predict(np.array([[r[c] for c in tiny.features] for r in rows]))
    assert [p["prediction"] for p in body["predictions"]] == pytest.approx(list(local))
    assert "prediction" not in body  # batch form has no top-level prediction


def test_sticky_keys_and_introspection(served: str) -> None:
    row = dict.fromkeys(ALL_FEATURES, 0.001)
    for key in ("BTC/USDT", "client-42", "ETH/BTC"):
        answers = {httpx.post(f"{served}/predict", json={"features": row, "key": key},
                              timeout=30).json()["variant"] for _ in range(6)}
        assert len(answers) == 1, f"key {key} went to {answers}"
    info = httpx.get(f"{served}/variants", timeout=10).json()
    assert info["split"] == "champion=80,challenger=20"
    assert [(v["name"], v["weight"], v["modelVersion"]) for v in info["variants"]] == [
        ("champion", 80, "v1"), ("challenger", 20, "v2")]
    assert httpx.get(f"{served}/healthz", timeout=10).json() == {"status": "ok", "app": APP}


def test_errors_are_json_with_status_and_hint(served: str) -> None:
    missing = httpx.post(f"{served}/predict", json={"features": {"ret_1": 0.1}, "key": "x"},
                         timeout=30)
    assert missing.status_code == 422
    body = missing.json()
    assert body["error"].startswith("missing feature columns: ")
    assert "ret_3" in body["error"] or "ret_6" in body["error"]
    assert body["hint"]
    bad_json = httpx.post(f"{served}/predict", content=b"{not json",
                          headers={"content-type": "application/json"}, timeout=30)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]
    shape = httpx.post(f"{served}/predict", json={"rows": []}, timeout=30)
    assert shape.status_code == 422 and "non-empty" in shape.json()["error"]
    unknown = httpx.get(f"{served}/nope", timeout=30)
    assert unknown.status_code == 404 and "hint" in unknown.json()


def test_bad_args_fail_the_deploy_with_our_message(ray_cluster: RayCluster,
                                                  models: dict[str, Any]) -> None:
    """build_app runs inside Serve: its ServingError becomes the app's DEPLOY_FAILED message."""
    name = APP + "-bad"
    wire = ServeAppArgs(app_name=name, variants=[
        ServedVariant(name="only", weight=90, model_uri=models["champion"].uri,
                      model_version="v1")]).to_wire()
    entry = {"name": name, "route_prefix": PREFIX + "-bad", "import_path": IMPORT_PATH,
             "args": wire}
    _put_apps(ray_cluster, entry, drop=name)
    try:
        def failed() -> str | None:
            app = (_details(ray_cluster).get("applications") or {}).get(name) or {}
            return app.get("message") if app.get("status") == "DEPLOY_FAILED" else None

        message = wait_for(failed, timeout=120, what=f"{name} DEPLOY_FAILED")
        assert "variant weights must sum to 100, got 90 (only=90)" in message
    finally:
        _put_apps(ray_cluster, None, drop=name)
        wait_for(lambda: name not in (_details(ray_cluster).get("applications") or {}),
                 timeout=120, what=f"{name} removed")


def test_deleted_app_answers_404(ray_cluster: RayCluster, models: dict[str, Any],
                                 served: str) -> None:
    """Removing an app's entry from the config takes its route away (and only its route).

    An app of its own, so that no other test depends on running before this one."""
    name, prefix = APP + "-gone", PREFIX + "-gone"
    base = ray_cluster.serve_url.rstrip("/") + prefix
    _put_apps(ray_cluster, _entry(name, prefix, models), drop=name)
    try:
        wait_for(lambda: _app_state(ray_cluster, name) == "RUNNING", timeout=240,
                 what=f"{name} RUNNING")
        wait_for(lambda: httpx.get(f"{base}/healthz", timeout=5).status_code == 200,
                 timeout=60, what=f"the proxy routing to {name}")
    finally:
        _put_apps(ray_cluster, None, drop=name)
    wait_for(lambda: _app_state(ray_cluster, name) is None, timeout=120, what=f"{name} deleted")
    wait_for(lambda: httpx.get(f"{base}/healthz", timeout=5).status_code == 404,
             timeout=60, what="the proxy to drop the route")
    assert httpx.get(f"{served}/healthz", timeout=10).status_code == 200  # the other app stays
