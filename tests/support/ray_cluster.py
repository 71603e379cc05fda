"""Start and stop a real local Ray head for tests (``ray start --head`` on loopback).

Reuses a running cluster only when asked to (MLTA_TEST_RAY_DASHBOARD, e.g. the demo's,
with MLTA_TEST_RAY_TOKEN_FILE when it uses token authentication).
Otherwise it starts a private head on free loopback ports in its own temp dir, so a
developer's Ray, the demo's, or anything else listening on Ray's default ports (6379,
8265, 8000, 10001, 52365) can neither collide with it nor be mistaken for it, and stops it
afterwards. The private head runs with Ray's token authentication on, as Ray >= 2.52
does by default once a token exists, so every test client proves it sends the token.
Readiness is polled with a deadline, never a fixed sleep; when the head does
not come up, the error carries what the dashboard answered and the tail of its logs so a
CI failure explains itself.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from mlta.errors import BackendError
from mlta.local.headstart import start_head
from mlta.local.raygroup import stop_group
from mlta.serving.layout import cluster_env, haproxy_pids

T = TypeVar("T")


@dataclass(frozen=True)
class RayCluster:
    address: str          # GCS address for ray.init(address=...)
    dashboard_url: str    # Job Submission + Serve REST API
    serve_url: str        # Serve HTTP proxy
    token_file: str | None = None  # Ray auth token (None: authentication off)
    haproxy_metrics_url: str | None = None  # HAProxy's own Prometheus exporter (HAProxy layout)

    @property
    def headers(self) -> dict[str, str]:
        """What a client of the dashboard must send."""
        if not self.token_file:
            return {}
        return {"Authorization": f"Bearer {Path(self.token_file).read_text().strip()}"}

    @property
    def operator_env(self) -> dict[str, str]:
        """MLTA_* settings that point an operator process at this cluster."""
        env = {"MLTA_RAY__DASHBOARD_URL": self.dashboard_url, "MLTA_RAY__SERVE_URL": self.serve_url}
        if self.token_file:
            env["MLTA_RAY__AUTH_TOKEN_FILE"] = self.token_file
        return env


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.25) -> T:
    """Poll ``predicate`` until it returns a truthy value or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, OSError, ValueError) as exc:
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_bin() -> str:
    candidate = Path(sys.executable).with_name("ray")
    return str(candidate) if candidate.exists() else (shutil.which("ray") or "ray")


def _log_tails(temp_dir: str, lines: int = 40) -> str:
    """The last lines of the dashboard's logs, for an error message."""
    logs = Path(temp_dir) / "session_latest" / "logs"
    parts = []
    for path in sorted(logs.glob("dashboard*.*")) + sorted(logs.glob("gcs_server.err")):
        try:
            tail = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            continue
        if tail:
            parts.append(f"--- {path.name} ---\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no dashboard logs under {logs})"


class _Probe:
    """Polls the dashboard's /api/version and remembers what it last answered."""

    def __init__(self, dashboard: str, headers: dict[str, str]) -> None:
        self.url = f"{dashboard}/api/version"
        self.headers = headers
        self.last = "nothing yet"

    def __call__(self) -> bool:
        try:
            resp = httpx.get(self.url, headers=self.headers, timeout=2)
        except httpx.HTTPError as exc:
            self.last = f"{type(exc).__name__}: {exc}"
            return False
        self.last = f"HTTP {resp.status_code}: {resp.text[:300]!r}"
        return resp.status_code == 200


@contextmanager
def local_ray(num_cpus: int = 4, timeout: float = 180,
              haproxy: bool = True) -> Iterator[RayCluster]:
    reuse = os.environ.get("MLTA_TEST_RAY_DASHBOARD")
    if reuse:
        yield RayCluster(
            address=os.environ.get("MLTA_TEST_RAY_ADDRESS", "127.0.0.1:6379"),
            dashboard_url=reuse,
            serve_url=os.environ.get("MLTA_TEST_RAY_SERVE", "http://127.0.0.1:8000"),
            token_file=os.environ.get("MLTA_TEST_RAY_TOKEN_FILE") or None,
        )
        return
    gcs, dash, serve, client, agent = (free_port() for _ in range(5))
    dashboard = f"http://127.0.0.1:{dash}"
    temp_dir = tempfile.mkdtemp(prefix="mlta-ray-", dir="/tmp")
    token_file = Path(temp_dir) / "auth_token"
    token_file.write_text(secrets.token_hex(32))
    token_file.chmod(0o600)
    # The head and every client in this process (ray.init in integration tests) use it.
    auth_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file)}
    saved = {key: os.environ.get(key) for key in auth_env}
    os.environ.update(auth_env)
    _refresh_ray_auth()
    # Job entrypoints run `python -m mlta.jobs.run`: make `python` the venv's interpreter.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # Serve behind HAProxy (the layout the service is built for), state and ports private.
    haproxy_dir = Path(tempfile.mkdtemp(prefix="mlta-hp-", dir="/tmp"))  # short: socket paths
    haproxy_metrics = free_port()
    serve_env = cluster_env(haproxy_dir, stats_port=free_port(), metrics_port=haproxy_metrics)
    if not haproxy:  # Serve's default Python proxy (the benchmark compares the two)
        serve_env["RAY_SERVE_ENABLE_HA_PROXY"] = "0"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PATH=path, **serve_env)
    cmd = [
        _ray_bin(), "start", "--head", "--node-ip-address=127.0.0.1",
        f"--port={gcs}", f"--dashboard-port={dash}", "--dashboard-host=127.0.0.1",
        f"--ray-client-server-port={client}", f"--dashboard-agent-listen-port={agent}",
        f"--num-cpus={num_cpus}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
        "--include-dashboard=true",
    ]
    # --block keeps `ray start` in the foreground as the parent of every Ray process it
    # starts; in a session of its own, they can all be stopped as one process group without
    # `ray stop`, which would also kill any other Ray head on this machine (the demo's).
    out_path = Path(temp_dir) / "ray-start.out"
    cluster = RayCluster(address=f"127.0.0.1:{gcs}", dashboard_url=dashboard,
                         serve_url=f"http://127.0.0.1:{serve}", token_file=str(token_file),
                         haproxy_metrics_url=f"http://127.0.0.1:{haproxy_metrics}/metrics"
                         if haproxy else None)
    probe = _Probe(dashboard, cluster.headers)
    heads: list[subprocess.Popen[bytes]] = []
    try:
        try:
            start_head(cmd + ["--block"], env, out_path, probe, timeout, on_spawn=heads.append,
                       on_timeout=lambda: TimeoutError(
                           f"the Ray head did not start within {timeout}s; its dashboard last "
                           f"answered {probe.last}\n{_log_tails(temp_dir)}"))
        except BackendError as exc:
            raise RuntimeError(f"`ray start --head` failed: {exc.message}\n{_log_tails(temp_dir)}") from exc
        yield cluster
    finally:
        if heads:
            _stop_group(heads[-1])
        for pid in haproxy_pids(haproxy_dir):  # HAProxy outlives the head; ours only
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(haproxy_dir, ignore_errors=True)
        shutil.rmtree(temp_dir, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _refresh_ray_auth()


def _refresh_ray_auth() -> None:
    """Make an already imported Ray re-read RAY_AUTH_MODE and the token.

    Ray caches both in its C++ core on first import (an earlier test may have imported it
    with authentication off); this is what Ray itself does when it enables token auth.
    """
    if "ray._raylet" not in sys.modules:
        return
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def _stop_group(head: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM the head's process group; SIGKILL what is left once only Ray's daemons remain
    (mlta.local.raygroup), or after ``grace``."""
    stop_group(head.pid, grace, reap=head.poll)
    head.wait(timeout=10)
