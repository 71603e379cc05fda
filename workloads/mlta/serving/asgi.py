"""The service's ASGI application (FastAPI), and an in-process hub client.

``make_app()`` builds the same FastAPI application whether it runs inside a Serve replica
(the ``service`` deployment sets ``app.state.service``) or in a plain uvicorn process
(``local_app``: the tests, and the benchmark's check that mlta costs little beyond the model);
both serve it behind ``fastpath.ServiceApp``.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoint annotations.
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..specs.serving import ServeAppArgs
from . import api, stream
from .candles import Candle
from .fastpath import ServiceApp
from .hub import HubCore
from .metrics import Metrics
from .service import Refused, Service

TITLE = "mlta prediction service"
DESCRIPTION = """Real-time predictions of a ModelDeployment.

* REST under `/v1`: feature vectors (`POST /v1/predict`), closed candles (`POST /v1/candles`),
  the last prediction per symbol, the split, status (admin).
* WebSocket `/v1/stream`: subscribe to symbols or push candles; predictions as candles close.
* Open Inference Protocol (KServe V2) under `/v2`.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>` when the deployment
has `spec.auth`; errors are `{"error", "hint"}` JSON with their status code.
"""


def make_app() -> FastAPI:
    """The FastAPI app; ``app.state.service`` must be set before it serves."""
    app = FastAPI(title=TITLE, description=DESCRIPTION, version="1", docs_url=None,
                  openapi_url=None, redoc_url=None)
    app.include_router(api.router)
    app.include_router(stream.router)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return api.error_response(exc.status_code, str(exc.detail),
                                  "see /docs for the endpoints")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        return api.error_response(422, problems or "invalid request", "see /docs")

    def _docs_refusal(request: Request) -> Response | None:
        service = api.service_of(request)
        if service.args.open_docs:
            return None
        try:
            service.authenticate(request.headers, "predict")
        except Refused as exc:
            return api.error_response(exc.status, exc.message, exc.hint, exc.headers)
        return None

    @app.get("/openapi.json", include_in_schema=False)
    async def _openapi(request: Request) -> Response:
        return _docs_refusal(request) or JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def _docs(request: Request) -> Response:
        refused = _docs_refusal(request)
        if refused is not None:
            return refused
        html: HTMLResponse = get_swagger_ui_html(
            openapi_url=request.scope.get("root_path", "") + "/openapi.json", title=TITLE)
        return html

    return app


class LocalHub:
    """The hub in this process (tests, the bare benchmark server): direct calls."""

    def __init__(self, core: HubCore) -> None:
        self.core = core

    async def info(self) -> dict[str, Any]:
        return {"symbols": self.core.symbols, "interval": self.core.interval,
                "stepMs": self.core.step_ms}

    async def push(self, symbol: str, candles: list[Candle],
                   origin: str | None = None) -> list[dict[str, Any]]:
        events = self.core.push(symbol, candles)
        if origin is not None:
            for event in events:
                event["origin"] = origin
        return events

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        async for event in self.core.subscribe():
            yield event

    async def report(self, payload: dict[str, Any]) -> None:
        self.core.report(payload)

    async def lease(self, key: str, limit: dict[str, Any], want: float) -> tuple[float, float]:
        return self.core.lease(key, limit, want)

    async def status(self) -> dict[str, Any]:
        return self.core.status()

    async def latest(self, symbol: str) -> dict[str, Any] | None:
        return self.core.latest.get(symbol)


def local_app(args: ServeAppArgs) -> tuple[ServiceApp, Service, HubCore]:
    """The whole service in one process: hub, service and app (no Ray), served as a replica
    serves it (the predict fast path in front of the FastAPI app)."""
    metrics = Metrics("prometheus")
    core = HubCore(args, metrics)
    service = Service(args, LocalHub(core), metrics, models=core.models)
    app = make_app()
    app.state.service = service
    stop = asyncio.Event()

    @app.on_event("startup")
    async def _start() -> None:
        await service.start()
        app.state.tasks = [asyncio.get_running_loop().create_task(service.run(stop)),
                           asyncio.get_running_loop().create_task(core.run(stop))]

    @app.on_event("shutdown")
    async def _stop() -> None:
        stop.set()
        for task in app.state.tasks:
            task.cancel()

    return ServiceApp(app), service, core
