"""The demo: the embedded default end to end, with visible progress.

Starts the local control plane, Ray and the operator, applies ``examples/*.yaml`` with
kubectl, waits until every CR is Ready, sends predictions and prints the A/B split observed.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ..errors import BackendError
from . import controlplane, crds, operator_proc, rayhead
from .controlplane import REPO, ControlPlane, log

KINDS = ("datapipelines", "trainingjobs", "modeldeployments")


def kubectl_json(cp: ControlPlane, *args: str) -> dict[str, Any]:
    res = subprocess.run(cp.kubectl() + list(args) + ["-o", "json"], capture_output=True, text=True)
    if res.returncode != 0:
        raise BackendError(f"kubectl {' '.join(args)} failed: {res.stderr.strip()}")
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def resources(cp: ControlPlane) -> list[dict[str, Any]]:
    return list(kubectl_json(cp, "get", ",".join(KINDS))["items"])


def wait_all_ready(cp: ControlPlane, expected: int, timeout: float) -> list[dict[str, Any]]:
    """Print each CR's phase as it changes; return when all are Ready, fail on any Failed."""
    seen: dict[str, str] = {}
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        items = resources(cp)
        for obj in items:
            st = obj.get("status") or {}
            key = f"{obj['kind']}/{obj['metadata']['name']}"
            line = f"{st.get('phase', 'Pending')}: {st.get('message', '')}"
            if seen.get(key) != line:
                seen[key] = line
                log(f"{time.monotonic() - started:6.1f}s  {key:34s} {line[:110]}")
            if st.get("phase") == "Failed":
                raise BackendError(f"{key} failed: {st.get('message')}")
        ready = [o for o in items if (o.get("status") or {}).get("phase") == "Ready"
                 and o["status"].get("observedGeneration") == o["metadata"].get("generation")]
        if len(items) >= expected and len(ready) == len(items):
            return items
        time.sleep(1)
    raise BackendError(f"not all resources Ready after {timeout:.0f}s",
                       hint=f"see {cp.state_dir / 'operator.log'} and the Ray dashboard")


def wait_serving(endpoint: str, timeout: float) -> None:
    """Poll the app's /healthz until Serve answers.

    Ready in a status can predate this Ray head (a control plane kept from an earlier run
    and a fresh Ray): the operator notices the missing app on its next poll and re-applies
    it, and the demo waits for the answer rather than trusting the status alone.
    """
    health = endpoint.removesuffix("/predict").removesuffix("/v1") + "/healthz"
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        try:
            resp = httpx.get(health, timeout=5)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.5)
    raise BackendError(f"{health} did not answer within {timeout:.0f}s ({last})",
                       hint="see the operator log and the Ray dashboard's Serve page")


def feature_rows(dataset_uri: str, columns: list[str], count: int) -> list[dict[str, float]]:
    from ..data.lake import read_dataset

    frame, _ = read_dataset(dataset_uri)
    tail = frame.dropna(subset=columns).tail(count)
    return [{c: float(row[c]) for c in columns} for _, row in tail.iterrows()]


def send_predictions(endpoint: str, rows: list[dict[str, float]], n: int) -> tuple[Counter[str], list[float]]:
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    rng = random.Random(0)
    with httpx.Client(timeout=30) as client:
        for i in range(n):
            body = {"key": f"client-{rng.randrange(10**9)}", "features": rows[i % len(rows)]}
            t0 = time.perf_counter()
            resp = client.post(endpoint, json=body)
            latencies.append((time.perf_counter() - t0) * 1000)
            resp.raise_for_status()
            counts[resp.json()["variant"]] += 1
    return counts, latencies


def run_demo(cp: ControlPlane, requests: int = 500, timeout: float = 1500,
             examples: Path = REPO / "examples") -> int:
    t0 = time.monotonic()
    controlplane.start(cp)
    crds.install_all(cp)
    rayhead.start()
    operator_proc.start(cp)
    manifests = sorted(examples.glob("*.yaml"))
    log("kubectl apply " + " ".join(f"-f {m.relative_to(examples.parent)}" for m in manifests))
    args = cp.kubectl() + ["apply"]
    for m in manifests:
        args += ["-f", str(m)]
    subprocess.run(args, check=True)
    expected = sum(m.read_text().count("\nkind: ") + m.read_text().startswith("kind: ") for m in manifests)
    items = wait_all_ready(cp, expected, timeout)
    ready_at = time.monotonic() - t0
    subprocess.run(cp.kubectl() + ["get", "mlta"], check=False)
    from .training_report import training_report

    print(training_report(items), flush=True)

    deployment = next(o for o in items if o["kind"] == "ModelDeployment")
    pipeline = next(o for o in items if o["kind"] == "DataPipeline")
    endpoint = deployment["status"]["endpoint"]
    wait_serving(endpoint, timeout=300)
    from ..registry import read_metadata

    model_uri = deployment["status"]["variants"][0]["modelUri"]
    columns = read_metadata(model_uri).feature_columns
    rows = feature_rows(pipeline["status"]["datasetUri"], columns, 200)
    log(f"sending {requests} predictions to {endpoint}")
    counts, latencies = send_predictions(endpoint, rows, requests)
    split = ", ".join(f"{k}={100 * v / requests:.1f}%" for k, v in sorted(counts.items()))
    weights = deployment["status"]["split"]
    q = statistics.quantiles(latencies, n=100)
    print()
    print(f"  A/B split observed over {requests} requests: {split}  (configured {weights})")
    print(f"  latency: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms (HTTP round trip)")
    print(f"  all Ready after {ready_at:.0f}s; demo wall time {time.monotonic() - t0:.0f}s")
    print(f"  Ray dashboard: {rayhead.dashboard_url()}")
    print(f"  kubectl:       {' '.join(cp.kubectl())} get mlta")
    print(f"  predict:       curl -s -XPOST {endpoint} -H 'content-type: application/json' "
          "-d '{\"key\": \"me\", \"features\": {...}}'")
    print("  stop:          make down")
    return 0
