"""A local Ray head on loopback: dashboard (Job Submission + Serve REST) 8265, Serve 8000.

The head runs with Ray's token authentication on, as Ray >= 2.52 does by default for any
new cluster once a token exists on the machine (a single earlier local ``ray.init()``
writes ~/.ray/auth_token). Rather than depend on that accident of history, the demo keeps
its own token in ~/.cache/mlta/ray/auth_token (mode 0600), starts Ray with it, and hands
the same file to the operator (MLTA_RAY__AUTH_TOKEN_FILE), the way a production operator
gets the cluster's token from a mounted Secret.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..errors import BackendError
from .controlplane import CACHE, log

GCS_PORT = int(os.environ.get("MLTA_RAY_GCS_PORT", "6379"))
DASHBOARD_PORT = int(os.environ.get("MLTA_RAY_DASHBOARD_PORT", "8265"))
TEMP_DIR = CACHE / "ray"
TOKEN_FILE = TEMP_DIR / "auth_token"
#: HAProxy's socket paths must stay short (mlta.serving.layout.MAX_STATE_DIR).
HAPROXY_DIR = Path(f"/tmp/mlta-haproxy-{os.getuid()}")


def _ray() -> str:
    return str(Path(sys.executable).with_name("ray"))


def dashboard_url() -> str:
    return f"http://127.0.0.1:{DASHBOARD_PORT}"


def token_file() -> Path:
    """The demo cluster's token, created once (0600) and kept across restarts."""
    if not TOKEN_FILE.exists():
        TEMP_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(TOKEN_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return TOKEN_FILE


def auth_env() -> dict[str, str]:
    """Environment for the Ray head and for processes that talk to it."""
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file()),
            "MLTA_RAY__AUTH_TOKEN_FILE": str(token_file())}


def serve_env() -> dict[str, str]:
    """Serve behind HAProxy (mlta.serving.layout), its state in the demo's own directory."""
    from ..serving.layout import cluster_env

    haproxy = HAPROXY_DIR
    haproxy.mkdir(parents=True, exist_ok=True)
    return cluster_env(haproxy, stats_port=int(os.environ.get("MLTA_HAPROXY_STATS_PORT", "18404")),
                       metrics_port=int(os.environ.get("MLTA_HAPROXY_METRICS_PORT", "19101")))


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {token_file().read_text().strip()}"}


def is_up() -> bool:
    """True when our head answers; an error when a different Ray head holds the port."""
    try:
        resp = httpx.get(f"{dashboard_url()}/api/version", headers=_headers(), timeout=2)
    except httpx.HTTPError:
        return False
    if resp.status_code in (401, 403):
        raise BackendError(
            f"a Ray head that does not accept the demo's token already listens on "
            f"{dashboard_url()} (HTTP {resp.status_code})",
            hint="stop it (`ray stop`) or run the demo on other ports with "
                 "MLTA_RAY_DASHBOARD_PORT / MLTA_RAY_GCS_PORT")
    return resp.status_code == 200


def start(num_cpus: int = 4, timeout: float = 120) -> None:
    if is_up():
        log(f"Ray already running; dashboard {dashboard_url()}")
        return
    TEMP_DIR.mkdir(parents=True, exist_ok=True)
    log(f"starting Ray head (dashboard {dashboard_url()}, token auth: {token_file()})")
    # Job entrypoints run `python -m mlta.jobs.run`: make that the venv's python.
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", **auth_env(), **serve_env(),
               PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    res = subprocess.run(
        [_ray(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={GCS_PORT}",
         f"--dashboard-port={DASHBOARD_PORT}", "--dashboard-host=127.0.0.1",
         f"--num-cpus={num_cpus}", f"--temp-dir={TEMP_DIR}", "--disable-usage-stats",
         "--include-dashboard=true"],
        capture_output=True, text=True, env=env, timeout=timeout)
    if res.returncode != 0:
        raise BackendError(f"ray start failed: {res.stderr[-2000:]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up():
            return
        time.sleep(0.5)
    raise BackendError(f"Ray dashboard not up after {timeout}s",
                       hint=f"see {TEMP_DIR / 'session_latest' / 'logs' / 'dashboard.log'}")


def stop() -> None:
    import signal

    from ..serving.layout import haproxy_pids

    log("stopping Ray")
    subprocess.run([_ray(), "stop", "--force"], capture_output=True, timeout=120)
    for pid in haproxy_pids(HAPROXY_DIR):  # HAProxy outlives Ray; the demo's only
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
