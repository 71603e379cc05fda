"""The two Serve deployments: ``Predictor`` (one per variant) and the FastAPI ``Ingress``.

The ingress owns the router and a DeploymentHandle per variant; it never loads a model, so
it stays light and scales on request count alone. Each predictor loads its model version
once, in ``__init__``, and validates rows against that model's own feature list (variants
may use different features; a client sends the union and extras are ignored).

Errors are JSON ``{"error", "hint"}`` with a status code: 400 for unreadable JSON, 422 for
a body or features the model cannot take, 413 for an oversized batch, 503 when a predictor
cannot answer. The predictor raises ``RequestRejected``; it crosses the Ray boundary wrapped
in a RayTaskError and is unwrapped here.
"""

# No ``from __future__ import annotations`` here: Serve's ingress re-wraps the endpoint
# methods and FastAPI then cannot resolve string annotations (``request: Request`` turns
# into a required query parameter named "request").
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ray import serve
from ray.exceptions import RayError
from ray.serve.handle import DeploymentHandle
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ServingError
from ..logs import JsonFormatter, correlated
from ..specs.serving import ServeAppArgs, ServedVariant
from .model import LoadedModel
from .router import Arm, Router
from .validation import RequestRejected, parse_body

INGRESS_CPUS = 0.1
PREDICTOR_CPUS = 0.25
CORRELATION_HEADER = "x-correlation-id"
REQUEST_ID_HEADER = "x-request-id"

fastapi_app = FastAPI(title="mlta model deployment", docs_url=None, redoc_url=None)


def serving_logger() -> logging.Logger:
    """A JSON logger of our own: replicas keep Ray's handlers, our lines stay one JSON each."""
    logger = logging.getLogger("mlta.serving")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def error_response(status: int, error: str, hint: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "hint": hint}, status_code=status, headers=headers)


def _rejection(exc: BaseException) -> RequestRejected | None:
    """The RequestRejected behind ``exc`` (raised here, or in a replica and wrapped by Ray)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, RequestRejected):
        return cause
    return exc if isinstance(exc, RequestRejected) else None


@fastapi_app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Unknown paths and wrong methods answer in the same JSON error shape as the rest."""
    return error_response(exc.status_code, str(exc.detail),
                          "endpoints: POST /predict, GET /variants, GET /healthz")


@serve.deployment(ray_actor_options={"num_cpus": PREDICTOR_CPUS})
class Predictor:
    """One variant's model version, loaded once per replica."""

    def __init__(self, variant: dict[str, Any]) -> None:
        self.variant = ServedVariant.model_validate(variant)
        self.model = LoadedModel.load(self.variant.model_uri, self.variant.model_version)
        with correlated(os.environ.get("MLTA_CORRELATION_ID") or None):
            serving_logger().info("model loaded", extra={
                "variant": self.variant.name, "model_version": self.model.version,
                "features": len(self.model.feature_columns),
                "target_kind": self.model.target_kind})

    def predict(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Predictions for ``rows``, each tagged with this variant and model version."""
        out = self.model.predict_rows(rows)
        for item in out:
            item["variant"] = self.variant.name
            item["modelVersion"] = self.model.version
        return out

    def info(self) -> dict[str, Any]:
        return {"variant": self.variant.name, "modelVersion": self.model.version,
                "featureColumns": self.model.feature_columns, "targetKind": self.model.target_kind}


@serve.deployment(ray_actor_options={"num_cpus": INGRESS_CPUS})
@serve.ingress(fastapi_app)
class Ingress:
    """HTTP front: validates the body shape, routes by weight/key, calls the variant."""

    def __init__(self, args: dict[str, Any], predictors: dict[str, DeploymentHandle]) -> None:
        self.args = ServeAppArgs.model_validate(args)
        self.router = Router([Arm(v.name, v.weight) for v in self.args.variants],
                             sticky=self.args.sticky_key)
        self.predictors = predictors
        self.log = serving_logger()
        with correlated(self.args.correlation_id):
            self.log.info("ingress ready", extra={"app": self.args.app_name,
                                                  "split": self.router.describe()})

    @fastapi_app.get("/healthz")
    async def healthz(self) -> dict[str, Any]:
        return {"status": "ok", "app": self.args.app_name}

    @fastapi_app.get("/variants")
    async def variants(self) -> dict[str, Any]:
        return {
            "app": self.args.app_name,
            "stickyKey": self.args.sticky_key,
            "split": self.router.describe(),
            "variants": [{"name": v.name, "weight": v.weight, "modelVersion": v.model_version,
                          "replicas": v.replicas} for v in self.args.variants],
        }

    @fastapi_app.post("/predict")
    async def predict(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        cid = (request.headers.get(CORRELATION_HEADER) or self.args.correlation_id
               or os.environ.get("MLTA_CORRELATION_ID") or None)
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        headers = {REQUEST_ID_HEADER: request_id}
        with correlated(cid):
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self.log.info("rejected", extra={"request_id": request_id, "status": 400})
                return error_response(400, f"the body is not valid JSON: {exc}",
                                       'send {"features": {...}} as application/json', headers)
            try:
                parsed = parse_body(body)
                variant = self.router.choose(parsed.key)
                rows = [dict(r) for r in parsed.rows]
                predictions = await self.predictors[variant].predict.remote(rows)
            except (RequestRejected, RayError) as exc:
                rejected = _rejection(exc)
                if rejected is None:
                    self.log.error("predictor failed", extra={"request_id": request_id,
                                                              "error": str(exc)[:2000]})
                    return error_response(503, "the model variant could not answer",
                                          "retry; check the Serve application status", headers)
                self.log.info("rejected", extra={"request_id": request_id,
                                                 "status": rejected.status,
                                                 "error": rejected.message})
                return error_response(rejected.status, rejected.message, rejected.hint, headers)
            except ServingError as exc:
                return error_response(500, exc.message, exc.hint, headers)
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
            version = predictions[0]["modelVersion"]
            payload: dict[str, Any] = {"variant": variant, "modelVersion": version,
                                       "predictions": predictions, "latencyMs": latency_ms}
            if parsed.single:
                payload["prediction"] = predictions[0]["prediction"]
                if "label" in predictions[0]:
                    payload["label"] = predictions[0]["label"]
            self.log.info("predicted", extra={"request_id": request_id, "variant": variant,
                                              "model_version": version, "rows": len(rows),
                                              "latency_ms": latency_ms})
            return JSONResponse(payload, headers=headers)
