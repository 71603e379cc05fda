"""Faults on the node: the operator killed mid-reconcile, a Ray pod killed under a running job."""

from __future__ import annotations

import yaml

from .conftest import CR_NS, OPERATOR_NS, Cluster, wait_until


def pipeline(name: str, seed: int, bars: int = 3000) -> str:
    return yaml.safe_dump({"apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline",
                           "metadata": {"name": name, "namespace": CR_NS},
                           "spec": {"source": {"type": "sample", "symbols": ["BTCUSDT"], "interval": "5m",
                                               "sample": {"seed": seed, "bars": bars}}}})


def status(cluster: Cluster, name: str) -> dict:
    return cluster.get("-n", CR_NS, "datapipeline", name).get("status") or {}


def rayjobs(cluster: Cluster, name: str) -> list[dict]:
    items: list[dict] = cluster.get("-n", CR_NS, "rayjobs", "-l", f"mlta.io/name={name}")["items"]
    return items


def operator_pods(cluster: Cluster) -> list[str]:
    pods = cluster.get("-n", OPERATOR_NS, "pods", "-l", "app.kubernetes.io/component=operator")["items"]
    return [p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]


def delete_cr(cluster: Cluster, name: str) -> None:
    cluster.kubectl("-n", CR_NS, "delete", "datapipeline", name, "--timeout=120s")
    wait_until(f"RayJobs of {name} deleted", lambda: not rayjobs(cluster, name), timeout=120)


def test_operator_deleted_mid_reconcile_converges_with_one_rayjob(cluster: Cluster) -> None:
    name = "fault-restart"
    cluster.kubectl("apply", "-f", "-", input_text=pipeline(name, seed=11))
    sid = wait_until("submission id recorded", lambda: status(cluster, name).get("submissionId"), 120, 0.5)
    (old,) = operator_pods(cluster)
    cluster.kubectl("-n", OPERATOR_NS, "delete", "pod", old, "--grace-period=0", "--force")
    new = wait_until("a replacement operator", lambda: [p for p in operator_pods(cluster) if p != old], 180)
    assert new
    wait_until(f"{name} Ready", lambda: status(cluster, name).get("phase") == "Ready", 900, 3)
    jobs = rayjobs(cluster, name)
    assert [j["spec"]["jobId"] for j in jobs] == [sid], "exactly one RayJob per submission"
    assert status(cluster, name)["submissionId"] == sid
    delete_cr(cluster, name)


def test_ray_head_killed_is_retried_and_a_rerun_succeeds(cluster: Cluster) -> None:
    """KubeRay replaces a killed head and its submitter re-submits the same job id; the CR
    reports the failed attempt while it runs and ends Ready from the one RayJob."""
    name = "fault-kill"
    cluster.kubectl("apply", "-f", "-", input_text=pipeline(name, seed=12))
    job = wait_until("RayJob running", lambda: next(
        (j for j in rayjobs(cluster, name) if (j.get("status") or {}).get("jobStatus") == "RUNNING"), None),
        600, 1)
    sid = job["spec"]["jobId"]
    head = cluster.get("-n", CR_NS, "pods", "-l",
                       f"ray.io/cluster={job['status']['rayClusterName']},ray.io/node-type=head")["items"]
    cluster.kubectl("-n", CR_NS, "delete", "pod", head[0]["metadata"]["name"], "--grace-period=0", "--force")
    messages: set[str] = set()

    def settled() -> bool:
        st = status(cluster, name)
        messages.update(c.get("message", "") for c in st.get("conditions", []))
        assert st.get("phase") != "Failed", st
        return st.get("phase") == "Ready"

    wait_until(f"{name} Ready after the head was killed", settled, 900, 1)
    submitters = cluster.get("-n", CR_NS, "pods", "-l", f"job-name={job['metadata']['name']}")["items"]
    assert "Failed" in {p["status"]["phase"] for p in submitters}, "the kill was felt"
    assert any("submitter attempt(s) failed" in m for m in messages), messages
    assert [j["spec"]["jobId"] for j in rayjobs(cluster, name)] == [sid]
    # A re-run is a new generation: change the spec, the operator submits once more.
    cluster.kubectl("-n", CR_NS, "patch", "datapipeline", name, "--type=merge",
                    "-p", '{"spec": {"source": {"sample": {"bars": 2500}}}}')
    wait_until(f"{name} re-run Ready", lambda: status(cluster, name).get("phase") == "Ready"
               and status(cluster, name).get("observedGeneration") == 2, 900, 3)
    # (Bronze is append-only: the same seed's bars are already there, so rows stay as they were.)
    assert status(cluster, name)["submissionId"] != sid and status(cluster, name)["datasetVersion"]
    delete_cr(cluster, name)


def test_missing_lake_secret_is_named_on_the_cr(cluster: Cluster) -> None:
    """A namespace without the lake's Secret: the Ray head cannot start, the CR says why."""
    ns = "no-lake"
    cluster.kubectl("create", "namespace", ns)
    try:
        doc = pipeline("orphan", seed=14).replace(f"namespace: {CR_NS}", f"namespace: {ns}")
        cluster.kubectl("apply", "-f", "-", input_text=doc)
        message = wait_until("the CR names the missing Secret", lambda: next(
            (c["message"] for c in (cluster.get("-n", ns, "datapipeline", "orphan").get("status") or {})
             .get("conditions", []) if "cannot start" in c.get("message", "")), None), 300)
        assert "CreateContainerConfigError" in message and 'secret "mlta-lake" not found' in message
        cluster.kubectl("-n", ns, "delete", "datapipeline", "orphan", "--timeout=120s")
    finally:
        cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
