"""The hub: what exists once per ModelDeployment, whatever the number of service replicas.

Per-symbol streaming features (warm-started from Gold), candle predictions of every variant,
the subscriptions WebSocket clients listen on, drift windows, outcome scoring and the rollout
test, the authoritative rate-limit buckets, and the status summary the operator reads. It is
Ray-free: the Serve ``hub`` deployment wraps it, and tests run it in process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import storage
from ..data.sources import enum_value
from ..data.sources.base import INTERVAL_MS
from ..errors import ServingError, StorageError
from ..specs.modeldeployment import RateLimitSpec
from ..specs.serving import ServeAppArgs
from .candles import Candle
from .features import FeatureGroup, load_group, reference_rows, warm_start
from .limits import GlobalBuckets
from .metrics import Metrics
from .model import ServedModel, load_served_model
from .monitor import DriftMonitor
from .outcomes import OutcomeBook
from .stats import StatsBook
from .validation import RequestRejected

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("mlta.serving")
SUBSCRIBER_QUEUE = 10_000
DROPPED = {"type": "dropped"}


class HubCore:
    def __init__(self, args: ServeAppArgs, metrics: Metrics | None = None,
                 models: dict[str, ServedModel] | None = None) -> None:
        self.args = args
        self.metrics = metrics or Metrics("prometheus")
        self.started = datetime.now(UTC)
        self.models = models or {v.name: load_served_model(v.model_uri, v.model_version)
                                 for v in args.variants}
        self.groups: dict[str, FeatureGroup] = {}
        self.variant_group: dict[str, tuple[FeatureGroup, list[int]]] = {}
        self.step_ms = 0
        self.symbols: list[str] = []
        self.latest: dict[str, dict[str, Any]] = {}
        self.stats = StatsBook()
        self.buckets = GlobalBuckets()
        self.feed_events: dict[str, int] = {}
        self._subscribers: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._next_sub = 0
        mon = args.monitoring
        self.monitor = DriftMonitor(window=mon.window, min_samples=mon.min_samples,
                                    psi_threshold=mon.psi_threshold, top=mon.top_features)
        self.drift: dict[str, dict[str, Any]] = {}
        self._load_groups()
        out = args.outcomes
        rollout = args.rollout
        self.outcomes = OutcomeBook(
            self.models, self.step_ms or 1, fee_bps=out.fee_bps, slippage_bps=out.slippage_bps,
            window=out.window, champion=rollout.champion or args.variants[0].name,
            metric=enum_value(rollout.metric), alpha=rollout.alpha, min_samples=rollout.min_samples,
            scale=rollout.mixture_scale)

    # -- set-up ------------------------------------------------------------------------------
    def _load_groups(self) -> None:
        """Gold feature groups per variant (needed by feeds, and by drift for its reference)."""
        import numpy as np

        feed = self.args.feed
        by_uri: dict[str, FeatureGroup] = {}
        for name, model in self.models.items():
            uri = str(model.metadata.lineage.get("datasetUri") or "")
            if not uri:
                if feed.type != "none":
                    raise ServingError(f"variant {name!r}: model {model.name}/{model.version} "
                                       "has no datasetUri in its lineage",
                                       hint="candle feeds need the Gold version it learned on")
                continue
            try:
                group = by_uri.get(uri) or load_group(uri)
            except ServingError:
                if feed.type != "none":
                    raise
                log.warning("no Gold reference for drift", extra={"variant": name, "uri": uri})
                continue
            by_uri[uri] = group
            self.groups.setdefault(group.key, group).variants.append(name)
            index = group.index_of(model.feature_columns)
            self.variant_group[name] = (group, index)
            reference = reference_rows(group, model.feature_columns,
                                       self.args.monitoring.reference_rows)
            preds = model.predict(reference) if len(reference) else np.empty(0)
            self.monitor.add_variant(name, model.feature_columns, reference, preds)
        if feed.type == "none":
            return
        intervals = sorted({g.interval for g in self.groups.values()})
        if len(intervals) != 1:
            raise ServingError(f"the variants' Gold versions have intervals {intervals}",
                               hint="a deployment serves one candle interval")
        self.step_ms = INTERVAL_MS[intervals[0]]
        common = set.intersection(*(set(g.symbols) for g in self.groups.values()))
        wanted = [s.upper() for s in feed.symbols] or sorted(common)
        unknown = sorted(set(wanted) - common)
        if unknown:
            raise ServingError(f"feed.symbols {unknown} are not in every variant's Gold version",
                               hint=f"serve some of: {sorted(common)}")
        self.symbols = wanted
        for group in self.groups.values():
            warm_start(group, wanted, feed.warmup_bars)
            group.frame = None  # the reference rows are taken; free the frame

    @property
    def interval(self) -> str:
        return next((g.interval for g in self.groups.values()), "")

    # -- candles -----------------------------------------------------------------------------
    def push(self, symbol: str, candles: list[Candle], source: str = "push") -> list[dict[str, Any]]:
        """Apply closed candles of one symbol; every variant's prediction for each of them."""
        import numpy as np

        if self.args.feed.type == "none" or not self.groups:
            raise RequestRejected("this deployment has no candle feed",
                                  hint="send feature vectors to /v1/predict", status=404)
        symbol = symbol.upper()
        if symbol not in self.symbols:
            raise RequestRejected(f"unknown symbol {symbol!r}",
                                  hint=f"this deployment serves {', '.join(self.symbols)}",
                                  status=404)
        self._check_sequence(symbol, candles)
        vectors: dict[str, list[np.ndarray]] = {k: [] for k in self.groups}
        gaps: list[dict[str, Any] | None] = []
        for candle in candles:
            gap = None
            for key, group in self.groups.items():
                vector, plan = group.apply(symbol, candle, self.step_ms,
                                           enum_value(self.args.feed.on_gap))
                vectors[key].append(vector)
                if plan.missing:
                    gap = {"missingBars": plan.missing,
                           "action": "rewarmed" if plan.rewarm else "filled"}
            gaps.append(gap)
        per_variant: dict[str, list[float | None]] = {}
        for name, (group, index) in self.variant_group.items():
            matrix = np.asarray(vectors[group.key])[:, index]
            finite = np.isfinite(matrix).all(axis=1)
            values: list[float | None] = [None] * len(candles)
            if finite.any():
                preds = self.models[name].predict(matrix[finite])
                for at, p in zip(np.flatnonzero(finite).tolist(), preds, strict=True):
                    values[at] = float(p)
                self.monitor.observe(name, matrix[finite], np.asarray(preds))
            per_variant[name] = values
        events = []
        for i, candle in enumerate(candles):
            predictions = {}
            scored = {}
            for name, values in per_variant.items():
                model = self.models[name]
                value = values[i]
                predictions[name] = {"prediction": value, "modelVersion": model.version,
                                     "label": model.label(value) if value is not None else None}
                if value is not None:
                    scored[name] = value
            self.outcomes.observe(symbol, candle.open_ms, candle.close, scored)
            event = {"type": "prediction", "symbol": symbol, "source": source,
                     **candle.to_wire(self.step_ms), "gap": gaps[i], "predictions": predictions}
            events.append(event)
            self.metrics.count("candles_total", symbol, source)
        self.latest[symbol] = events[-1]
        self._publish(events)
        return events

    def _check_sequence(self, symbol: str, candles: list[Candle]) -> None:
        """Refuse the whole batch before applying any of it (409), so nothing is half applied."""
        from .candles import plan_gap

        previous = self.last_candle(symbol)
        for candle in candles:
            plan_gap(previous, candle, self.step_ms, enum_value(self.args.feed.on_gap))
            previous = candle

    def last_candle(self, symbol: str) -> Candle | None:
        lasts = [g.streams[symbol].last for g in self.groups.values() if symbol in g.streams]
        return max((c for c in lasts if c is not None), key=lambda c: c.open_ms, default=None)

    # -- subscriptions -----------------------------------------------------------------------
    def _publish(self, events: list[dict[str, Any]]) -> None:
        for sid, queue in list(self._subscribers.items()):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    self._subscribers.pop(sid, None)
                    self.metrics.count("stream_dropped_total")
                    queue.get_nowait()
                    queue.put_nowait(DROPPED)
                    break

    async def subscribe(self, maxsize: int = SUBSCRIBER_QUEUE) -> AsyncIterator[dict[str, Any]]:
        """Every candle prediction from now on; ends with ``dropped`` if the reader lags."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)
        sid = self._next_sub = self._next_sub + 1
        self._subscribers[sid] = queue
        try:
            yield {"type": "subscribed", "symbols": self.symbols, "interval": self.interval}
            while True:
                event = await queue.get()
                yield event
                if event is DROPPED:
                    return
        finally:
            self._subscribers.pop(sid, None)

    # -- reports from service replicas -------------------------------------------------------
    def report(self, payload: dict[str, Any]) -> None:
        """Counts and latency histograms, and sampled feature rows for drift."""
        import numpy as np

        self.stats.merge(payload.get("stats") or {})
        for name, sample in (payload.get("rows") or {}).items():
            rows = np.asarray(sample.get("x") or [], dtype=np.float64)
            preds = np.asarray(sample.get("y") or [], dtype=np.float64)
            if rows.ndim == 2 and len(rows) == len(preds):
                keep = np.isfinite(rows).all(axis=1)
                self.monitor.observe(name, rows[keep], preds[keep])

    def lease(self, key: str, limit: dict[str, Any], want: float) -> tuple[float, float]:
        return self.buckets.grant(key, RateLimitSpec.model_validate(limit), want)

    def feed_event(self, event: str, n: int = 1) -> None:
        self.feed_events[event] = self.feed_events.get(event, 0) + n
        self.metrics.count("feed_events_total", event, n=n)

    # -- status ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute drift and export drift and outcome gauges (a few times a minute)."""
        self.drift = self.monitor.compute()
        outcomes = self.outcomes.summary()
        for name, model in self.models.items():
            drift = self.drift.get(name) or {}
            for item in drift.get("topFeatures") or []:
                self.metrics.gauge("feature_psi", item["psi"], name, model.version,
                                   item["feature"])
            if drift.get("predictionPsi") is not None:
                self.metrics.gauge("prediction_psi", drift["predictionPsi"], name, model.version)
            for metric, value in (outcomes.get(name) or {}).items():
                if value is not None:
                    self.metrics.gauge("outcome", float(value), name, model.version, metric)
        self.metrics.flush()

    def status(self) -> dict[str, Any]:
        outcomes = self.outcomes.summary()
        variants = {}
        for v in self.args.variants:
            stats = self.stats.variants.get(v.name)
            variants[v.name] = {
                "modelVersion": self.models[v.name].version,
                **(stats.summary() if stats else {"requests": 0, "errors": 0, "codes": {},
                                                  "p50Ms": None, "p99Ms": None}),
                "drift": self.drift.get(v.name) or {},
                "outcomes": outcomes.get(v.name),
            }
        feed = {"type": enum_value(self.args.feed.type), "interval": self.interval,
                "events": dict(self.feed_events),
                "symbols": {s: {"lastOpenTime": c.open_ms if (c := self.last_candle(s)) else None}
                            for s in self.symbols}}
        return {"app": self.args.app_name, "updatedAt": datetime.now(UTC).isoformat(),
                "startedAt": self.started.isoformat(), "variants": variants, "feed": feed,
                "rollout": {"champion": self.outcomes.champion,
                            "metric": enum_value(self.args.rollout.metric),
                            "tests": self.outcomes.rollout()}}

    def write_status(self) -> None:
        if not self.args.status_uri:
            return
        try:
            storage.write_json_atomic(self.args.status_uri, self.status())
        except (StorageError, OSError) as exc:
            log.warning("cannot write status", extra={"uri": self.args.status_uri,
                                                      "error": str(exc)})

    async def run(self, stop: asyncio.Event) -> None:
        """Background loop: drift, gauges and the status file every ``intervalSeconds``."""
        interval = self.args.monitoring.interval_seconds
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.to_thread(self.refresh)
            await asyncio.to_thread(self.write_status)
            wait = max(0.1, interval - (time.monotonic() - started))
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                pass
