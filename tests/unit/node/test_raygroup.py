"""Stopping a Ray head's process group: the workloads get their grace, the daemons do not.

Real process groups (``setsid`` shells): a "worker" that takes a moment to exit on SIGTERM,
"daemons" named like Ray's that ignore it, and a worker that ignores it too."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlta.local import raygroup

IGNORE = "signal.signal(signal.SIGTERM, signal.SIG_IGN)"
SLOW_EXIT = "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(0.3), sys.exit(0)))"
LEADER = "/venv/bin/ray start --head --block"


def _group(tmp_path: Path, leaders: list[subprocess.Popen[bytes]],
           *children: tuple[str, str]) -> subprocess.Popen[bytes]:
    """A session whose leader is named like ``ray start`` and ignores SIGTERM, running each
    child as a Python process named NAME (``exec -a``) with the SIGTERM handling given; a
    file per child says it is ready."""
    lines = []
    for i, (name, handling) in enumerate(children):
        code = (f"import pathlib, signal, sys, time; {handling}; "
                f"pathlib.Path({str(tmp_path / f'ready-{i}')!r}).touch(); time.sleep(120)")
        lines.append(f"(exec -a {shlex.quote(name)} {sys.executable} -c {shlex.quote(code)}) &")
    script = "\n".join(["trap '' TERM", *lines, "wait"])
    leader = subprocess.Popen(["bash", "-c", f"exec -a {shlex.quote(LEADER)} bash -c "
                               f"{shlex.quote(script)}"], start_new_session=True)
    leaders.append(leader)  # stopped by the fixture even if it never gets ready
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("ready-*"))) < len(children):
        assert time.monotonic() < deadline, "the fake group did not start"
        time.sleep(0.02)
    return leader


@pytest.fixture
def leaders() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for leader in started:
        if raygroup.members(leader.pid):
            raygroup._signal(leader.pid, 9)
        leader.wait(timeout=10)


def test_daemons_are_killed_once_the_workers_are_gone(
        tmp_path: Path, leaders: list[subprocess.Popen[bytes]]) -> None:
    leader = _group(tmp_path, leaders, ("ray::ServeReplica:app:service", SLOW_EXIT),
                    ("/venv/lib/ray/core/src/ray/raylet/raylet", IGNORE),
                    ("/venv/lib/ray/dashboard/agent.py", IGNORE))
    live = raygroup.members(leader.pid)
    assert len(live) == 4  # the leader and its three children
    assert [raygroup.is_daemon(cmd) for _, cmd in live].count(True) == 3
    started = time.monotonic()
    raygroup.stop_group(leader.pid, grace=20, reap=leader.poll)
    took = time.monotonic() - started
    assert raygroup.members(leader.pid) == []
    assert took < 10, took  # not the grace: nothing but daemons was left to wait for


def test_a_worker_that_ignores_sigterm_gets_the_grace_then_sigkill(
        tmp_path: Path, leaders: list[subprocess.Popen[bytes]]) -> None:
    leader = _group(tmp_path, leaders, ("ray::IDLE", IGNORE))
    started = time.monotonic()
    raygroup.stop_group(leader.pid, grace=1.0, reap=leader.poll)
    assert time.monotonic() - started >= 1.0
    assert raygroup.members(leader.pid) == []


def test_a_group_already_gone_is_nothing_to_do(tmp_path: Path) -> None:
    done = subprocess.Popen(["true"], start_new_session=True)
    done.wait()
    raygroup.stop_group(done.pid, grace=5)  # no such group: returns at once
    assert raygroup.members(done.pid) == []


def test_members_skip_zombies_and_unreadable_entries(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, state, pgrp, cmd in ((10, "S", 7, b"raylet\0"), (11, "Z", 7, b""), (12, "R", 8, b"x")):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "stat").write_text(f"{pid} (a b) {state} 1 {pgrp} 1 0 0")
        (proc / str(pid) / "cmdline").write_bytes(cmd)
    (proc / "13").mkdir()  # vanished between the listing and the read
    (proc / "self").mkdir()
    assert raygroup.members(7, proc) == [(10, "raylet ")]
