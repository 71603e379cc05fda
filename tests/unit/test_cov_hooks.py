"""scripts/cov.py's start-up hooks: Ray's daemons are left unmeasured, their children are not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("cov_script", REPO / "scripts" / "cov.py")
assert _spec and _spec.loader
cov = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cov)

# Prints whether coverage measures this process, then the same for a child it starts.
PROBE = """
import subprocess, sys, coverage
print(coverage.Coverage.current() is not None, flush=True)
if len(sys.argv) > 1:
    subprocess.run([sys.executable, "-c", "import coverage; "
                    "print(coverage.Coverage.current() is not None)"], check=True)
"""


@pytest.mark.parametrize(("argv_tail", "expected"), [
    (["child"], ["True", "True"]),                                    # an ordinary process
    (["/x/site-packages/ray/dashboard/agent.py", "child"], ["False", "True"]),  # a daemon
])
def test_a_ray_daemon_is_not_measured_but_its_children_are(
        argv_tail: list[str], expected: list[str], tmp_path: Path) -> None:
    cov.install_hook()  # idempotent: the hooks `make test` installs in this venv
    rc = tmp_path / "rc"
    rc.write_text(f"[run]\ndata_file = {tmp_path / 'data'}\nparallel = true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "MLTA_COVERAGE_"))}
    env.update(COVERAGE_PROCESS_START=str(rc), MLTA_COVERAGE_SKIP=",".join(cov.RAY_DAEMONS))
    done = subprocess.run([sys.executable, "-c", PROBE, *argv_tail], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.split() == expected
    assert "Error processing" not in done.stderr, done.stderr  # site reports a failing hook


def test_the_hook_is_inert_without_a_coverage_run(tmp_path: Path) -> None:
    cov.install_hook()
    # neither coverage's variable nor ours (under `make test` this process has both)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "MLTA_COVERAGE_"))}
    env["MLTA_COVERAGE_SKIP"] = "dashboard.py"
    out = subprocess.run([sys.executable, "-c", "import sys; print('coverage' in sys.modules)",
                          "dashboard.py"], env=env, capture_output=True, text=True, timeout=60,
                         check=True).stdout.split()
    assert out == ["False"]  # nothing imported, nothing started
    assert (cov.site_packages() / cov.SKIP_HOOK_FILE).read_text() == cov.SKIP_HOOK
    assert sorted([cov.SKIP_HOOK_FILE, "a1_coverage.pth"])[0] == cov.SKIP_HOOK_FILE  # runs first
