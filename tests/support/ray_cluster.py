"""Start and stop a real local Ray head for tests (``ray start --head`` on loopback).

Reuses a running cluster when MLTA_TEST_RAY_DASHBOARD is set (e.g. the demo's), otherwise
starts one in a private temp dir and stops it afterwards. Readiness is polled with a
deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import shutil
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

T = TypeVar("T")


@dataclass(frozen=True)
class RayCluster:
    address: str          # GCS address for ray.init(address=...)
    dashboard_url: str    # Job Submission + Serve REST API
    serve_url: str        # Serve HTTP proxy


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


def _answers(dashboard: str) -> bool:
    try:
        return httpx.get(f"{dashboard}/api/version", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _ray_bin() -> str:
    candidate = Path(sys.executable).with_name("ray")
    return str(candidate) if candidate.exists() else (shutil.which("ray") or "ray")


@contextmanager
def local_ray(
    gcs_port: int = 6390, dashboard_port: int = 8265, serve_port: int = 8000, num_cpus: int = 4
) -> Iterator[RayCluster]:
    reuse = os.environ.get("MLTA_TEST_RAY_DASHBOARD")
    if reuse:
        yield RayCluster(
            address=os.environ.get("MLTA_TEST_RAY_ADDRESS", f"127.0.0.1:{gcs_port}"),
            dashboard_url=reuse,
            serve_url=os.environ.get("MLTA_TEST_RAY_SERVE", f"http://127.0.0.1:{serve_port}"),
        )
        return
    dashboard = f"http://127.0.0.1:{dashboard_port}"
    if _answers(dashboard):
        # A head is already up on these ports (a developer's or the demo's): share it, leave it.
        yield RayCluster(address=f"127.0.0.1:{gcs_port}", dashboard_url=dashboard,
                         serve_url=f"http://127.0.0.1:{serve_port}")
        return
    temp_dir = tempfile.mkdtemp(prefix="mlta-ray-", dir="/tmp")
    # Job entrypoints run `python -m mlta.jobs.run`: make `python` the venv's interpreter.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PATH=path)
    cmd = [
        _ray_bin(), "start", "--head", "--node-ip-address=127.0.0.1",
        f"--port={gcs_port}", f"--dashboard-port={dashboard_port}", "--dashboard-host=127.0.0.1",
        f"--num-cpus={num_cpus}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
        "--include-dashboard=true",
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=180)
    try:
        wait_for(lambda: httpx.get(f"{dashboard}/api/version", timeout=2).status_code == 200,
                 timeout=120, what="the Ray dashboard")
        yield RayCluster(address=f"127.0.0.1:{gcs_port}", dashboard_url=dashboard,
                         serve_url=f"http://127.0.0.1:{serve_port}")
    finally:
        subprocess.run([_ray_bin(), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp_dir, ignore_errors=True)
