"""The prediction service on a real local Ray (Serve behind HAProxy), deployed as the operator does.

The application goes in through the Serve REST API (PUT /api/serve/applications/ on the
dashboard), merged into the running config and removed the same way, leaving other
applications alone. The models and Gold versions are the serving world's (really trained).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import websockets
from tests.support.local_service import KEYS, user_config
from tests.support.ray_cluster import RayCluster, wait_for
from tests.support.serving_world import SYMBOLS, World

from mlta.serving.layout import HUB_NAME, IMPORT_PATH, INGRESS_NAME, replica_env
from mlta.serving.model import load_served_model

pytestmark = pytest.mark.integration

APP = "mlta-test-serving"
PREFIX = "/mlta/test/serving"


def _details(cluster: RayCluster) -> dict[str, Any]:
    resp = httpx.get(f"{cluster.dashboard_url}/api/serve/applications/", headers=cluster.headers,
                     timeout=30)
    resp.raise_for_status()
    return resp.json()


def _put_apps(cluster: RayCluster, entry: dict[str, Any] | None, drop: str) -> None:
    """PUT the running config with ``drop`` replaced by ``entry`` (or removed when None)."""
    serve = httpx.URL(cluster.serve_url)
    current = _details(cluster).get("applications") or {}
    apps = [app["deployed_app_config"] for name, app in sorted(current.items())
            if name != drop and app.get("deployed_app_config")]
    if entry is not None:
        apps.append(entry)
    resp = httpx.put(f"{cluster.dashboard_url}/api/serve/applications/", headers=cluster.headers,
                     json={"http_options": {"host": serve.host, "port": serve.port},
                           "applications": apps}, timeout=60)
    assert resp.status_code == 200, resp.text


def _app(name: str) -> Any:
    def state(cluster: RayCluster) -> str | None:
        app = (_details(cluster).get("applications") or {}).get(name)
        if app is None:
            return None
        if app["status"] == "DEPLOY_FAILED":
            detail = {n: d.get("message") for n, d in (app.get("deployments") or {}).items()}
            raise AssertionError(f"deploy failed: {app.get('message')} {detail}")
        return str(app["status"])
    return state


def _entry(world: World, config: dict[str, Any]) -> dict[str, Any]:
    # two service replicas: the hub is a deployment of its own (handles, leases)
    args = world.args(appName=APP, authEnabled=True, replicas=2,
                      statusUri=world.lake + "/serving/test/ray/status.json",
                      monitoring={"intervalSeconds": 1, "minSamples": 10})
    return {"name": APP, "route_prefix": PREFIX, "import_path": IMPORT_PATH,
            "args": args.to_wire(),
            "runtime_env": {"env_vars": {"MLTA_CORRELATION_ID": "cid-ray", **replica_env()}},
            "deployments": [{"name": INGRESS_NAME, "num_replicas": 2, "user_config": config},
                            {"name": HUB_NAME, "user_config": config}]}


@pytest.fixture(scope="module")
def served(ray_cluster: RayCluster, serving_world: World) -> Iterator[str]:
    base = ray_cluster.serve_url.rstrip("/") + PREFIX
    _put_apps(ray_cluster, _entry(serving_world, user_config().to_wire()), drop=APP)
    try:
        wait_for(lambda: _app(APP)(ray_cluster) == "RUNNING", timeout=300,
                 what=f"Serve application {APP} RUNNING")
        wait_for(lambda: httpx.get(f"{base}/v1/health", timeout=5).status_code == 200,
                 timeout=60, what="HAProxy routing to the service")
        yield base
    finally:
        if APP in (_details(ray_cluster).get("applications") or {}):
            _put_apps(ray_cluster, None, drop=APP)


def _headers(name: str = "desk") -> dict[str, str]:
    return {"x-api-key": KEYS[name]}


def test_predict_with_keys_through_haproxy(served: str, serving_world: World) -> None:
    model = load_served_model(serving_world.models["champion"]["modelUri"])
    row = dict.fromkeys(model.feature_columns, 0.2)
    assert httpx.post(f"{served}/v1/predict", json={"features": row}, timeout=30
                      ).status_code == 401
    resp = httpx.post(f"{served}/v1/predict", json={"features": row, "key": "k"},
                      headers=_headers(), timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["modelVersion"] == "v1" and math.isfinite(body["prediction"])
    assert resp.headers["content-type"] == "application/json"


def test_haproxy_exports_the_ingress_counters_itself(served: str, ray_cluster: RayCluster) -> None:
    # Serve's per-request metrics relay is off (mlta.serving.layout.HAPROXY_ENV); HAProxy's
    # own exporter still counts what went through the ingress. Serve reloads HAProxy when
    # another application changes (other tests deploy some), which starts the counters again:
    # send and read until one reading follows three answered requests.
    assert ray_cluster.haproxy_metrics_url
    seen: list[str] = []

    def counted() -> bool:
        for _ in range(3):
            assert httpx.get(f"{served}/v1/health", timeout=30).status_code == 200
        text = httpx.get(str(ray_cluster.haproxy_metrics_url), timeout=30).text
        seen[:] = [line for line in text.splitlines() if "http_responses_total{" in line]
        return any('proxy="http_frontend"' in line and 'code="2xx"' in line
                   and float(line.rsplit(" ", 1)[1]) >= 3 for line in seen)

    wait_for(counted, timeout=60, what="HAProxy's exporter counting 2xx responses",
             interval=1)


def test_v2_client_and_openapi(served: str, serving_world: World) -> None:
    import tritonclient.http as triton

    client = triton.InferenceServerClient(served.removeprefix("http://"))
    assert client.is_server_live()
    meta = client.get_model_metadata("champion", headers=_headers())
    width = meta["inputs"][0]["shape"][1]
    x = np.linspace(-1, 1, 2 * width).reshape(2, width)
    tensor = triton.InferInput("features", [2, width], "FP64")
    tensor.set_data_from_numpy(x, binary_data=False)
    out = client.infer("champion", [tensor], headers=_headers()).as_numpy("prediction")
    local = load_served_model(serving_world.models["champion"]["modelUri"]).predict(x)
    assert np.array_equal(out, local)
    spec = httpx.get(f"{served}/openapi.json", timeout=30).json()
    assert "/v1/predict" in spec["paths"] and "/v2/models/{name}/infer" in spec["paths"]


def test_websocket_push_and_subscribe_through_haproxy(served: str) -> None:
    url = served.replace("http://", "ws://") + "/v1/stream"
    status = httpx.get(f"{served}/v1/status", headers=_headers("ops"), timeout=30).json()
    symbol = SYMBOLS[0]
    last = status["feed"]["symbols"][symbol]["lastOpenTime"]

    async def scenario() -> None:
        headers = {"x-api-key": KEYS["desk"]}
        async with websockets.connect(url, additional_headers=headers) as sub, \
                websockets.connect(url) as pusher:
            assert json.loads(await sub.recv())["type"] == "welcome"
            await sub.send(json.dumps({"type": "subscribe", "symbols": [symbol]}))
            assert json.loads(await sub.recv())["type"] == "subscribed"
            await pusher.send(json.dumps({"type": "auth", "key": KEYS["desk"]}))
            assert json.loads(await pusher.recv())["type"] == "welcome"
            candle = {"openTime": last + 300_000, "open": 100.0, "high": 101.0, "low": 99.0,
                      "close": 100.5, "volume": 3.0}
            await pusher.send(json.dumps({"type": "candle", "symbol": symbol,
                                          "candle": candle}))
            mine = json.loads(await asyncio.wait_for(pusher.recv(), 30))
            theirs = json.loads(await asyncio.wait_for(sub.recv(), 30))
            assert mine["type"] == theirs["type"] == "prediction"
            assert mine["openTime"] == theirs["openTime"] == candle["openTime"]

    asyncio.run(scenario())


def test_status_file_and_key_rotation_without_restart(served: str, serving_world: World,
                                                      ray_cluster: RayCluster) -> None:
    from mlta import storage

    uri = serving_world.lake + "/serving/test/ray/status.json"
    status = wait_for(lambda: storage.exists(uri) and storage.read_json(uri), timeout=60,
                      what="the hub's status file")
    started = status["startedAt"]
    assert status["variants"]["champion"]["modelVersion"] == "v1"
    rotated = user_config(salt="rotated-salt").to_wire()
    _put_apps(ray_cluster, _entry(serving_world, rotated), drop=APP)
    model = load_served_model(serving_world.models["champion"]["modelUri"])
    row = dict.fromkeys(model.feature_columns, 0.1)

    def accepts() -> bool:  # the new digests are live once the old salt's digests are gone
        return httpx.post(f"{served}/v1/predict", json={"features": row}, headers=_headers(),
                          timeout=10).status_code == 200 and \
            (_details(ray_cluster)["applications"][APP]["status"] == "RUNNING")

    wait_for(accepts, timeout=120, what="the rotated keys to be live")
    after = wait_for(lambda: (s := storage.read_json(uri)) and s["updatedAt"] > status[
        "updatedAt"] and s, timeout=60, what="a newer status")
    assert after["startedAt"] == started  # the hub was reconfigured, not restarted


def test_bad_args_fail_the_deploy_with_our_message(ray_cluster: RayCluster,
                                                  serving_world: World) -> None:
    name = APP + "-bad"
    args = serving_world.args(appName=name).to_wire()
    args["variants"][0]["weight"] = 90
    _put_apps(ray_cluster, {"name": name, "route_prefix": PREFIX + "-bad",
                            "import_path": IMPORT_PATH, "args": args}, drop=name)
    try:
        def failed() -> str | None:
            app = (_details(ray_cluster).get("applications") or {}).get(name) or {}
            return app.get("message") if app.get("status") == "DEPLOY_FAILED" else None

        message = wait_for(failed, timeout=120, what=f"{name} DEPLOY_FAILED")
        assert "variant weights must sum to 100, got 110" in message
    finally:
        _put_apps(ray_cluster, None, drop=name)
        wait_for(lambda: name not in (_details(ray_cluster).get("applications") or {}),
                 timeout=120, what=f"{name} removed")
