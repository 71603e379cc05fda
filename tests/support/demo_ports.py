"""The ports `make up` / `make demo` listen on, and a way to hold them for a test session.

`make test` runs with ``MLTA_TEST_HOLD_DEMO_PORTS=1``: the session binds every demo port that
is free (tests/conftest.py), so a test server that reached for one of them would fail to
start, and the whole suite passing proves the suite can run next to a running demo. Ports a
real demo already holds stay held by it: same proof.

The list comes from the code that picks the demo's ports, not from a copy of their numbers.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx


def demo_ports() -> dict[int, str]:
    """Every port the demo's processes listen on, and who listens there."""
    from mlta.config import Settings
    from mlta.local import rayhead
    from mlta.local.controlplane import ControlPlane

    cp, settings = ControlPlane(), Settings()
    serve = httpx.URL(settings.ray.serve_url).port or 8000
    return {
        cp.etcd_port: "etcd (clients)",
        cp.etcd_port + 1: "etcd (peers)",
        cp.apiserver_port: "kube-apiserver",
        rayhead.GCS_PORT: "Ray GCS",
        rayhead.DASHBOARD_PORT: "Ray dashboard",
        serve: "Ray Serve HTTP",
        rayhead.CLIENT_PORT: "Ray client server",
        rayhead.AGENT_PORT: "Ray dashboard agent",
        rayhead.HAPROXY_STATS_PORT: "HAProxy stats (Serve's proxy)",
        rayhead.HAPROXY_METRICS_PORT: "HAProxy metrics",
        settings.operator.metrics_port: "operator metrics",
        settings.operator.health_port: "operator liveness",
    }


@contextmanager
def hold(ports: dict[int, str], host: str = "127.0.0.1") -> Iterator[dict[int, str]]:
    """Listen on each free port until exit; report per port "held" or "in use already"."""
    state: dict[int, str] = {}
    with ExitStack() as stack:
        for port in sorted(ports):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                state[port] = "in use already"
                continue
            sock.listen(1)
            state[port] = "held"
        yield state


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
