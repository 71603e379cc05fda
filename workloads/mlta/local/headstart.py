"""Starting ``ray start --head --block`` and knowing when the head has really started.

Two things about `ray start` that polling its dashboard did not see:

- The dashboard answers before the head is up. `ray start` goes on waiting for its raylet to
  register and gives up after 30 s ("The current node timed out during startup"), taking the
  GCS and the dashboard down with it. A start that only polled the dashboard took such a head
  for a running one: the demo then waited for Ready forever, and a test session's head was gone
  before its first job. Started means both: the output says ``Ray runtime started`` and the
  dashboard answers.
- On a busy machine the raylet can miss a window that is not configurable. Ray 2.60's raylet
  waits a hard-coded 15 s for the dashboard agent (a Python process with heavy imports) to
  write its port files, and aborts when it has not (raylet.out: "Timed out waiting for file
  .../metrics_agent_port_..."; ``RAY_agent_register_timeout_ms`` does not apply to it). That
  exit is the machine's load, not a fault of the head's set-up, so the start is tried again,
  up to :data:`ATTEMPTS` times; any other exit is reported at once, with the output.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..errors import BackendError
from .raygroup import stop_group

#: What ``ray start --head --block`` prints once its node has registered.
STARTED = "Ray runtime started"
#: Ray's message when the raylet did not register in time (see the module's docstring).
STARTUP_RACE = "timed out during startup"
ATTEMPTS = 3


def start_head(cmd: Sequence[str], env: Mapping[str, str], log_file: Path,
               is_up: Callable[[], bool], timeout: float,
               on_timeout: Callable[[], BaseException],
               on_spawn: Callable[[subprocess.Popen[bytes]], object] = lambda head: None,
               note: Callable[[str], None] = print, attempts: int = ATTEMPTS,
               ) -> subprocess.Popen[bytes]:
    """Run ``cmd`` (a ``ray start --head --block``) in a session of its own, its output
    appended to ``log_file``, until it has started; return it running.

    Each attempt has ``timeout`` seconds. A head that exits raises :class:`BackendError` with
    its output, after retrying the startup race; one that neither starts nor exits in time
    raises ``on_timeout()`` and is left running (its caller knows how to stop it, and may want
    to look at it first). ``on_spawn`` sees each process as soon as it runs (the demo records
    its pid, so `make down` can stop a head whatever happens next)."""
    for attempt in range(1, attempts + 1):
        offset = log_file.stat().st_size if log_file.exists() else 0
        with log_file.open("ab") as out:
            head = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=dict(env), start_new_session=True)
        on_spawn(head)
        output = _wait_started(head, log_file, offset, is_up, timeout)
        if output is None:
            return head
        if head.returncode is None:  # neither started nor exited in time
            raise on_timeout()
        stop_group(head.pid, grace=5, reap=head.poll)  # what the failed start left behind
        if STARTUP_RACE not in output or attempt == attempts:
            raise BackendError(f"ray start exited {head.returncode}: {output[-2000:]}",
                               hint=f"see {log_file}")
        note(f"Ray's head did not start: its raylet missed Ray's fixed 15 s window for the "
             f"dashboard agent (a busy machine); trying again ({attempt + 1} of {attempts})")
    raise AssertionError("unreachable")  # pragma: no cover


def _wait_started(head: subprocess.Popen[bytes], log_file: Path, offset: int,
                  is_up: Callable[[], bool], timeout: float) -> str | None:
    """None once ``head`` has started; its output if it exits first or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        exited = head.poll() is not None
        output = _read_from(log_file, offset)
        if exited:
            return output
        if STARTED in output and is_up():
            return None
        if time.monotonic() > deadline:
            return output
        time.sleep(0.25)


def _read_from(path: Path, offset: int) -> str:
    with path.open("rb") as src:
        src.seek(offset)
        return src.read().decode(errors="replace")
