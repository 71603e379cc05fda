"""The service replica's core: models in process, the A/B router, keys, limits, stats.

One ``Service`` per replica answers every request itself: a feature vector is routed to a
variant (a function call, not a Ray hop) and predicted by that variant's model loaded in this
process. What must be shared across replicas goes to the hub (``HubClient``): candles,
subscriptions, batched stats and drift samples (once a second), and rate-limit leases when
there is more than one replica. The API modules (``api_v1``, ``api_v2``, ``stream``) call
into this class; it imports no Ray.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ServingError
from ..specs.serving import ServeAppArgs, ServeUserConfig
from .auth import ANONYMOUS, KeyStore, Principal, presented_key
from .candles import Candle
from .limits import Limiter
from .metrics import Metrics
from .model import ServedModel, load_served_model
from .router import Arm, Router
from .stats import StatsBook
from .validation import ParsedRequest, RequestRejected, to_matrix

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..specs.modeldeployment import RateLimitSpec

log = logging.getLogger("mlta.serving")
REPORT_SECONDS = 1.0
DRIFT_SAMPLE_ROWS = 256  # per variant per report


class HubClient(Protocol):
    """What a service replica asks of the hub (in process, or through a Serve handle)."""

    async def info(self) -> dict[str, Any]: ...
    async def push(self, symbol: str, candles: list[Candle],
                   origin: str | None = None) -> list[dict[str, Any]]: ...
    def subscribe(self) -> AsyncIterator[dict[str, Any]]: ...
    async def report(self, payload: dict[str, Any]) -> None: ...
    async def lease(self, key: str, limit: dict[str, Any], want: float) -> tuple[float, float]: ...
    async def status(self) -> dict[str, Any]: ...
    async def latest(self, symbol: str) -> dict[str, Any] | None: ...


class Refused(Exception):
    """Auth or limit refusal: HTTP status, message, hint and headers for the JSON answer."""

    def __init__(self, status: int, message: str, hint: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint
        self.headers = headers or {}


@dataclass
class Answer:
    variant: str
    payload: dict[str, Any]


class Service:
    def __init__(self, args: ServeAppArgs, hub: HubClient, metrics: Metrics | None = None,
                 models: dict[str, ServedModel] | None = None) -> None:
        self.args = args
        self.hub = hub
        self.metrics = metrics or Metrics("prometheus")
        self.models = models or {v.name: load_served_model(v.model_uri, v.model_version)
                                 for v in args.variants}
        self.weights = {v.name: v.weight for v in args.variants}
        self.router = Router([Arm(v.name, v.weight) for v in args.variants],
                             sticky=args.sticky_key)
        self.keys = KeyStore()
        lease = self._lease if args.replicas > 1 else None
        self.limiter = Limiter(None, lease=lease)
        self.default_limit: RateLimitSpec | None = None
        self.stats = StatsBook()
        self._samples: dict[str, tuple[list[list[float]], list[float]]] = {}
        self._rng = random.Random()
        self.in_flight = 0
        self.open_streams: dict[str, int] = {}
        self.feed: dict[str, Any] = {"symbols": [], "interval": ""}
        self.configure(ServeUserConfig())

    # -- configuration -----------------------------------------------------------------------
    def configure(self, config: ServeUserConfig) -> None:
        """Apply live settings (Serve ``reconfigure``): weights, key digests, limits."""
        from ..specs.modeldeployment import RateLimitSpec

        weights = {v.name: config.weights.get(v.name, v.weight) for v in self.args.variants}
        self.router = Router([Arm(n, w) for n, w in weights.items()], sticky=self.args.sticky_key)
        self.weights = weights
        self.keys = KeyStore(config.keys, config.salt)
        default = config.rate_limit
        if default is None and self.args.auth_enabled:
            default = RateLimitSpec()
        self.default_limit = default
        self.limiter.reset(default)

    async def _lease(self, key: str, limit: RateLimitSpec, want: float) -> tuple[float, float]:
        return await self.hub.lease(key, limit.to_wire(), want)

    async def start(self) -> None:
        self.feed = await self.hub.info()

    def step_ms(self) -> int:
        """The feed's candle interval in ms (404 when the deployment has no feed)."""
        step = int(self.feed.get("stepMs") or 0)
        if not step:
            raise RequestRejected("this deployment has no candle feed",
                                  hint="send feature vectors to /v1/predict", status=404)
        return step

    # -- auth and limits ---------------------------------------------------------------------
    def authenticate(self, headers: Mapping[str, str], scope: str) -> Principal:
        if not self.args.auth_enabled:
            return ANONYMOUS
        presented = presented_key(headers)
        if presented is None:
            raise Refused(401, "missing API key",
                          "send Authorization: Bearer <key> or X-API-Key: <key>",
                          {"WWW-Authenticate": 'Bearer realm="mlta"'})
        principal = self.keys.authenticate(presented)
        if principal is None:
            raise Refused(401, "invalid API key", "check the key; it may have been rotated",
                          {"WWW-Authenticate": 'Bearer realm="mlta", error="invalid_token"'})
        if not principal.allows(scope):
            raise Refused(403, f"key {principal.name!r} lacks the {scope!r} scope",
                          f"its scopes: {', '.join(sorted(principal.scopes))}")
        return principal

    async def admit(self, headers: Mapping[str, str], scope: str) -> Principal:
        """Authenticate, check the scope, then take a rate-limit token (401/403/429)."""
        principal = self.authenticate(headers, scope)
        await self.throttle(principal)
        return principal

    async def throttle(self, principal: Principal) -> None:
        """Take one of the key's tokens, or raise the 429 refusal."""
        limit = principal.rate_limit or self.default_limit
        if limit is not None:
            wait = await self.limiter.check(principal.name, principal.rate_limit)
            if wait > 0:
                self.metrics.count("rate_limited_total", principal.name)
                retry = max(1, int(wait + 0.999))
                raise Refused(429, f"rate limit of {limit.requests_per_second:g}/s "
                                   f"(burst {limit.burst}) exceeded for key {principal.name!r}",
                              f"retry after {retry}s",
                              {"Retry-After": str(retry),
                               "X-RateLimit-Limit": f"{limit.requests_per_second:g}"})

    # -- predictions -------------------------------------------------------------------------
    def choose(self, key: str | None, variant: str | None = None) -> str:
        if variant is not None:
            if variant not in self.models:
                raise RequestRejected(f"unknown variant {variant!r}",
                                      hint=f"variants: {', '.join(self.models)}", status=404)
            return variant
        return self.router.choose(key)

    def predict(self, parsed: ParsedRequest, variant: str | None = None) -> Answer:
        """Predictions for the rows of a request, by the routed (or named) variant."""
        import numpy as np

        name = self.choose(parsed.key, variant)
        model = self.models[name]
        matrix = np.asarray(to_matrix(parsed.rows, model.feature_columns), dtype=np.float64)
        values = model.predict(matrix)
        predictions: list[dict[str, Any]] = []
        listed = values.tolist()
        self.observe_predictions(name, listed)
        for value in listed:
            item: dict[str, Any] = {"prediction": value}
            label = model.label(value)
            if label is not None:
                item["label"] = label
            predictions.append(item)
        if parsed.explain:
            self._explain(model, matrix, predictions)
        self._sample(name, matrix, values)
        payload: dict[str, Any] = {"variant": name, "modelVersion": model.version,
                                   "predictions": predictions}
        if parsed.single:
            payload.update(predictions[0])
        return Answer(name, payload)

    @staticmethod
    def _explain(model: ServedModel, matrix: Any, predictions: list[dict[str, Any]]) -> None:
        if model.contributions is None:
            raise RequestRejected(
                f"explanations are not available for {model.name}/{model.version}",
                hint="per-prediction SHAP contributions come with the training package's "
                     "predictor (issue 7); send explain: false", status=422)
        contrib = model.contributions(matrix)
        for item, row in zip(predictions, contrib.tolist(), strict=True):
            item["contributions"] = dict(zip(model.feature_columns, row[:-1], strict=True))
            item["bias"] = row[-1]

    def _sample(self, name: str, matrix: Any, values: Any) -> None:
        """Keep up to DRIFT_SAMPLE_ROWS rows per report for the hub's drift windows."""
        xs, ys = self._samples.setdefault(name, ([], []))
        room = DRIFT_SAMPLE_ROWS - len(xs)
        if room > 0:
            xs.extend(matrix[:room].tolist())
            ys.extend(values[:room].tolist())

    def record(self, variant: str, code: int, seconds: float) -> None:
        model = self.models.get(variant)
        version = model.version if model else ""
        self.stats.record(variant, code, seconds * 1000.0)
        self.metrics.count("requests_total", variant, version, str(code))
        self.metrics.observe("latency_seconds", seconds, variant, version)

    def observe_predictions(self, variant: str, values: list[float]) -> None:
        """The prediction distribution metric (probabilities, or |forecast|)."""
        model = self.models[variant]
        for value in values:
            if model.classifier:
                self.metrics.observe("prediction", value, variant, model.version)
            else:
                self.metrics.observe("forecast_magnitude", abs(value), variant, model.version)

    # -- candles -----------------------------------------------------------------------------
    def pick(self, event: dict[str, Any], key: str | None) -> dict[str, Any]:
        """A hub candle event as one client sees it: the prediction of its routed variant."""
        name = self.router.choose(key or event["symbol"])
        chosen = event["predictions"][name]
        out = {k: v for k, v in event.items() if k not in ("predictions", "origin")}
        out.update(variant=name, modelVersion=chosen["modelVersion"],
                   prediction=chosen["prediction"])
        if chosen.get("label") is not None:
            out["label"] = chosen["label"]
        if chosen["prediction"] is None:
            out["warming"] = True
        return out

    # -- background --------------------------------------------------------------------------
    def drain_report(self) -> dict[str, Any]:
        samples, self._samples = self._samples, {}
        return {"stats": self.stats.drain(),
                "rows": {n: {"x": xs, "y": ys} for n, (xs, ys) in samples.items() if xs}}

    async def run(self, stop: asyncio.Event) -> None:
        """Once a second: stats and drift samples to the hub, counters to Prometheus."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), REPORT_SECONDS)
            except TimeoutError:
                pass
            report = self.drain_report()
            self.metrics.gauge("in_flight", float(self.in_flight))
            self.metrics.flush()
            if report["stats"] or report["rows"]:
                try:
                    await self.hub.report(report)
                except ServingError as exc:  # a lost report must not stop the loop
                    log.warning("report to hub failed", extra={"error": str(exc)[:500]})


def now() -> float:
    return time.perf_counter()
