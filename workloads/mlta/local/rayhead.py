"""A local Ray head on loopback: dashboard (Job Submission + Serve REST) 8265, Serve 8000.

The head runs with Ray's token authentication on, as Ray >= 2.52 does by default for any
new cluster once a token exists on the machine (a single earlier local ``ray.init()``
writes ~/.ray/auth_token). Rather than depend on that accident of history, the demo keeps
its own token in ~/.cache/mlta/ray/auth_token (mode 0600), starts Ray with it, and hands
the same file to the operator (MLTA_RAY__AUTH_TOKEN_FILE), the way a production operator
gets the cluster's token from a mounted Secret.

The head runs as ``ray start --head --block`` in a session of its own, its pid in
``~/.cache/mlta/ray/head.pid``: `make down` stops that process group and nothing else
(``ray stop`` would stop every Ray on the machine, a colleague's or a test's included).
Every port can be moved with a variable (MLTA_RAY_GCS_PORT, MLTA_RAY_DASHBOARD_PORT,
MLTA_RAY_CLIENT_PORT, MLTA_RAY_AGENT_PORT), so a second demo or a test can run beside one.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import httpx

from ..errors import BackendError
from .controlplane import CACHE, log
from .headstart import start_head
from .raygroup import stop_group

GCS_PORT = int(os.environ.get("MLTA_RAY_GCS_PORT", "6379"))
DASHBOARD_PORT = int(os.environ.get("MLTA_RAY_DASHBOARD_PORT", "8265"))
CLIENT_PORT = int(os.environ.get("MLTA_RAY_CLIENT_PORT", "10001"))
AGENT_PORT = int(os.environ.get("MLTA_RAY_AGENT_PORT", "52365"))
TEMP_DIR = CACHE / "ray"
TOKEN_FILE = TEMP_DIR / "auth_token"
PID_FILE = TEMP_DIR / "head.pid"
#: HAProxy's socket paths must stay short (mlta.serving.layout.MAX_STATE_DIR).
HAPROXY_DIR = Path(os.environ.get("MLTA_HAPROXY_DIR", f"/tmp/mlta-haproxy-{os.getuid()}"))
HAPROXY_STATS_PORT = int(os.environ.get("MLTA_HAPROXY_STATS_PORT", "18404"))
HAPROXY_METRICS_PORT = int(os.environ.get("MLTA_HAPROXY_METRICS_PORT", "19101"))


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
    return cluster_env(haproxy, stats_port=HAPROXY_STATS_PORT, metrics_port=HAPROXY_METRICS_PORT)


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
    log_file = TEMP_DIR / "head.log"
    try:
        _start(env, log_file, num_cpus, timeout)
    except BackendError:
        if head_pid() is None:  # it exited: nothing for `make down` to stop
            PID_FILE.unlink(missing_ok=True)
        raise


def _start(env: dict[str, str], log_file: Path, num_cpus: int, timeout: float) -> None:
    start_head(
        [_ray(), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
         f"--port={GCS_PORT}", f"--dashboard-port={DASHBOARD_PORT}",
         "--dashboard-host=127.0.0.1", f"--ray-client-server-port={CLIENT_PORT}",
         f"--dashboard-agent-listen-port={AGENT_PORT}", f"--num-cpus={num_cpus}",
         f"--temp-dir={TEMP_DIR}", "--disable-usage-stats", "--include-dashboard=true"],
        env, log_file, is_up, timeout, note=log,
        on_timeout=lambda: BackendError(
            f"Ray head not up after {timeout}s: "
            + ("`ray start` has not said it started" if is_up() else "its dashboard does not answer"),
            hint=f"see {log_file} and {TEMP_DIR / 'session_latest' / 'logs'}"),
        on_spawn=lambda head: PID_FILE.write_text(str(head.pid)))


def head_pid() -> int | None:
    """The demo head's process group, if it runs."""
    try:
        pid = int(PID_FILE.read_text())
        os.killpg(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def stop() -> None:
    import signal

    from ..serving.layout import haproxy_pids

    head = head_pid()
    if head is None:
        log("no Ray head of the demo's running")
    else:
        log(f"stopping Ray (process group {head})")
        stop_group(head, reap=lambda: _reap(head))
        PID_FILE.unlink(missing_ok=True)
    for pid in haproxy_pids(HAPROXY_DIR):  # HAProxy outlives Ray; the demo's only
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _reap(pid: int) -> None:
    """Collect the head if it is our own child that exited (a zombie still looks alive)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
