"""Deleting the examples: finalizers remove the RayService and RayJobs, then the CRs go."""

from __future__ import annotations

from .conftest import CR_NS, KINDS, Cluster, wait_until


def test_deleting_the_crs_removes_their_ray_objects(cluster: Cluster, applied: dict[str, float]) -> None:
    assert cluster.get("-n", CR_NS, "rayservices")["items"]
    for kind in ("modeldeployments", "trainingjobs", "datapipelines"):
        for obj in cluster.get("-n", CR_NS, kind)["items"]:
            assert obj["metadata"].get("finalizers"), f"{kind} {obj['metadata']['name']} has no finalizer"
    cluster.kubectl("-n", CR_NS, "delete", "modeldeployment", "direction-ab", "--timeout=180s")
    wait_until("RayService deleted", lambda: not cluster.get("-n", CR_NS, "rayservices")["items"], 180)
    cluster.kubectl("-n", CR_NS, "delete", "trainingjobs,datapipelines", "--all", "--timeout=180s")
    wait_until("RayJobs deleted", lambda: not cluster.get("-n", CR_NS, "rayjobs")["items"], 180)
    assert cluster.get("-n", CR_NS, KINDS)["items"] == []
