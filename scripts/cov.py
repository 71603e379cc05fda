"""One coverage figure for every process the suite starts, and the gate on it.

    scripts/cov.py clean                      # forget earlier data
    scripts/cov.py run [--no-jit] -- CMD...   # run CMD with every Python process measured
    scripts/cov.py report [--fail-under 95] [--package-fail-under 90]

How every process is measured: coverage.py ships a ``.pth`` file that starts measuring in any
Python process of this venv whose environment names a configuration (``COVERAGE_PROCESS_START``).
``run`` writes that configuration (absolute data path, ``parallel`` so each process writes its
own file, ``sigterm`` so a terminated process still saves) and sets the variable for CMD.
Everything CMD starts inherits it: pytest itself, the operator subprocess, ``python -m
mlta.local`` and the CLI, the Ray head and through it every Ray worker, job driver and Serve
replica. Ray kills some workers without running their exit handlers (a Serve replica being
replaced, an idle worker), so a second ``.pth`` hook of ours saves each measured process's data
every few seconds as well (``MLTA_COVERAGE_FLUSH_SECONDS``). A third, run before coverage's,
leaves Ray's own daemons unmeasured (``RAY_DAEMONS``: they run none of mlta's code).

``--no-jit`` sets ``NUMBA_DISABLE_JIT=1``: the numba kernels run as the Python they are written
in, so their lines are measured too (the feature tests then use small inputs).

``report`` combines the data files, prints the report per file and per top-level package
(``mlta_operator``, ``mlta.data``, ``mlta.features``, ..., ``mlta`` for the modules directly
in it) and fails below the thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COV_DIR = REPO / "build" / "coverage"
RC_FILE = COV_DIR / "coveragerc"
DATA_FILE = COV_DIR / ".coverage"
FLUSH_HOOK = "mlta_coverage_flush.pth"
FLUSH_SECONDS = "5"

RC = """\
[run]
data_file = {data}
parallel = true
sigterm = true
source =
    {repo}/workloads/mlta
    {repo}/operator/mlta_operator
concurrency = thread
omit = */site-packages/*

[report]
precision = 1
skip_empty = true
exclude_also =
    if TYPE_CHECKING:
    \\.\\.\\.$
    raise NotImplementedError
"""

# Runs at start-up in every Python process of the venv (after coverage's own a1_coverage.pth):
# when coverage measures this process, save its data every MLTA_COVERAGE_FLUSH_SECONDS.
HOOK = (
    "import os; exec(\"if os.environ.get('MLTA_COVERAGE_FLUSH_SECONDS'):\\n"
    " try:\\n  import mlta_coverage_flush\\n except ImportError:\\n  pass\\n"
    " else:\\n  mlta_coverage_flush.start()\")\n"
)

# Runs before coverage's own a1_coverage.pth: in a process whose command line names one of
# MLTA_COVERAGE_SKIP's comma-separated patterns, mark coverage as already started so its hook
# does nothing. The environment stays as it is, so the process's children are still measured.
SKIP_HOOK_FILE = "a0_mlta_coverage_skip.pth"
SKIP_HOOK = (  # a plain loop: exec runs in a function's namespace, unseen by comprehensions
    "import os; exec(\"if os.environ.get('COVERAGE_PROCESS_START') and "
    "os.environ.get('MLTA_COVERAGE_SKIP'):\\n import sys\\n line = ' '.join(sys.orig_argv)\\n"
    " for pattern in os.environ['MLTA_COVERAGE_SKIP'].split(','):\\n"
    "  if pattern and pattern in line:\\n"
    "   import coverage\\n   coverage.process_startup.coverage = None\\n   break\")\n"
)
#: Ray's own daemons: they never run mlta's code, and tracing their Python (the dashboard and
#: its module processes, the agents, the monitors, ``ray start --block`` watching its
#: children) cost CPU the tests need. Ray's workers, job drivers and Serve replicas are
#: measured as before; ``raylet`` and the GCS are not Python.
RAY_DAEMONS = ("ray/dashboard/dashboard.py", "ray/dashboard/agent.py",
               "ray.dashboard.subprocesses.module", "ray/_private/log_monitor.py",
               "ray/autoscaler/_private/monitor.py", "ray/autoscaler/v2/monitor.py",
               "ray/_private/runtime_env/agent/main.py", "bin/ray start")

FLUSH_MODULE = '''\
"""Save this process's coverage data periodically (written by scripts/cov.py).

One thread per process, stopped (and joined) at exit before coverage's own final save, so
two saves never touch the data file at once.
"""

import atexit
import os
import threading

_started = False


def start():
    global _started
    if _started:
        return
    import coverage

    cov = coverage.Coverage.current()
    if cov is None:
        return
    _started = True
    interval = float(os.environ.get("MLTA_COVERAGE_FLUSH_SECONDS") or 5)
    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            try:
                cov.save()
            except RuntimeError:   # a tracer added a file while the data was copied: next time
                pass

    thread = threading.Thread(target=loop, name="coverage-flush", daemon=True)
    thread.start()

    def halt():
        stop.set()
        thread.join(30)

    atexit.register(halt)   # registered after coverage's save, so it runs before it
'''


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def install_hook() -> None:
    """Put the periodic-save hook into this venv (idempotent; inert without the variable)."""
    site = site_packages()
    write_if_changed(site / "mlta_coverage_flush.py", FLUSH_MODULE)
    write_if_changed(site / FLUSH_HOOK, HOOK)
    write_if_changed(site / SKIP_HOOK_FILE, SKIP_HOOK)


def write_if_changed(path: Path, text: str) -> None:
    """Rewrite only when different: two ``run``s side by side (`make test` runs the kernel
    pass next to the cluster tier) never let a starting process read a half-written file."""
    if not path.exists() or path.read_text() != text:
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)


def clean() -> None:
    COV_DIR.mkdir(parents=True, exist_ok=True)
    for path in COV_DIR.glob(".coverage*"):
        path.unlink()


def run(command: list[str], no_jit: bool) -> int:
    COV_DIR.mkdir(parents=True, exist_ok=True)
    write_if_changed(RC_FILE, RC.format(data=DATA_FILE, repo=REPO))
    install_hook()
    env = dict(os.environ, COVERAGE_PROCESS_START=str(RC_FILE),
               MLTA_COVERAGE_FLUSH_SECONDS=os.environ.get("MLTA_COVERAGE_FLUSH_SECONDS", FLUSH_SECONDS),
               MLTA_COVERAGE_SKIP=",".join(RAY_DAEMONS))
    if no_jit:
        env["NUMBA_DISABLE_JIT"] = "1"
    return subprocess.call(command, env=env, cwd=REPO)


def package_of(path: str) -> str:
    """operator/mlta_operator/x.py -> mlta_operator; workloads/mlta/data/x.py -> mlta.data."""
    parts = Path(path).resolve().relative_to(REPO).parts
    if parts[0] == "operator":
        return "mlta_operator"
    return "mlta" if len(parts) == 3 else f"mlta.{parts[2]}"


def coverage_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "coverage", *args, f"--rcfile={RC_FILE}", f"--data-file={DATA_FILE}"]


def report(fail_under: float, package_fail_under: float, show: int,
           floors: dict[str, float] | None = None) -> int:
    if not RC_FILE.exists():
        print(f"no coverage configuration at {RC_FILE}: run `scripts/cov.py run -- ...` first")
        return 2
    files = list(COV_DIR.glob(".coverage.*"))
    if files:
        subprocess.run(coverage_cmd("combine", "--append", "-q"), check=True, cwd=REPO)
    json_file = COV_DIR / "coverage.json"
    subprocess.run(coverage_cmd("json", "-q", "-o", str(json_file)), check=True, cwd=REPO)
    data = json.loads(json_file.read_text())
    per_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = []
    for path, info in data["files"].items():
        summary = info["summary"]
        covered, statements = summary["covered_lines"], summary["num_statements"]
        per_package[package_of(path)][0] += covered
        per_package[package_of(path)][1] += statements
        relative = str(Path(path).resolve().relative_to(REPO))
        rows.append((summary["percent_covered"], statements - covered, relative))
    totals = data["totals"]
    overall = totals["percent_covered"]
    print(f"\nleast covered files (of {len(rows)}; full report: coverage html "
          f"--rcfile={RC_FILE.relative_to(REPO)} --data-file={DATA_FILE.relative_to(REPO)})")
    for percent, missing, path in sorted(rows)[:show]:
        print(f"  {percent:5.1f}%  {missing:5d} missed  {path}")
    print("\ncoverage by top-level package (lines, every process combined)")
    failed = []
    for package, (covered, statements) in sorted(per_package.items()):
        percent = 100.0 * covered / statements if statements else 100.0
        minimum = (floors or {}).get(package, package_fail_under)
        flag = "" if minimum == package_fail_under else f"  (an exception: held at >= {minimum:g}%)"
        if percent < minimum:
            failed.append(f"{package} {percent:.1f}% < {minimum:g}%")
            flag = "  <-- below the package minimum"
        print(f"  {package:<16} {percent:5.1f}%  ({covered}/{statements}){flag}")
    print(f"  {'overall':<16} {overall:5.1f}%  ({totals['covered_lines']}/{totals['num_statements']})")
    if overall < fail_under:
        failed.append(f"overall {overall:.1f}% < {fail_under:g}%")
    if failed:
        print("\ncoverage gate failed: " + "; ".join(failed))
        return 1
    exceptions = "".join(f", {name} >= {pct:g}%" for name, pct in sorted((floors or {}).items()))
    print(f"\ncoverage gate passed (overall >= {fail_under:g}%, every package >= "
          f"{package_fail_under:g}%{exceptions})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("clean", help="forget earlier coverage data")
    run_p = sub.add_parser("run", help="run a command with every Python process measured")
    run_p.add_argument("--no-jit", action="store_true", help="NUMBA_DISABLE_JIT=1 (measure the kernels)")
    run_p.add_argument("cmd", nargs=argparse.REMAINDER)
    rep = sub.add_parser("report", help="combine, report, gate")
    rep.add_argument("--fail-under", type=float, default=95.0)
    rep.add_argument("--package-fail-under", type=float, default=90.0)
    rep.add_argument("--show", type=int, default=25, help="how many of the least covered files to list")
    rep.add_argument("--package-floor", action="append", default=[], metavar="PACKAGE=PERCENT",
                     help="a named exception to --package-fail-under (say why where it is set)")
    args = parser.parse_args(argv)
    if args.command == "clean":
        clean()
        return 0
    if args.command == "run":
        command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        if not command:
            parser.error("run needs a command after --")
        return run(command, args.no_jit)
    floors = {name: float(pct) for name, pct in (f.split("=", 1) for f in args.package_floor)}
    return report(args.fail_under, args.package_fail_under, args.show, floors)


if __name__ == "__main__":
    sys.exit(main())
