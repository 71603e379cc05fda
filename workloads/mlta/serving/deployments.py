"""The two Serve deployments: ``service`` (FastAPI ingress, N replicas) and ``hub`` (one).

``service`` replicas hold every variant's model and answer HTTP and WebSocket themselves
(behind HAProxy, see ``layout``); ``hub`` holds the per-symbol state. Both take their live
settings (effective weights, hashed API keys, limits) from ``user_config`` in
``reconfigure()``, so a key rotation or a rollout decision reaches running replicas without
a restart.
"""

# No ``from __future__ import annotations``: Serve's ingress re-wraps the endpoint methods.
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from ray import serve
from ray.exceptions import RayError
from ray.serve.handle import DeploymentHandle

from ..data.sources import enum_value
from ..errors import ServingError
from ..logs import JsonFormatter, correlated
from ..specs.serving import ServeAppArgs, ServeUserConfig
from .api import install
from .asgi import LocalHub, make_app
from .candles import Candle
from .fastpath import ServiceApp
from .hub import HubCore
from .metrics import Metrics
from .service import Service
from .validation import RequestRejected

SERVICE_CPUS = 0.1
HUB_CPUS = 0.1
fastapi_app = make_app()
# Serve freezes a copy of it; each replica names its service with api.install.
service_app = ServiceApp(fastapi_app)


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


def _unwrap(exc: RayError) -> Exception:
    """The hub's own RequestRejected behind a Ray error, else a ServingError (503)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, RequestRejected):
        return cause
    return ServingError(f"the hub could not answer: {str(exc)[:500]}",
                        hint="retry; check the Serve application status")


class HandleHub:
    """The hub through its Serve handle (what a service replica uses in Ray)."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            return await getattr(self.handle, method).remote(*args)
        except RayError as exc:
            raise _unwrap(exc) from exc

    async def info(self) -> dict[str, Any]:
        out: dict[str, Any] = await self._call("info")
        return out

    async def push(self, symbol: str, candles: list[Candle],
                   origin: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = await self._call("push", symbol, candles, origin)
        return out

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        try:
            stream: Any = self.handle.options(stream=True).subscribe.remote()
            async for event in stream:
                yield event
        except RayError as exc:
            raise _unwrap(exc) from exc

    async def report(self, payload: dict[str, Any]) -> None:
        await self._call("report", payload)

    async def lease(self, key: str, limit: dict[str, Any], want: float) -> tuple[float, float]:
        granted, wait = await self._call("lease", key, limit, want)
        return float(granted), float(wait)

    async def status(self) -> dict[str, Any]:
        out: dict[str, Any] = await self._call("status")
        return out

    async def latest(self, symbol: str) -> dict[str, Any] | None:
        out: dict[str, Any] | None = await self._call("latest", symbol)
        return out


@serve.deployment(num_replicas=1, max_ongoing_requests=10_000,
                  ray_actor_options={"num_cpus": HUB_CPUS},
                  logging_config={"enable_access_log": False})
class Hub:
    """Feeds, per-symbol features, candle predictions, subscriptions, drift, outcomes."""

    async def __init__(self, args: dict[str, Any]) -> None:  # type: ignore[misc]
        parsed = ServeAppArgs.model_validate(args)
        self.log = serving_logger()
        with correlated(parsed.correlation_id or os.environ.get("MLTA_CORRELATION_ID") or None):
            self.core = HubCore(parsed, Metrics("ray"))
            self.log.info("hub ready", extra={"app": parsed.app_name,
                                              "symbols": ",".join(self.core.symbols)})
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self.core.run(self._stop))]
        if enum_value(self.core.args.feed.type) == "binance":
            from .feeds import BinanceFeed

            self._tasks.append(loop.create_task(BinanceFeed(self.core).run(self._stop)))

    def reconfigure(self, config: dict[str, Any]) -> None:
        ServeUserConfig.model_validate(config)  # the hub keeps no key; validated all the same

    def info(self) -> dict[str, Any]:
        return {"symbols": self.core.symbols, "interval": self.core.interval,
                "stepMs": self.core.step_ms}

    def push(self, symbol: str, candles: list[Candle],
             origin: str | None = None) -> list[dict[str, Any]]:
        events = self.core.push(symbol, candles)
        if origin is not None:
            for event in events:
                event["origin"] = origin
        return events

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        async for event in self.core.subscribe():
            yield event

    def report(self, payload: dict[str, Any]) -> None:
        self.core.report(payload)

    def lease(self, key: str, limit: dict[str, Any], want: float) -> tuple[float, float]:
        return self.core.lease(key, limit, want)

    def status(self) -> dict[str, Any]:
        return self.core.status()

    def latest(self, symbol: str) -> dict[str, Any] | None:
        return self.core.latest.get(symbol)


@serve.deployment(max_ongoing_requests=256, ray_actor_options={"num_cpus": SERVICE_CPUS},
                  logging_config={"enable_access_log": False})
@serve.ingress(service_app)
class ServiceDeployment:
    """REST /v1, KServe V2 and WebSocket /v1/stream with every variant's model in process."""

    async def __init__(  # type: ignore[misc]  # Serve awaits async constructors
            self, args: dict[str, Any], hub: DeploymentHandle | None = None) -> None:
        parsed = ServeAppArgs.model_validate(args)
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        tasks = []
        with correlated(parsed.correlation_id or os.environ.get("MLTA_CORRELATION_ID") or None):
            metrics = Metrics("ray")
            if hub is None:  # one replica: the hub lives in it, no Ray hop for candles
                core = HubCore(parsed, metrics)
                client: Any = LocalHub(core)
                tasks.append(loop.create_task(core.run(self._stop)))
                if enum_value(parsed.feed.type) == "binance":
                    from .feeds import BinanceFeed

                    tasks.append(loop.create_task(BinanceFeed(core).run(self._stop)))
                self.service = Service(parsed, client, metrics, models=core.models)
            else:
                self.service = Service(parsed, HandleHub(hub), metrics)
            install(fastapi_app, self.service)
            await self.service.start()
            serving_logger().info("service ready", extra={
                "app": parsed.app_name, "split": self.service.router.describe(),
                "versions": ",".join(f"{n}={m.version}" for n, m in self.service.models.items())})
        tasks.append(loop.create_task(self.service.run(self._stop)))
        self._tasks = tasks

    def reconfigure(self, config: dict[str, Any]) -> None:
        self.service.configure(ServeUserConfig.model_validate(config))
