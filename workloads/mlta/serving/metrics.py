"""Prometheus metrics of a ModelDeployment, per deployment, variant and model version.

Inside Ray Serve the metrics are ``ray.serve.metrics`` objects: Ray's metrics agent exports
them on each node's metrics port (``ray_mlta_serving_*``), tagged by Serve with the
application, deployment and replica, and by us with the variant and model version. Outside
Ray (the in-process app tests and the benchmark's bare server) the same names go to a
``prometheus_client`` registry served at ``/metrics``.

Counters are added up in process and histogram observations queued, and both reach the
backend once a second (:meth:`Metrics.flush`, from the replica's report loop). Ray's metric
calls validate their tags in Python and record through its C++ core (~4% of a loaded
replica's CPU, py-spy): queued, that time is spent outside the request's latency; its
exporter only reads them every few seconds anyway.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

PREFIX = "mlta_serving_"
LATENCY_BUCKETS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
#: Ray's histograms take positive boundaries only: probabilities as they are, forecasts
#: (which may be negative) by their magnitude.
PREDICTION_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0]
FORECAST_BUCKETS = [1e-5, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.5]

COUNTERS = {
    "requests_total": ("Requests answered, by variant, model version and HTTP status code.",
                       ("variant", "model_version", "code")),
    "rate_limited_total": ("Requests refused with 429, by API key name.", ("key",)),
    "candles_total": ("Closed candles applied, by symbol and source.", ("symbol", "source")),
    "feed_events_total": ("Feed events: reconnects, backfilled candles, duplicates dropped.",
                          ("event",)),
    "stream_dropped_total": ("WebSocket clients dropped for falling behind.", ()),
}
GAUGES = {
    "in_flight": ("Requests being answered by this replica.", ()),
    "feature_psi": ("PSI of a feature's live window against the training reference.",
                    ("variant", "model_version", "feature")),
    "prediction_psi": ("PSI of the live predictions against those on the training rows.",
                       ("variant", "model_version")),
    "outcome": ("Scored outcomes: hit rate, AUC, mean net return, scored count.",
                ("variant", "model_version", "metric")),
}
HISTOGRAMS = {
    "latency_seconds": ("Request latency inside the service.", ("variant", "model_version"),
                        LATENCY_BUCKETS_S),
    "prediction": ("Distribution of classifier probabilities.", ("variant", "model_version"),
                   PREDICTION_BUCKETS),
    "forecast_magnitude": ("Distribution of |forecast| of regressors.",
                           ("variant", "model_version"), FORECAST_BUCKETS),
}


class Metrics:
    """One set of the service's metrics on a backend (``ray`` or ``prometheus``)."""

    def __init__(self, backend: str = "ray") -> None:
        self.backend = backend
        self.registry: Any = None
        self._counters: dict[str, Any] = {}
        self._gauges: dict[str, Any] = {}
        self._histograms: dict[str, Any] = {}
        self._pending: defaultdict[tuple[str, tuple[str, ...]], float] = defaultdict(float)
        self._observed: list[tuple[str, float, tuple[str, ...]]] = []
        if backend == "ray":
            from ray.serve import metrics as rm

            for name, (doc, tags) in COUNTERS.items():
                self._counters[name] = rm.Counter(PREFIX + name, doc,
                                                  tag_keys=tags)  # type: ignore[arg-type]
            for name, (doc, tags) in GAUGES.items():
                self._gauges[name] = rm.Gauge(PREFIX + name, doc,
                                              tag_keys=tags)  # type: ignore[arg-type]
            for name, (doc, tags, buckets) in HISTOGRAMS.items():
                self._histograms[name] = rm.Histogram(  # Ray types tag_keys as tuple[str]
                    PREFIX + name, doc, boundaries=buckets, tag_keys=tags)  # type: ignore[arg-type]
        else:
            import prometheus_client as pc

            self.registry = pc.CollectorRegistry()
            for name, (doc, tags) in COUNTERS.items():
                self._counters[name] = pc.Counter(PREFIX + name.removesuffix("_total"), doc,
                                                  tags, registry=self.registry)
            for name, (doc, tags) in GAUGES.items():
                self._gauges[name] = pc.Gauge(PREFIX + name, doc, tags, registry=self.registry)
            for name, (doc, tags, buckets) in HISTOGRAMS.items():
                self._histograms[name] = pc.Histogram(PREFIX + name, doc, tags,
                                                      buckets=buckets, registry=self.registry)

    def _tags(self, table: dict[str, Any], name: str, values: tuple[str, ...]) -> dict[str, str]:
        return dict(zip(table[name][1], values, strict=True))

    def count(self, name: str, *values: str, n: float = 1.0) -> None:
        """Add ``n`` to a counter (flushed by :meth:`flush`)."""
        self._pending[(name, values)] += n

    def flush(self) -> None:
        """Hand the counts and observations since the last flush to the backend."""
        pending, self._pending = self._pending, defaultdict(float)
        for (name, values), n in pending.items():
            counter = self._counters[name]
            if self.backend == "ray":
                counter.inc(n, tags=self._tags(COUNTERS, name, values))
            else:
                (counter.labels(*values) if values else counter).inc(n)
        observed, self._observed = self._observed, []
        tags: dict[tuple[str, tuple[str, ...]], Any] = {}
        for name, value, values in observed:
            hist = self._histograms[name]
            if self.backend == "ray":
                key = (name, values)
                if key not in tags:
                    tags[key] = self._tags(HISTOGRAMS, name, values)
                hist.observe(value, tags=tags[key])
            else:
                hist.labels(*values).observe(value)

    def gauge(self, name: str, value: float, *values: str) -> None:
        gauge = self._gauges[name]
        if self.backend == "ray":
            gauge.set(value, tags=self._tags(GAUGES, name, values))
        else:
            (gauge.labels(*values) if values else gauge).set(value)

    def observe(self, name: str, value: float, *values: str) -> None:
        """Queue an observation of a histogram (recorded by :meth:`flush`)."""
        if name not in self._histograms:
            raise KeyError(f"no histogram {name!r}")
        self._observed.append((name, value, values))

    def exposition(self) -> bytes:
        """The Prometheus text format (prometheus backend only)."""
        import prometheus_client as pc

        self.flush()
        return bytes(pc.generate_latest(self.registry))
