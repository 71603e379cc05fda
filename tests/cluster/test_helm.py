"""The chart on the node: schema-checked values, upgrade and rollback, and bad input that ends
in a clear message with nothing half-installed left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlta.local.controlplane import REPO

from .conftest import OPERATOR_NS, RELEASE, VALUES, Cluster, wait_until
from .test_faults import delete_cr, pipeline, status

CHART = str(REPO / "charts" / "mlta")


def operator_env(cluster: Cluster) -> dict[str, str]:
    deploy = cluster.get("-n", OPERATOR_NS, "deploy", "mlta-operator")
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def releases(cluster: Cluster, namespace: str) -> list[str]:
    out = cluster.helm("list", "-n", namespace, "-a", "-o", "json").stdout
    return [r["name"] for r in json.loads(out)]


def test_invalid_values_file_is_refused_with_the_field_named(cluster: Cluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: kuberay\nkuberay:\n  head:\n    memory: lots\nmetrics:\n  port: 70000\n")
    res = cluster.helm("install", "bad", CHART, "-n", OPERATOR_NS, "-f", str(VALUES), "-f", str(bad),
                       check=False)
    assert res.returncode != 0
    assert "at '/kuberay/head/memory'" in res.stderr and "at '/metrics/port'" in res.stderr, res.stderr
    assert "bad" not in releases(cluster, OPERATOR_NS)


@pytest.mark.parametrize(("case", "flags", "expected"), [
    ("missing-secret", ["--set", "storage.credentialsSecret=no-such-secret"], "no-such-secret"),
    ("missing-image", ["--set", "image.tag=0.0.0-absent"], "ErrImageNeverPull"),
])
def test_bad_install_rolls_back_whole(cluster: Cluster, case: str, flags: list[str], expected: str) -> None:
    """A pod that cannot start fails `helm install --atomic` and the release is removed."""
    ns = f"mlta-{case}"
    cluster.kubectl("create", "namespace", ns)
    try:
        res = cluster.helm("install", case, CHART, "-n", ns, "-f", str(VALUES), *flags,
                           "--set", "rbac.create=false", "--set", "operator.namespaces={" + ns + "}",
                           "--atomic", "--timeout", "40s", check=False)
        assert res.returncode != 0 and "context deadline exceeded" in res.stderr, res.stderr
        assert case not in releases(cluster, ns)
        assert cluster.get("-n", ns, "deploy,service")["items"] == []
        events = cluster.kubectl("-n", ns, "get", "events", "-o", "json").stdout
        assert expected in events, "the pod's events name the cause"
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)


def test_upgrade_reports_an_unschedulable_head_and_rollback_restores(cluster: Cluster) -> None:
    before = operator_env(cluster)
    revision = json.loads(cluster.helm("status", RELEASE, "-n", OPERATOR_NS, "-o", "json").stdout)["version"]
    cluster.helm("upgrade", RELEASE, CHART, "-n", OPERATOR_NS, "-f", str(VALUES), "--set-string",
                 "kuberay.head.cpu=16", "--set", "operator.logLevel=DEBUG", "--wait", "--timeout", "180s")
    env = operator_env(cluster)
    assert env["MLTA_KUBERAY__HEAD_CPU"] == "16" and env["MLTA_LOG__LEVEL"] == "DEBUG"
    name = "too-big"
    cluster.kubectl("apply", "-f", "-", input_text=pipeline(name, seed=13))
    try:
        message = wait_until("the CR names the unschedulable head", lambda: next(
            (c["message"] for c in status(cluster, name).get("conditions", [])
             if c["type"] == "Progressing" and "cannot be scheduled" in c.get("message", "")), None), 300)
        assert "Insufficient cpu" in message and "kuberay.head_cpu" in message
    finally:
        delete_cr(cluster, name)
    cluster.helm("rollback", RELEASE, str(revision), "-n", OPERATOR_NS, "--wait", "--timeout", "180s")
    wait_until("operator env restored", lambda: operator_env(cluster) == before, 60)
    wait_until("one operator pod running again", lambda: len(cluster.get(
        "-n", OPERATOR_NS, "pods", "-l", "app.kubernetes.io/component=operator",
        "--field-selector=status.phase=Running")["items"]) == 1, 180)
