"""Starting a Ray head: started means `ray start` said so and the dashboard answers; the
startup race of a busy machine is tried again, any other exit is reported at once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.unit.node.hostfakes import gone

from mlta.errors import BackendError
from mlta.local import headstart

RACE = "Exception: The current node timed out during startup. This could happen because ..."


def _ray(tmp_path: Path, *attempts: str) -> list[str]:
    """A fake `ray start --head --block`: attempt N runs ``attempts[N-1]`` (shell)."""
    count = tmp_path / "count"
    cases = "".join(f"  {n}) {body};;\n" for n, body in enumerate(attempts, start=1))
    script = tmp_path / "ray"
    script.write_text(f"""#!/bin/bash
n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $n > {count}
echo "attempt $n"
case $n in
{cases}esac
""")
    script.chmod(0o755)
    return [str(script), "start", "--head", "--block"]


def _start(tmp_path: Path, cmd: list[str], is_up: bool = True, timeout: float = 30,
           notes: list[str] | None = None) -> subprocess.Popen[bytes]:
    spawned: list[subprocess.Popen[bytes]] = []
    try:
        return headstart.start_head(
            cmd, {"PATH": "/usr/bin:/bin"}, tmp_path / "head.log", lambda: is_up, timeout,
            on_timeout=lambda: TimeoutError("not started"), on_spawn=spawned.append,
            note=(notes if notes is not None else []).append)
    finally:
        assert spawned  # every attempt is shown to the caller as soon as it runs


def test_the_startup_race_is_tried_again_and_the_started_head_returned(tmp_path: Path) -> None:
    log = tmp_path / "head.log"
    log.write_text("Ray runtime started.  <- an earlier start's, never taken for this one\n")
    notes: list[str] = []
    cmd = _ray(tmp_path, f'echo "{RACE}"; exit 1', f'echo "{RACE}"; exit 1',
               'echo "Ray runtime started."; exec sleep 60')
    head = _start(tmp_path, cmd, notes=notes)
    try:
        assert head.poll() is None and "attempt 3" in log.read_text()
        assert notes == [f"Ray's head did not start: its raylet missed Ray's fixed 15 s window for "
                         f"the dashboard agent (a busy machine); trying again ({n} of 3)" for n in (2, 3)]
    finally:
        head.kill()
        head.wait()


def test_another_exit_is_reported_at_once_with_its_output(tmp_path: Path) -> None:
    cmd = _ray(tmp_path, "echo 'ConnectionError: GCS port 6379 is already in use'; exit 1",
               'echo "Ray runtime started."; exec sleep 60')
    with pytest.raises(BackendError) as caught:
        _start(tmp_path, cmd)
    assert caught.value.message == ("ray start exited 1: attempt 1\n"
                                    "ConnectionError: GCS port 6379 is already in use\n")
    assert caught.value.hint == f"see {tmp_path / 'head.log'}"
    assert (tmp_path / "count").read_text() == "1\n"


def test_a_race_every_time_fails_after_the_last_attempt(tmp_path: Path) -> None:
    cmd = _ray(tmp_path, *[f'echo "{RACE}"; exit 1'] * 4)
    with pytest.raises(BackendError, match="ray start exited 1: attempt 3\nException: The current node"):
        _start(tmp_path, cmd)
    assert (tmp_path / "count").read_text() == "3\n"


def test_a_dashboard_that_answers_is_not_enough(tmp_path: Path) -> None:
    """Ray's dashboard answers while `ray start` still waits for its raylet (and may give up)."""
    cmd = _ray(tmp_path, "exec sleep 60")
    spawned: list[subprocess.Popen[bytes]] = []
    with pytest.raises(TimeoutError, match="not started"):
        headstart.start_head(cmd, {"PATH": "/usr/bin:/bin"}, tmp_path / "head.log", lambda: True,
                             0.5, on_timeout=lambda: TimeoutError("not started"),
                             on_spawn=spawned.append)
    (head,) = spawned
    assert head.poll() is None  # left running for its caller to look at and stop
    head.kill()
    head.wait()
    assert gone(head.pid)
