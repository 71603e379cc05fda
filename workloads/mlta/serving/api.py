"""The HTTP API: REST under /v1, the Open Inference Protocol (KServe V2) under /v2, health.

Every answer is JSON; every error is ``{"error", "hint"}`` with its status code: 400
unreadable JSON (NaN and Infinity included), 401 missing or unknown key, 403 missing scope,
404 unknown symbol/variant/model, 409 a candle out of sequence, 413 too many rows, 422 a
body the model cannot take, 429 over the key's rate limit (with Retry-After), 503 the hub is
not reachable. Only the health endpoints (and the docs, unless ``auth.openDocs`` is false)
answer without a key.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoint annotations.
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..data.sources import enum_value
from ..errors import ServingError
from .candles import parse_candles
from .schemas import CandlesRequest, PredictRequest, PredictResponse, V2InferRequest, body
from .schemas import responses as documented
from .service import Refused, Service
from .validation import RequestRejected, loads, parse_body

router = APIRouter()
SERVER_NAME = "mlta"
V2_DATATYPES = {"FP64", "FP32", "INT64", "INT32", "INT16", "INT8"}


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def error_body(error: str, hint: str | None) -> bytes:
    """Every error's JSON body."""
    return dumps({"error": error, "hint": hint})


def json_response(payload: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(payload), status_code=status, media_type="application/json",
                    headers=headers)


def error_response(status: int, error: str, hint: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(error, hint), status_code=status, media_type="application/json",
                    headers=headers)


#: The replica's service: Serve re-wraps the FastAPI app, so ``request.app`` is not
#: necessarily the object whose ``state`` the deployment set (one service per replica process).
_REPLICA: dict[str, Service] = {}


def install(app: Any, service: Service) -> None:
    """Make ``service`` answer for ``app`` (and for this replica process)."""
    app.state.service = service
    _REPLICA["service"] = service


def service_of(request: Any) -> Service:
    return service_for(request.app)


def service_for(app: Any) -> Service:
    """The service answering for ``app``: its own, else this replica process's."""
    service: Service | None = getattr(app.state, "service", None)
    return service if service is not None else _REPLICA["service"]


async def answer(request: Request, scope: str,
                 handler: Callable[[Service], Awaitable[tuple[str, Any]]]) -> Response:
    """Admit, run ``handler``, map refusals to JSON errors, and count the request."""
    status, content, headers = await respond(service_of(request), request.headers, scope,
                                             handler)
    return Response(content, status_code=status, media_type="application/json",
                    headers=headers)


async def respond(service: Service, headers: Mapping[str, str], scope: str,
                  handler: Callable[[Service], Awaitable[tuple[str, Any]]]
                  ) -> tuple[int, bytes, dict[str, str] | None]:
    """The rules of every counted endpoint, free of any web framework: admit the key for
    ``scope``, run ``handler``, turn a refusal into its ``{"error", "hint"}`` body, and count
    the request by variant and status. Returns (status, JSON body, extra headers); FastAPI's
    routes (:func:`answer`) and the raw ASGI fast path (``fastpath``) both answer with it."""
    started = time.perf_counter()
    service.in_flight += 1
    variant, code = "", 500
    try:
        await service.admit(headers, scope)
        variant, payload = await handler(service)
        code = 200
        if isinstance(payload, dict) and "latencyMs" in payload:
            payload["latencyMs"] = round((time.perf_counter() - started) * 1000, 3)
        return 200, dumps(payload), None
    except Refused as exc:
        code = exc.status
        return exc.status, error_body(exc.message, exc.hint), exc.headers
    except RequestRejected as exc:
        code = exc.status
        return exc.status, error_body(exc.message, exc.hint), None
    except ServingError as exc:
        code = 503
        return 503, error_body(exc.message, exc.hint or "retry; check the deployment status"), None
    finally:
        service.in_flight -= 1
        service.record(variant, code, time.perf_counter() - started)


def predictor(raw: bytes) -> Callable[[Service], Awaitable[tuple[str, Any]]]:
    """The handler of ``POST /v1/predict`` for a request body (one rule for both paths)."""
    async def run(service: Service) -> tuple[str, Any]:
        parsed = parse_body(loads(raw), service.args.limits.max_batch_rows)
        result = service.predict(parsed)
        result.payload["latencyMs"] = 0.0
        return result.variant, result.payload

    return run


# -- health (open) -----------------------------------------------------------------------------
@router.get("/healthz", tags=["health"])
@router.get("/v1/health", tags=["health"])
async def health(request: Request) -> dict[str, Any]:
    """Liveness: the replica answers."""
    return {"status": "ok", "app": service_of(request).args.app_name}


@router.get("/v2/health/live", tags=["kserve-v2"])
async def v2_live() -> dict[str, bool]:
    return {"live": True}


@router.get("/v2/health/ready", tags=["kserve-v2"])
async def v2_ready(request: Request) -> dict[str, bool]:
    return {"ready": bool(service_of(request).models)}


# -- REST /v1 ----------------------------------------------------------------------------------
@router.post("/v1/predict", tags=["v1"], openapi_extra=body(PredictRequest),
             responses=documented(PredictResponse, 400, 401, 403, 413, 422, 429))
@router.post("/predict", tags=["v1"], include_in_schema=False)
async def predict(request: Request) -> Response:
    """Predict feature vectors: ``{"features": {...}}`` or ``{"rows": [{...}, ...]}``.

    Served by ``fastpath.ServiceApp`` before FastAPI routes it (same rules: ``predictor``);
    this route documents it and answers when the FastAPI app is served alone."""
    return await answer(request, "predict", predictor(await request.body()))


@router.post("/v1/candles", tags=["v1"], openapi_extra=body(CandlesRequest),
             responses=documented(None, 400, 401, 403, 404, 409, 413, 422, 429))
async def push_candles(request: Request) -> Response:
    """Push closed candles of one symbol; the prediction for each, by the routed variant."""
    async def run(service: Service) -> tuple[str, Any]:
        raw = loads(await request.body())
        if not isinstance(raw, dict) or not isinstance(raw.get("symbol"), str):
            raise RequestRejected("send {\"symbol\": \"BTCUSDT\", \"candles\": [...]}")
        step = service.step_ms()
        candles = parse_candles(raw.get("candles"), step, service.args.limits.max_batch_rows)
        key = raw.get("key")
        events = await service.hub.push(raw["symbol"], candles)
        picked = [service.pick(e, key if isinstance(key, str) else None) for e in events]
        return picked[-1]["variant"], {"symbol": raw["symbol"].upper(), "predictions": picked}

    return await answer(request, "predict", run)


@router.get("/v1/symbols", tags=["v1"], responses=documented(None, 401, 403, 429))
async def symbols(request: Request) -> Response:
    """The symbols and interval of the candle feed."""
    async def run(service: Service) -> tuple[str, Any]:
        return "", {"feed": enum_value(service.args.feed.type), **service.feed}

    return await answer(request, "predict", run)


@router.get("/v1/symbols/{symbol}/prediction", tags=["v1"],
            responses=documented(None, 401, 403, 404, 429))
async def latest(request: Request, symbol: str) -> Response:
    """The prediction for the symbol's last closed candle."""
    async def run(service: Service) -> tuple[str, Any]:
        event = await service.hub.latest(symbol.upper())
        if event is None:
            raise RequestRejected(f"no prediction for {symbol!r} yet",
                                  hint=f"symbols: {', '.join(service.feed.get('symbols', []))}",
                                  status=404)
        picked = service.pick(event, request.query_params.get("key"))
        return picked["variant"], picked

    return await answer(request, "predict", run)


@router.get("/v1/variants", tags=["v1"], responses=documented(None, 401, 403, 429))
@router.get("/variants", include_in_schema=False)
async def variants(request: Request) -> Response:
    """The split and what each variant serves."""
    async def run(service: Service) -> tuple[str, Any]:
        return "", {
            "app": service.args.app_name, "stickyKey": service.args.sticky_key,
            "split": service.router.describe(),
            "variants": [{"name": n, "weight": service.weights[n], "modelVersion": m.version,
                          "modelType": m.model_type, "targetKind": m.target_kind,
                          "featureColumns": m.feature_columns,
                          "explain": m.contributions is not None}
                         for n, m in service.models.items()]}

    return await answer(request, "predict", run)


@router.get("/v1/status", tags=["v1"], responses=documented(None, 401, 403, 429, 503))
async def status(request: Request) -> Response:
    """Per-variant requests, latency, drift, outcomes and the rollout test (admin scope)."""
    async def run(service: Service) -> tuple[str, Any]:
        return "", await service.hub.status()

    return await answer(request, "admin", run)


@router.get("/metrics", tags=["v1"], include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format when served outside Ray (in Ray: the node's metrics port)."""
    service = service_of(request)
    try:
        await service.admit(request.headers, "admin")
    except Refused as exc:
        return error_response(exc.status, exc.message, exc.hint, exc.headers)
    if service.metrics.backend != "prometheus":
        return error_response(404, "metrics are exported by Ray",
                              "scrape the Ray node's metrics port (ray_mlta_serving_*)")
    return Response(service.metrics.exposition(), media_type="text/plain; version=0.0.4")


# -- KServe V2 ---------------------------------------------------------------------------------
def _v2_models(service: Service) -> dict[str, str | None]:
    """V2 model name -> variant (None: routed by the split, when all share their features)."""
    names: dict[str, str | None] = {n: n for n in service.models}
    columns = {tuple(m.feature_columns) for m in service.models.values()}
    if len(columns) == 1 and service.args.deployment and service.args.deployment not in names:
        names[service.args.deployment] = None
    return names


def _v2_model(service: Service, name: str, version: str | None) -> tuple[str | None, Any]:
    names = _v2_models(service)
    if name not in names:
        raise RequestRejected(f"unknown model {name!r}",
                              hint=f"models: {', '.join(names)}", status=404)
    variant = names[name]
    model = service.models[variant or next(iter(service.models))]
    if version is not None and variant is not None and version != model.version:
        raise RequestRejected(f"model {name!r} serves version {model.version!r}, not {version!r}",
                              status=404)
    return variant, model


@router.get("/v2", tags=["kserve-v2"])
async def v2_server() -> dict[str, Any]:
    return {"name": SERVER_NAME, "version": "2", "extensions": []}


@router.get("/v2/models/{name}", tags=["kserve-v2"], responses=documented(None, 401, 404))
@router.get("/v2/models/{name}/versions/{version}", tags=["kserve-v2"],
            responses=documented(None, 401, 404))
async def v2_metadata(request: Request, name: str, version: str | None = None) -> Response:
    async def run(service: Service) -> tuple[str, Any]:
        variant, model = _v2_model(service, name, version)
        versions = [model.version] if variant else sorted({m.version for m in
                                                            service.models.values()})
        return "", {"name": name, "versions": versions, "platform": f"mlta_{model.model_type}",
                    "inputs": [{"name": "features", "datatype": "FP64",
                                "shape": [-1, len(model.feature_columns)]}],
                    "outputs": [{"name": "prediction", "datatype": "FP64", "shape": [-1]}],
                    "parameters": {"feature_columns": model.feature_columns}}

    return await answer(request, "predict", run)


@router.get("/v2/models/{name}/ready", tags=["kserve-v2"], responses=documented(None, 401, 404))
async def v2_model_ready(request: Request, name: str) -> Response:
    async def run(service: Service) -> tuple[str, Any]:
        _v2_model(service, name, None)
        return "", {"name": name, "ready": True}

    return await answer(request, "predict", run)


@router.post("/v2/models/{name}/infer", tags=["kserve-v2"], openapi_extra=body(V2InferRequest),
             responses=documented(None, 400, 401, 403, 404, 413, 422, 429))
@router.post("/v2/models/{name}/versions/{version}/infer", tags=["kserve-v2"],
             openapi_extra=body(V2InferRequest),
             responses=documented(None, 400, 401, 403, 404, 413, 422, 429))
async def v2_infer(request: Request, name: str, version: str | None = None) -> Response:
    async def run(service: Service) -> tuple[str, Any]:
        import numpy as np

        raw = loads(await request.body())
        variant, model = _v2_model(service, name, version)
        matrix, request_id, key = _v2_inputs(raw, len(model.feature_columns),
                                             service.args.limits.max_batch_rows)
        chosen = service.choose(key, variant)
        model = service.models[chosen]
        values = model.predict(matrix)
        service._sample(chosen, matrix, values)
        out: dict[str, Any] = {
            "model_name": name, "model_version": model.version,
            "outputs": [{"name": "prediction", "datatype": "FP64", "shape": [len(values)],
                         "data": np.asarray(values, dtype=np.float64).tolist()}],
            "parameters": {"variant": chosen}}
        if request_id is not None:
            out["id"] = request_id
        return chosen, out

    return await answer(request, "predict", run)


def _v2_inputs(raw: Any, width: int, max_rows: int) -> tuple[Any, str | None, str | None]:
    """The one input tensor of a V2 request as an (n, width) float64 matrix."""
    import numpy as np

    if not isinstance(raw, dict) or not isinstance(raw.get("inputs"), list) or not raw["inputs"]:
        raise RequestRejected("a V2 inference request needs a non-empty 'inputs' list",
                              hint='{"inputs": [{"name": "features", "shape": [1, F], '
                                   '"datatype": "FP64", "data": [...]}]}')
    if len(raw["inputs"]) != 1:
        raise RequestRejected("send exactly one input tensor (the feature matrix)")
    tensor = raw["inputs"][0]
    if not isinstance(tensor, dict):
        raise RequestRejected("inputs[0] must be a tensor object")
    shape, datatype, data = tensor.get("shape"), tensor.get("datatype"), tensor.get("data")
    if datatype not in V2_DATATYPES:
        raise RequestRejected(f"inputs[0].datatype {datatype!r} is not numeric",
                              hint=f"use one of {', '.join(sorted(V2_DATATYPES))}")
    if not (isinstance(shape, list) and len(shape) == 2 and all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise RequestRejected(f"inputs[0].shape must be [rows, {width}], got {shape!r}")
    if shape[1] != width:
        raise RequestRejected(f"inputs[0].shape {shape} does not match the model's {width} "
                              "features", hint="GET /v2/models/{name} lists them in order")
    if shape[0] < 1 or shape[0] > max_rows:
        raise RequestRejected(f"inputs[0] has {shape[0]} rows; 1..{max_rows} are allowed",
                              status=413 if shape[0] > max_rows else 422)
    try:
        matrix = np.asarray(data, dtype=np.float64).reshape(shape)
    except (TypeError, ValueError) as exc:
        raise RequestRejected(f"inputs[0].data does not hold {shape[0] * shape[1]} numbers "
                              f"({exc})") from exc
    if not np.isfinite(matrix).all():
        raise RequestRejected("inputs[0].data holds a value that is not a finite number")
    params: dict[str, Any] = raw["parameters"] if isinstance(raw.get("parameters"), dict) else {}
    key = params.get("key")
    request_id = raw.get("id")
    return (matrix, str(request_id) if request_id is not None else None,
            str(key) if key is not None else None)
