"""A local Ray head on loopback: dashboard (Job Submission + Serve REST) 8265, Serve 8000."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..errors import BackendError
from .controlplane import CACHE, log

GCS_PORT = int(os.environ.get("MLTA_RAY_GCS_PORT", "6379"))
DASHBOARD_PORT = int(os.environ.get("MLTA_RAY_DASHBOARD_PORT", "8265"))


def _ray() -> str:
    return str(Path(sys.executable).with_name("ray"))


def dashboard_url() -> str:
    return f"http://127.0.0.1:{DASHBOARD_PORT}"


def is_up() -> bool:
    try:
        return httpx.get(f"{dashboard_url()}/api/version", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start(num_cpus: int = 4, timeout: float = 120) -> None:
    if is_up():
        log(f"Ray already running; dashboard {dashboard_url()}")
        return
    temp = CACHE / "ray"
    temp.mkdir(parents=True, exist_ok=True)
    log(f"starting Ray head (dashboard {dashboard_url()})")
    # Job entrypoints run `python -m mlta.jobs.run`: make that the venv's python.
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0",
               PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    res = subprocess.run(
        [_ray(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={GCS_PORT}",
         f"--dashboard-port={DASHBOARD_PORT}", "--dashboard-host=127.0.0.1",
         f"--num-cpus={num_cpus}", f"--temp-dir={temp}", "--disable-usage-stats",
         "--include-dashboard=true"],
        capture_output=True, text=True, env=env, timeout=timeout)
    if res.returncode != 0:
        raise BackendError(f"ray start failed: {res.stderr[-2000:]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_up():
            return
        time.sleep(0.5)
    raise BackendError(f"Ray dashboard not up after {timeout}s")


def stop() -> None:
    log("stopping Ray")
    subprocess.run([_ray(), "stop", "--force"], capture_output=True, timeout=120)
