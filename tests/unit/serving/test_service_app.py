"""The service in process behind a real uvicorn: REST, candles, parity, auth, limits, V2, WS."""

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
from tests.support.local_service import KEYS, Running, running, user_config
from tests.support.serving_world import SYMBOLS, World

from mlta.data.lake import read_dataset
from mlta.serving.model import load_served_model


def _open_args(world: World) -> Any:
    return world.args(statusUri=world.lake + "/serving/test/md/status.json",
                      monitoring={"intervalSeconds": 0.5, "minSamples": 10},
                      limits={"streamQueue": 4})


@pytest.fixture(scope="module")
def open_service(serving_world: World) -> Iterator[Running]:
    with running(_open_args(serving_world)) as svc:
        yield svc


@pytest.fixture()
def own_service(serving_world: World) -> Iterator[Running]:
    """A service of the test's own, for a test that moves the symbols' candle state on (the
    candle tests of the shared one send the Gold candles in order, in any test order)."""
    with running(_open_args(serving_world)) as svc:
        yield svc


@pytest.fixture(scope="module")
def keyed_service(serving_world: World) -> Iterator[Running]:
    args = serving_world.args(authEnabled=True, openDocs=False)
    with running(args, user_config({"requestsPerSecond": 0.2, "burst": 3})) as svc:
        yield svc


def _row(svc: Running, value: float = 0.1) -> dict[str, float]:
    cols = svc.service.models["champion"].feature_columns
    return {c: value for c in cols}


def _candles(world: World, symbol: str) -> list[dict[str, Any]]:
    """The candles the full Gold version has after the training Gold's last one."""
    full, _ = read_dataset(world.full_uri)
    train, _ = read_dataset(world.dataset_uri)
    last = train[train["symbol"] == symbol]["open_time"].max()
    rows = full[(full["symbol"] == symbol) & (full["open_time"] > last)]
    return [{"openTime": int(r.open_time.timestamp() * 1000), "open": r.open, "high": r.high,
             "low": r.low, "close": r.close, "volume": r.volume} for r in rows.itertuples()]


def test_predict_answers_with_variant_version_and_label(open_service: Running) -> None:
    resp = httpx.post(f"{open_service.url}/v1/predict",
                      json={"features": _row(open_service), "key": "client-1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["variant"] in ("champion", "challenger")
    assert body["modelVersion"] == "v1" and math.isfinite(body["prediction"])
    old = httpx.post(f"{open_service.url}/predict", json={"features": _row(open_service),
                                                          "key": "client-1"})
    assert old.status_code == 200 and old.json()["variant"] == body["variant"]


@pytest.mark.parametrize(("content", "status", "needle"), [
    (b"{not json", 400, "not valid JSON"),
    (b'{"features": {"a": NaN}}', 400, "NaN is not a JSON number"),
    (b'{"rows": []}', 422, "non-empty"),
    (b'{"features": {"f_x": 1}}', 422, "missing feature columns"),
    (b'{"features": {}, "explain": "yes"}', 422, "'explain' must be true or false"),
])
def test_bad_bodies_are_json_errors(open_service: Running, content: bytes, status: int,
                                    needle: str) -> None:
    resp = httpx.post(f"{open_service.url}/v1/predict", content=content,
                      headers={"content-type": "application/json"})
    assert resp.status_code == status, resp.text
    assert needle in resp.json()["error"]


def test_oversized_batch_is_413(open_service: Running) -> None:
    rows = [_row(open_service)] * 1001
    resp = httpx.post(f"{open_service.url}/v1/predict", json={"rows": rows})
    assert resp.status_code == 413 and "too many rows" in resp.json()["error"]


def test_explain_is_refused_until_the_predictor_has_contributions(open_service: Running) -> None:
    resp = httpx.post(f"{open_service.url}/v1/predict",
                      json={"features": _row(open_service), "explain": True})
    if open_service.service.models["champion"].contributions is None:
        assert resp.status_code == 422 and "explanations are not available" in resp.json()["error"]
    else:  # pragma: no cover - once the training package's predictor has landed
        assert resp.status_code == 200 and "contributions" in resp.json()["predictions"][0]


def test_replaying_gold_candles_gives_the_batch_predictions(open_service: Running,
                                                           serving_world: World) -> None:
    """Parity: candles pushed one by one == batch prediction on the Gold rows (bit for bit)."""
    symbol = SYMBOLS[0]
    candles = _candles(serving_world, symbol)[:40]
    got: dict[str, list[float]] = {"champion": [], "challenger": []}
    for candle in candles:
        resp = httpx.post(f"{open_service.url}/v1/candles",
                          json={"symbol": symbol, "candles": [candle]})
        assert resp.status_code == 200, resp.text
        event = open_service.hub.latest[symbol]  # every variant predicts every candle
        for name in got:
            got[name].append(event["predictions"][name]["prediction"])
    full, _ = read_dataset(serving_world.full_uri)
    opens = full["open_time"].astype("datetime64[ms, UTC]").astype("int64")
    rows = full[(full["symbol"] == symbol) & opens.isin([c["openTime"] for c in candles])]
    for name, out in serving_world.models.items():
        model = load_served_model(out["modelUri"])
        batch = model.predict(rows[model.feature_columns].to_numpy(dtype=np.float64))
        assert len(batch) == len(candles)
        assert np.array_equal(np.asarray(got[name]), batch), name


def test_candles_sequence_rules(open_service: Running, serving_world: World) -> None:
    symbol = SYMBOLS[1]
    candles = _candles(serving_world, symbol)
    url = f"{open_service.url}/v1/candles"
    ok = httpx.post(url, json={"symbol": symbol, "candles": candles[:2]})
    assert ok.status_code == 200 and len(ok.json()["predictions"]) == 2
    dup = httpx.post(url, json={"symbol": symbol, "candles": [candles[1]]})
    assert dup.status_code == 409 and "duplicate" in dup.json()["error"]
    old = httpx.post(url, json={"symbol": symbol, "candles": [candles[0]]})
    assert old.status_code == 409
    gap = httpx.post(url, json={"symbol": symbol, "candles": [candles[5]]})
    assert gap.status_code == 200 and gap.json()["predictions"][0]["gap"] == {
        "missingBars": 3, "action": "filled"}
    unknown = httpx.post(url, json={"symbol": "NOPEUSDT", "candles": [candles[6]]})
    assert unknown.status_code == 404 and "unknown symbol" in unknown.json()["error"]
    bad = dict(candles[6], high=candles[6]["low"] * 0.5)
    assert httpx.post(url, json={"symbol": symbol, "candles": [bad]}).status_code == 422
    latest = httpx.get(f"{open_service.url}/v1/symbols/{symbol}/prediction").json()
    assert latest["openTime"] == candles[5]["openTime"]


def test_status_reports_requests_latency_drift_and_outcomes(own_service: Running,
                                                            serving_world: World) -> None:
    candles = _candles(serving_world, SYMBOLS[0])[:40]  # outcomes: candles past the horizon
    resp = httpx.post(f"{own_service.url}/v1/candles",
                      json={"symbol": SYMBOLS[0], "candles": candles})
    assert resp.status_code == 200, resp.text
    for _ in range(20):
        httpx.post(f"{own_service.url}/v1/predict", json={"features": _row(own_service, 5.0)})
    own_service.hub.report(own_service.service.drain_report())
    own_service.hub.refresh()
    status = httpx.get(f"{own_service.url}/v1/status").json()
    champion = status["variants"]["champion"]
    assert champion["requests"] >= 1 and champion["p50Ms"] is not None
    assert champion["drift"]["samples"] >= 10 and champion["drift"]["topFeatures"]
    assert status["variants"]["champion"]["outcomes"]["scored"] >= 1
    metrics = httpx.get(f"{own_service.url}/metrics").text
    assert 'mlta_serving_requests_total{code="200",model_version="v1",variant=' in metrics
    assert "mlta_serving_feature_psi" in metrics


def test_v2_with_a_real_triton_client(open_service: Running) -> None:
    import tritonclient.http as triton

    client = triton.InferenceServerClient(open_service.url.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    meta = client.get_model_metadata("champion")
    width = meta["inputs"][0]["shape"][1]
    x = np.full((3, width), 0.1, dtype=np.float64)
    tensor = triton.InferInput("features", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x, binary_data=False)
    result = client.infer("champion", [tensor])
    local = open_service.service.models["champion"].predict(x)
    assert np.array_equal(result.as_numpy("prediction"), local)
    with pytest.raises(triton.InferenceServerException):
        client.get_model_metadata("nope")


def _flat(hub: Any, symbol: str, k: int) -> dict[str, Any]:
    last = hub.last_candle(symbol)
    c = last.flat_after(hub.step_ms, k)
    return {"openTime": c.open_ms, "open": c.open, "high": c.high, "low": c.low,
            "close": c.close, "volume": 1.0}


def test_websocket_subscribe_push_and_a_client_that_falls_behind(own_service: Running) -> None:
    """A client more than streamQueue (4) messages behind is closed with 1008; others go on."""
    behind, steady = SYMBOLS
    url = own_service.url.replace("http://", "ws://") + "/v1/stream"
    hub = own_service.hub
    post = f"{own_service.url}/v1/candles"

    async def scenario() -> None:
        async with websockets.connect(url) as fast, websockets.connect(url) as slow:
            assert json.loads(await fast.recv())["type"] == "welcome"
            await fast.send(json.dumps({"type": "subscribe", "symbols": [steady]}))
            assert json.loads(await fast.recv())["symbols"] == [steady]
            await slow.send(json.dumps({"type": "subscribe", "symbols": [behind]}))
            await fast.send(json.dumps({"type": "candle", "symbol": "X", "candle": {}}))
            assert json.loads(await fast.recv())["type"] == "error"  # and the socket stays open
            # push over the socket: the pusher gets its prediction
            await fast.send(json.dumps({"type": "candle", "symbol": steady,
                                        "candle": _flat(hub, steady, 1)}))
            pushed = json.loads(await fast.recv())
            assert pushed["type"] == "prediction" and pushed["symbol"] == steady
            burst = [_flat(hub, behind, k) for k in range(1, 9)]
            resp = await asyncio.to_thread(httpx.post, post, json={"symbol": behind,
                                                                    "candles": burst})
            assert resp.status_code == 200
            with pytest.raises(websockets.ConnectionClosed) as closed:
                for _ in range(20):
                    await asyncio.wait_for(slow.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "slow consumer" in closed.value.rcvd.reason
            one = _flat(hub, steady, 1)
            resp = await asyncio.to_thread(httpx.post, post, json={"symbol": steady,
                                                                    "candles": [one]})
            assert resp.status_code == 200
            event = json.loads(await asyncio.wait_for(fast.recv(), 10))
            assert event["type"] == "prediction" and event["openTime"] == one["openTime"]

    asyncio.run(scenario())


def test_keys_scopes_and_rate_limit(keyed_service: Running) -> None:
    url = f"{keyed_service.url}/v1/predict"
    body = {"features": _row(keyed_service)}
    assert httpx.get(f"{keyed_service.url}/v1/health").status_code == 200
    missing = httpx.post(url, json=body)
    assert missing.status_code == 401 and missing.json()["error"] == "missing API key"
    wrong = httpx.post(url, json=body, headers={"x-api-key": "x" * 30})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid API key"
    viewer = httpx.post(url, json=body, headers={"authorization": f"Bearer {KEYS['viewer']}"})
    assert viewer.status_code == 403 and "lacks the 'predict' scope" in viewer.json()["error"]
    status = httpx.get(f"{keyed_service.url}/v1/status",
                       headers={"x-api-key": KEYS["desk"]})
    assert status.status_code == 403
    assert httpx.get(f"{keyed_service.url}/openapi.json").status_code == 401
    codes = [httpx.post(url, json=body, headers={"x-api-key": KEYS["desk"]}).status_code
             for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    limited = httpx.post(url, json=body, headers={"x-api-key": KEYS["desk"]})
    if limited.status_code == 429:
        assert int(limited.headers["retry-after"]) >= 1
    ops = httpx.get(f"{keyed_service.url}/v1/status", headers={"x-api-key": KEYS["ops"]})
    assert ops.status_code == 200
    # rotation: a new salt and key set replaces the old one on the live service
    keyed_service.service.configure(user_config(salt="salt-2"))
    assert httpx.post(url, json=body, headers={"x-api-key": KEYS["ops"]}).status_code == 200
