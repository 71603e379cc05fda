"""Run the operator as a local background process (the embedded default's control loop)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import rayhead
from .controlplane import CACHE, ControlPlane, log, pid_alive


def _pid_file(state_dir: Path) -> Path:
    return state_dir / "operator.pid"


def running(state_dir: Path = CACHE / "cluster") -> int | None:
    return pid_alive(_pid_file(state_dir))


def start(cp: ControlPlane, extra_env: dict[str, str] | None = None) -> Path:
    """Start ``python -m mlta_operator`` against ``cp``; return its log file."""
    log_file = cp.state_dir / "operator.log"
    if running(cp.state_dir):
        log(f"operator already running (logs: {log_file})")
        return log_file
    env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig), PYTHONUNBUFFERED="1")
    env.setdefault("MLTA_ENV", "development")
    # The local Ray head (its port may be moved) and its token, unless the caller points the
    # operator elsewhere.
    env.setdefault("MLTA_RAY__DASHBOARD_URL", rayhead.dashboard_url())
    env.setdefault("MLTA_RAY__AUTH_TOKEN_FILE", str(rayhead.token_file()))
    env.update(extra_env or {})
    with open(log_file, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlta_operator"], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    _pid_file(cp.state_dir).write_text(str(proc.pid))
    log(f"operator started (pid {proc.pid}, logs: {log_file})")
    return log_file


def stop(cp: ControlPlane, timeout: float = 20) -> None:
    pid = running(cp.state_dir)
    if pid is None:
        return
    log(f"stopping operator (pid {pid})")
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running(cp.state_dir):
        time.sleep(0.2)
    if running(cp.state_dir):
        os.killpg(pid, signal.SIGKILL)
    _pid_file(cp.state_dir).unlink(missing_ok=True)
