"""The HTTP API's edges on the real service behind uvicorn: KServe V2 versions, readiness and
tensor checks, docs and metrics behind keys, unknown routes, a deployment without a feed, a
long gap in the candles, and one rate limit held by the hub across replicas."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import Query
from tests.support.local_service import KEYS, Running, running, user_config
from tests.support.serving_world import SYMBOLS, World

from mlta.data.quality import SHORT_GAP_MAX_BARS
from mlta.serving.asgi import LocalHub, make_app
from mlta.serving.service import Refused, Service


@pytest.fixture(scope="module")
def open_svc(serving_world: World) -> Iterator[Running]:
    with running(serving_world.args()) as svc:
        yield svc


@pytest.fixture(scope="module")
def closed_docs(serving_world: World) -> Iterator[Running]:
    with running(serving_world.args(authEnabled=True, openDocs=False), user_config()) as svc:
        yield svc


def _key(name: str) -> dict[str, str]:
    return {"x-api-key": KEYS[name]}


def test_v2_versions_readiness_and_request_ids(open_svc: Running) -> None:
    url, service = open_svc.url, open_svc.service
    version = service.models["champion"].version
    meta = httpx.get(f"{url}/v2/models/champion/versions/{version}")
    assert meta.status_code == 200 and meta.json()["versions"] == [version]
    other = httpx.get(f"{url}/v2/models/champion/versions/{version}9")
    assert other.status_code == 404
    assert other.json()["error"] == f"model 'champion' serves version {version!r}, " \
                                    f"not {version + '9'!r}"
    ready = httpx.get(f"{url}/v2/models/champion/ready")
    assert ready.status_code == 200 and ready.json() == {"name": "champion", "ready": True}
    unknown = httpx.get(f"{url}/v2/models/nope/ready")
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "unknown model 'nope'", "hint": "models: champion, challenger, md"}
    # the deployment's own name is routed by the split, by the request's key
    key = next(k for k in (f"client-{i}" for i in range(1000))
               if service.router.choose(k) == "challenger")
    width = len(service.models["challenger"].feature_columns)
    x = np.linspace(-0.5, 0.5, 2 * width).reshape(2, width)
    body = {"id": "req-7", "parameters": {"key": key},
            "inputs": [{"name": "features", "shape": [2, width], "datatype": "FP64",
                        "data": x.ravel().tolist()}]}
    out = httpx.post(f"{url}/v2/models/md/infer", json=body).json()
    assert out["id"] == "req-7" and out["parameters"] == {"variant": "challenger"}
    assert out["outputs"][0]["data"] == service.models["challenger"].predict(x).tolist()
    del body["id"]
    assert "id" not in httpx.post(f"{url}/v2/models/champion/infer", json=body).json()


def _tensor(w: int, **change: Any) -> dict[str, Any]:
    return {"inputs": [{"name": "features", "shape": [1, w], "datatype": "FP64",
                        "data": [0.1] * w, **change}]}


@pytest.mark.parametrize(("body", "status", "needle"), [
    (lambda w: [1], 422, "a V2 inference request needs a non-empty 'inputs' list"),
    (lambda w: {"inputs": []}, 422, "a V2 inference request needs a non-empty 'inputs' list"),
    (lambda w: {"inputs": _tensor(w)["inputs"] * 2}, 422, "send exactly one input tensor"),
    (lambda w: {"inputs": [[0.1] * w]}, 422, "inputs[0] must be a tensor object"),
    (lambda w: _tensor(w, datatype="BYTES"), 422, "inputs[0].datatype 'BYTES' is not numeric"),
    (lambda w: _tensor(w, shape=[w]), 422, "inputs[0].shape must be [rows, {w}], got [{w}]"),
    (lambda w: _tensor(w, shape=[1, True]), 422, "inputs[0].shape must be [rows, {w}]"),
    (lambda w: _tensor(w, shape=[1, w - 1]), 422,
     "inputs[0].shape [1, {v}] does not match the model's {w} features"),
    (lambda w: _tensor(w, shape=[0, w], data=[]), 422, "inputs[0] has 0 rows; 1..1000 are"),
    (lambda w: _tensor(w, shape=[1001, w]), 413, "inputs[0] has 1001 rows; 1..1000 are"),
    (lambda w: _tensor(w, data=[0.1] * (w + 1)), 422,
     "inputs[0].data does not hold {w} numbers"),
    (lambda w: _tensor(w, data=["a"] * w), 422, "inputs[0].data does not hold {w} numbers"),
    (lambda w: json.dumps(_tensor(w)).replace("0.1", "1e999"), 422,  # JSON's inf
     "inputs[0].data holds a value that is not a finite number"),
], ids=["not-an-object", "no-inputs", "two-inputs", "not-a-tensor", "datatype", "shape-1d",
        "shape-bool", "width", "no-rows", "too-many-rows", "count", "strings", "infinite"])
def test_bad_v2_tensors_say_what_to_send(open_svc: Running,
                                         body: Callable[[int], Any], status: int,
                                         needle: str) -> None:
    width = len(open_svc.service.models["champion"].feature_columns)
    sent = body(width)
    resp = httpx.post(f"{open_svc.url}/v2/models/champion/infer",
                      **({"content": sent} if isinstance(sent, str) else {"json": sent}))
    assert resp.status_code == status, resp.text
    assert needle.format(w=width, v=width - 1) in resp.json()["error"]


def test_unknown_routes_and_bodies_without_a_symbol_are_json_errors(open_svc: Running) -> None:
    missing = httpx.get(f"{open_svc.url}/v1/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found", "hint": "see /docs for the endpoints"}
    method = httpx.post(f"{open_svc.url}/v1/status")
    assert method.status_code == 405 and method.json()["error"] == "Method Not Allowed"
    for body in ([], {"symbol": 7, "candles": []}, {"candles": []}):
        resp = httpx.post(f"{open_svc.url}/v1/candles", json=body)
        assert resp.status_code == 422
        assert resp.json()["error"] == 'send {"symbol": "BTCUSDT", "candles": [...]}'


def test_typed_parameters_fastapi_refuses_answer_in_the_service_format() -> None:
    """No endpoint of the service declares a parameter FastAPI validates today (they read the
    raw body themselves); the app's handler makes any that does answer like the others."""
    app = make_app()

    @app.get("/probe")
    async def probe(rows: int = Query()) -> dict[str, int]:
        return {"rows": rows}

    async def call(query: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mlta") as client:
            return await client.get(f"/probe{query}")

    ok, bad, empty = (asyncio.run(call(q)) for q in ("?rows=3", "?rows=many", ""))
    assert ok.json() == {"rows": 3}
    assert bad.status_code == 422 and bad.json()["hint"] == "see /docs"
    assert bad.json()["error"].startswith("query.rows: Input should be a valid integer")
    assert empty.status_code == 422 and empty.json()["error"] == "query.rows: Field required"


def test_docs_are_open_or_behind_a_predict_key(open_svc: Running, closed_docs: Running) -> None:
    html = httpx.get(f"{open_svc.url}/docs")
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    assert "'/openapi.json'" in html.text or '"/openapi.json"' in html.text
    url = closed_docs.url
    refused = httpx.get(f"{url}/docs")
    assert refused.status_code == 401 and refused.json()["error"] == "missing API key"
    assert refused.headers["www-authenticate"] == 'Bearer realm="mlta"'
    viewer = httpx.get(f"{url}/docs", headers=_key("viewer"))
    assert viewer.status_code == 403 and "lacks the 'predict' scope" in viewer.json()["error"]
    page = httpx.get(f"{url}/docs", headers=_key("desk"))
    assert page.status_code == 200 and "swagger-ui" in page.text
    schema = httpx.get(f"{url}/openapi.json", headers=_key("desk"))
    assert schema.status_code == 200 and "/v1/predict" in schema.json()["paths"]


def test_metrics_need_the_admin_scope(closed_docs: Running) -> None:
    url = f"{closed_docs.url}/metrics"
    missing = httpx.get(url)
    assert missing.status_code == 401 and missing.json()["error"] == "missing API key"
    desk = httpx.get(url, headers=_key("desk"))
    assert desk.status_code == 403 and desk.json()["error"] == "key 'desk' lacks the 'admin' scope"
    ops = httpx.get(url, headers=_key("ops"))
    assert ops.status_code == 200 and ops.headers["content-type"].startswith("text/plain")
    assert "mlta_serving_in_flight" in ops.text


def test_a_deployment_without_a_feed_takes_feature_vectors_only(serving_world: World) -> None:
    with running(serving_world.args(feed={"type": "none"})) as svc:
        candle = {"openTime": 0, "open": 1, "high": 1, "low": 1, "close": 1, "volume": 1}
        resp = httpx.post(f"{svc.url}/v1/candles",
                          json={"symbol": SYMBOLS[0], "candles": [candle]})
        assert resp.status_code == 404 and resp.json() == {
            "error": "this deployment has no candle feed",
            "hint": "send feature vectors to /v1/predict"}
        feed = httpx.get(f"{svc.url}/v1/symbols").json()
        assert feed["feed"] == "none" and feed["symbols"] == [] and feed["stepMs"] == 0
        row = {c: 0.1 for c in svc.service.models["champion"].feature_columns}
        assert httpx.post(f"{svc.url}/v1/predict", json={"features": row}).status_code == 200


def test_a_long_gap_restarts_the_indicators_and_predictions_warm_up(serving_world: World) -> None:
    with running(serving_world.args()) as svc:
        hub, symbol = svc.hub, SYMBOLS[0]
        last = hub.last_candle(symbol)
        assert last is not None
        after = last.flat_after(hub.step_ms, SHORT_GAP_MAX_BARS + 2)
        candle = dict(after.to_wire(hub.step_ms), volume=3.0)
        resp = httpx.post(f"{svc.url}/v1/candles", json={"symbol": symbol, "candles": [candle]})
        assert resp.status_code == 200, resp.text
        (pred,) = resp.json()["predictions"]
        assert pred["gap"] == {"missingBars": SHORT_GAP_MAX_BARS + 1, "action": "rewarmed"}
        assert pred["prediction"] is None and pred["warming"] is True and "label" not in pred
        (group,) = hub.groups.values()
        assert group.streams[symbol].rewarms == 1 and group.streams[SYMBOLS[1]].rewarms == 0
        assert hub.last_candle(symbol) == dataclasses.replace(after, volume=3.0)


def test_several_replicas_hold_one_rate_limit_through_the_hub(serving_world: World) -> None:
    args = serving_world.args(replicas=2, authEnabled=True)
    config = user_config({"requestsPerSecond": 0.2, "burst": 3})
    with running(args, config) as svc:
        url = f"{svc.url}/v1/predict"
        body = {"features": {c: 0.1 for c in svc.service.models["champion"].feature_columns}}
        codes = [httpx.post(url, json=body, headers=_key("desk")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # another replica of the same deployment: the hub's bucket for the key is empty
        other = Service(args, LocalHub(svc.hub), models=svc.service.models)
        other.configure(config)
        with pytest.raises(Refused) as refused:
            asyncio.run(other.admit(_key("desk"), "predict"))
        assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) >= 1
        assert asyncio.run(other.admit(_key("ops"), "predict")).name == "ops"
