"""The cluster tier: a real single node built here, KubeRay, the S3 lake, ``helm install``.

The session's node has its own network namespace, networks and state directory (so it never
meets a node started with ``make node``); it is taken down at the end whatever happened, and
the teardown fails the session if the host is not exactly as it was before.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlta.local import images
from mlta.local.controlplane import CACHE, REPO
from mlta.local.node import hostnet, lifecycle, platform
from mlta.local.node.layout import NodeLayout

VALUES = Path(__file__).with_name("values-node.yaml")
KINDS = "datapipelines,trainingjobs,modeldeployments"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
RELEASE, OPERATOR_NS, CR_NS, LAKE_SECRET, BUCKET = "mlta", "mlta-system", "default", "mlta-lake", "mlta-lake"


#: pytest's per-test limit (900 s) is shorter than what the first test's fixtures may take on
#: a loaded 2-core machine (node up, KubeRay, S3, helm, then examples/ to all Ready within
#: 1500 s); every wait inside the tier has its own deadline, this only stops a hang.
TIER_TIMEOUT_S = 2400


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.timeout(TIER_TIMEOUT_S))


def test_layout(name: str = "tnode", octet: int = 1) -> NodeLayout:
    """A node distinct from the default one: own netns, veth, networks, cgroup, state."""
    return NodeLayout(
        state_dir=CACHE / f"node-{name}", netns=f"mlta-{name}", host_veth=f"mlta-{name[:4]}h",
        node_veth=f"mlta-{name[:4]}n", cgroup_root=f"mlta-{name}",
        link_net=ipaddress.IPv4Network(f"10.213.{octet}.0/30"),
        pod_net=ipaddress.IPv4Network(f"10.213.{128 + octet}.0/24"),
        service_net=ipaddress.IPv4Network(f"10.213.{64 + octet}.0/24"))


@dataclass
class Cluster:
    layout: NodeLayout
    timings: dict[str, float]

    def kubectl(self, *args: str, check: bool = True, input_text: str | None = None
                ) -> subprocess.CompletedProcess[str]:
        return platform.kubectl(self.layout, *args, check=check, input_text=input_text)

    def get(self, *args: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.kubectl("get", *args, "-o", "json").stdout)
        return out

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return platform.helm_run(self.layout, *args, check=check)


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 2.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {last!r})")


@pytest.fixture(scope="session")
def built() -> None:
    """Host packages, node binaries and images (all cached after the first run)."""
    if os.geteuid() != 0:
        pytest.fail("the cluster tier runs a real node: it needs root (network namespaces, cgroups)")
    lifecycle.ensure_built()
    images.build_all()


@pytest.fixture(scope="session")
def cluster(built: None) -> Iterator[Cluster]:
    layout = test_layout()
    if lifecycle.supervisor_pid(layout) or hostnet.netns_exists(layout):
        lifecycle.down(layout)  # a node left by a killed earlier session
    before = hostnet.snapshot(layout)
    timings: dict[str, float] = {}
    try:
        t0 = time.monotonic()
        lifecycle.up(layout, build=False)
        timings["node_up_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        platform.install_kuberay(layout)
        platform.install_s3(layout, BUCKET)
        platform.namespace(layout, OPERATOR_NS, (platform.RESTRICTED,))
        platform.lake_secret(layout, LAKE_SECRET, [OPERATOR_NS, CR_NS])
        platform.helm_run(layout, "install", RELEASE, str(REPO / "charts" / "mlta"), "-n", OPERATOR_NS,
                          "-f", str(VALUES), "--wait", "--timeout", "180s")
        timings["platform_install_s"] = time.monotonic() - t0
        yield Cluster(layout, timings)
    finally:
        print(f"\n[cluster] node memory before teardown: "
              f"{lifecycle.memory_bytes(layout) / 2**20:.0f} MiB; timings {timings}")
        problems = lifecycle.down(layout)
        after = hostnet.snapshot(layout)
    assert not problems, problems
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def _phases(cluster: Cluster) -> dict[str, str]:
    items = cluster.get("-n", CR_NS, KINDS)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}": (o.get("status") or {}).get("phase", "") for o in items}


def _all_ready(cluster: Cluster, expected: int) -> dict[str, str] | None:
    phases = _phases(cluster)
    failed = {k: v for k, v in phases.items() if v == "Failed"}
    assert not failed, f"failed: {failed}: " + cluster.kubectl("-n", CR_NS, "get", KINDS, "-o",
                                                               "yaml", check=False).stdout[-3000:]
    return phases if len(phases) == expected and set(phases.values()) == {"Ready"} else None


@pytest.fixture(scope="session")
def applied(cluster: Cluster) -> dict[str, float]:
    t0 = time.monotonic()
    cluster.kubectl("-n", CR_NS, "apply", *[a for m in EXAMPLES for a in ("-f", str(m))])
    wait_until("every example Ready", lambda: _all_ready(cluster, 4), timeout=1500, interval=3)
    cluster.timings["examples_all_ready_s"] = time.monotonic() - t0
    print(f"\n[cluster] kubectl apply -f examples/ -> all Ready in {time.monotonic() - t0:.0f}s")
    return cluster.timings
