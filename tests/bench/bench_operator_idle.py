"""Benchmark: what waiting costs the operator, and how fast a new CR still reaches Ray.

Run:  .venv/bin/python tests/bench/bench_operator_idle.py [--counts 200,2000] [--window 30]

A private kube-apiserver + etcd and a private Ray head (free ports, token auth) and the real
operator process (`python -m mlta_operator`, default settings: first poll 3 s, backing off to
30 s). Measured, for 0 (the baseline, same run), then 200, then 2000 ModelDeployments that
each wait for a TrainingJob that does not exist:

- time until every one of them has a status (WaitingForDependency);
- the operator's CPU over an idle window (utime + stime from /proc, in cores) and its RSS,
  once the reconcile counter on its /metrics has stopped moving;
- reconciles during the window (an event-driven operator does none);
- CR -> job submitted with all of them waiting: a DataPipeline is created and the clock
  stops when Ray's job API knows its job (median and worst of 5).

Goals (issue 10): <= 0.02 core and <= 200 MB at 2000 waiting CRs, CR -> job submitted <= 1 s.
Not part of any test suite: it reports figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from tests.support.control_plane import private_control_plane
from tests.support.ray_cluster import RayCluster, free_port, local_ray

from mlta.local.controlplane import ControlPlane
from mlta.local.crds import apply, mlta_crd_files, wait_established

NS = "bench"
T = TypeVar("T")
TICKS = os.sysconf("SC_CLK_TCK")


def until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.01) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


class Bench:
    def __init__(self, cp: ControlPlane, ray: RayCluster, workdir: Path,
                 extra_env: dict[str, str]) -> None:
        from kubernetes import client, config

        self.cp, self.ray = cp, ray
        api = config.new_client_from_config(config_file=str(cp.kubeconfig))
        api.configuration.verify_ssl = False
        self.objects = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)
        self.metrics_port = free_port()
        self.log = workdir / "operator.log"
        env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig), MLTA_ENV="development",
                   **ray.operator_env, MLTA_STORAGE__URI=f"file://{workdir / 'lake'}",
                   MLTA_OPERATOR__NAMESPACES=f"[{NS}]", MLTA_LOG__LEVEL="WARNING",
                   MLTA_OPERATOR__METRICS_PORT=str(self.metrics_port),
                   MLTA_OPERATOR__HEALTH_PORT=str(free_port()), PYTHONUNBUFFERED="1", **extra_env)
        import urllib3

        urllib3.disable_warnings()
        self.core.create_namespace({"metadata": {"name": NS}})
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "mlta_operator"], stdout=out,
                                         stderr=subprocess.STDOUT, env=env)
        until(self.reconciles_or_none, 60, "the operator's /metrics", interval=0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def reconciles_or_none(self) -> float | None:
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        total = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                    if line.startswith("mlta_reconcile_total{"))
        return total + 1.0  # truthy even at zero

    def reconciles(self) -> float:
        value = self.reconciles_or_none()
        assert value is not None, "operator metrics unreachable"
        return value - 1.0

    def create(self, plural: str, name: str, spec: dict[str, Any]) -> None:
        kind = {"modeldeployments": "ModelDeployment", "datapipelines": "DataPipeline"}[plural]
        self.objects.create_namespaced_custom_object("mlta.io", "v1alpha1", NS, plural, {
            "apiVersion": "mlta.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})

    def statused(self, plural: str) -> int:
        items = self.objects.list_namespaced_custom_object("mlta.io", "v1alpha1", NS, plural)["items"]
        return sum(1 for o in items if (o.get("status") or {}).get("phase"))

    def settle(self, quiet: float = 5.0, timeout: float = 300.0) -> None:
        """Until the reconcile counter has not moved for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last, since = self.reconciles(), time.monotonic()
        while time.monotonic() - since < quiet:
            if time.monotonic() > deadline:
                raise TimeoutError("the operator never went quiet")
            time.sleep(0.5)
            now = self.reconciles()
            if now != last:
                last, since = now, time.monotonic()

    def idle(self, window: float) -> dict[str, float]:
        self.settle()
        before_cpu, before_rec = cpu_seconds(self.proc.pid), self.reconciles()
        started = time.monotonic()
        time.sleep(window)  # the measurement window itself, not a wait for something
        elapsed = time.monotonic() - started
        cores = (cpu_seconds(self.proc.pid) - before_cpu) / elapsed
        rss, peak = rss_mb(self.proc.pid)
        return {"cores": cores, "rss_mb": rss, "peak_mb": peak,
                "reconciles": self.reconciles() - before_rec}

    def submit_latency(self, label: str) -> float:
        name = f"latency-{label}"
        self.create("datapipelines", name, {"source": {"type": "sample", "symbols": ["BTCUSDT"],
                                                      "sample": {"seed": 1, "bars": 300}}})
        started = time.monotonic()

        def sid() -> str | None:
            obj = self.objects.get_namespaced_custom_object("mlta.io", "v1alpha1", NS, "datapipelines", name)
            return (obj.get("status") or {}).get("submissionId")

        submission = until(sid, 30, f"{name} submission recorded")

        def known() -> bool:
            resp = httpx.get(f"{self.ray.dashboard_url}/api/jobs/{submission}",
                             headers=self.ray.headers, timeout=5)
            return resp.status_code == 200

        until(known, 30, f"Ray to know job {submission}")
        latency = time.monotonic() - started
        self.objects.delete_namespaced_custom_object("mlta.io", "v1alpha1", NS, "datapipelines", name)
        return latency


def waiting_spec(i: int) -> dict[str, Any]:
    return {"variants": [{"name": "only", "trainingJob": f"missing-{i}", "weight": 100}]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="200,2000", help="waiting CRs, cumulative steps")
    parser.add_argument("--window", type=float, default=30.0, help="idle window in seconds")
    parser.add_argument("--latency-runs", type=int, default=5)
    parser.add_argument("--operator-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the operator process (to compare settings)")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.operator_env)
    counts = [int(c) for c in args.counts.split(",")]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    rows: list[tuple[int, dict[str, float], float, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="mlta-bench-") as tmp, \
            private_control_plane(Path(tmp) / "cluster") as cp, local_ray(num_cpus=2) as ray:
        apply(cp, mlta_crd_files())
        wait_established(cp, ["datapipelines.mlta.io", "trainingjobs.mlta.io", "modeldeployments.mlta.io"])
        bench = Bench(cp, ray, Path(tmp), extra_env)
        try:
            bench.submit_latency("warm-up")  # Ray's first job supervisor start: not timed
            created = 0
            for target in [0, *counts]:
                started = time.monotonic()
                for i in range(created, target):
                    bench.create("modeldeployments", f"wait-{i}", waiting_spec(i))
                created_in = time.monotonic() - started
                until(lambda t=target: bench.statused("modeldeployments") >= t, 600,
                      f"{target} deployments with a status", interval=0.2)
                statused_in = time.monotonic() - started
                created = target
                idle = bench.idle(args.window)
                latencies = [bench.submit_latency(f"{target}-{k}") for k in range(args.latency_runs)]
                rows.append((target, idle, statused_in, latencies))
                print(f"{target:5d} waiting: created in {created_in:5.1f}s, all with a status after "
                      f"{statused_in:5.1f}s; idle {idle['cores']:.4f} core, RSS {idle['rss_mb']:.0f} MB "
                      f"(peak {idle['peak_mb']:.0f}), {idle['reconciles']:.0f} reconciles in "
                      f"{args.window:g}s; CR -> job submitted median {statistics.median(latencies):.3f}s, "
                      f"max {max(latencies):.3f}s", flush=True)
        finally:
            bench.stop()
    base = rows[0][1]
    print("\nagainst the baseline (0 waiting, same run):")
    for target, idle, _, latencies in rows[1:]:
        print(f"  {target:5d} waiting: CPU {idle['cores'] - base['cores']:+.4f} core, "
              f"RSS {idle['rss_mb'] - base['rss_mb']:+.0f} MB, submission latency x"
              f"{statistics.median(latencies) / statistics.median(rows[0][3]):.2f}")
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
