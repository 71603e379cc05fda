"""Prometheus metrics of the operator: reconcile rate/latency, outcomes, resource phases.

Served on ``operator.metrics_port`` (0 turns it off); the Helm chart's Service and pod
annotations point Prometheus at it.
"""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from .conditions import Phase

RECONCILES = Counter(
    "mlta_reconcile_total", "Reconcile calls by kind and result (ok, retry, error).", ["kind", "result"]
)
RECONCILE_SECONDS = Histogram(
    "mlta_reconcile_seconds", "Time spent in one reconcile call.", ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PHASE = Gauge(
    "mlta_resource_phase", "1 for the phase a resource is in, 0 for the others.",
    ["kind", "namespace", "name", "phase"],
)
FOLLOWED = Gauge(
    "mlta_followed_resources", "CRs with a reconcile loop running in this operator.", ["kind"],
)
PHASES = tuple(str(p) for p in Phase)


def record_phase(kind: str, namespace: str, name: str, phase: str) -> None:
    for candidate in PHASES:
        PHASE.labels(kind, namespace, name, candidate).set(1.0 if candidate == phase else 0.0)


def forget(kind: str, namespace: str, name: str) -> None:
    for candidate in PHASES:
        try:
            PHASE.remove(kind, namespace, name, candidate)
        except KeyError:
            pass


def serve(port: int, addr: str = "0.0.0.0") -> WSGIServer | None:
    """Serve /metrics on ``port`` in a daemon thread (0: off); returns the server to shut down."""
    if port <= 0:
        return None
    server, _ = start_http_server(port, addr=addr)
    logging.getLogger(__name__).info("metrics on :%d/metrics", port)
    return server
