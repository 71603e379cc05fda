"""Build what an engine needs to run a DataPipeline or TrainingJob as a Ray job."""

from __future__ import annotations

from typing import Any

import yaml

from mlta.config import Settings
from mlta.specs.jobs import ENVELOPE_ENV, JobEnvelope, ResourceRef

ENTRYPOINT = "python -m mlta.jobs.run"
LABEL_PREFIX = "mlta.io"


def build_envelope(
    *,
    kind: str,
    body: dict[str, Any],
    settings: Settings,
    submission_id: str,
    correlation_id: str,
    inputs: dict[str, str] | None = None,
    attempt: int = 0,
) -> JobEnvelope:
    """The job's whole input: the CR's stored spec, where to write, and resolved inputs."""
    meta = body["metadata"]
    return JobEnvelope(
        resource=ResourceRef(kind=kind, namespace=meta["namespace"], name=meta["name"],
                             uid=meta.get("uid", ""), generation=int(meta.get("generation", 0))),
        spec=dict(body.get("spec") or {}),
        storage_uri=settings.storage.uri,
        correlation_id=correlation_id,
        submission_id=submission_id,
        inputs=inputs or {},
        attempt=attempt,
    )


def job_env(envelope: JobEnvelope, settings: Settings) -> dict[str, str]:
    return {
        ENVELOPE_ENV: envelope.encode(),
        "MLTA_CORRELATION_ID": envelope.correlation_id,
        "MLTA_LOG__LEVEL": settings.log.level,
        "PYTHONUNBUFFERED": "1",
    }


def job_metadata(envelope: JobEnvelope) -> dict[str, str]:
    ref = envelope.resource
    return {
        f"{LABEL_PREFIX}/kind": ref.kind,
        f"{LABEL_PREFIX}/namespace": ref.namespace,
        f"{LABEL_PREFIX}/name": ref.name,
        f"{LABEL_PREFIX}/generation": str(ref.generation),
        f"{LABEL_PREFIX}/correlation-id": envelope.correlation_id,
    }


def ray_job_submission(envelope: JobEnvelope, settings: Settings) -> dict[str, Any]:
    """Body of ``POST /api/jobs/`` (Ray Job Submission REST API)."""
    return {
        "entrypoint": ENTRYPOINT,
        "submission_id": envelope.job_id,
        "runtime_env": {"env_vars": job_env(envelope, settings)},
        "metadata": job_metadata(envelope),
        "entrypoint_num_cpus": 1,
    }


def owner_reference(body: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    meta = body["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def kube_name(submission_id: str) -> str:
    """RayJob names end up in Service and Pod names: keep them short and DNS-safe."""
    import hashlib

    if len(submission_id) <= 47:
        return submission_id
    return submission_id[:38].rstrip("-") + "-" + hashlib.sha256(submission_id.encode()).hexdigest()[:8]


def ray_cluster_spec(settings: Settings, workers: int = 1) -> dict[str, Any]:
    """A small RayCluster spec for KubeRay: one head, an autoscalable worker group."""
    image = settings.kuberay.image

    def pod(name: str, cpu: str, memory: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"containers": [{
            "name": name, "image": image,
            "resources": {"requests": {"cpu": cpu, "memory": memory},
                          "limits": {"cpu": cpu, "memory": memory}},
        }]}
        if settings.kuberay.service_account:
            spec["serviceAccountName"] = settings.kuberay.service_account
        return {"spec": spec}

    return {
        "rayVersion": settings.kuberay.ray_version,
        "headGroupSpec": {"rayStartParams": {"dashboard-host": "0.0.0.0"},
                          "template": pod("ray-head", "1", "4Gi")},
        "workerGroupSpecs": [{
            "groupName": "workers", "replicas": workers, "minReplicas": 0,
            "maxReplicas": max(workers, 8), "rayStartParams": {},
            "template": pod("ray-worker", "2", "8Gi"),
        }],
    }


def rayjob_manifest(
    envelope: JobEnvelope, body: dict[str, Any], settings: Settings, owner_api_version: str
) -> dict[str, Any]:
    """A KubeRay RayJob owned by the CR; KubeRay creates the cluster, runs, tears down."""
    ref = envelope.resource
    runtime_env = {"env_vars": job_env(envelope, settings)}
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {
            "name": kube_name(envelope.job_id),
            "namespace": ref.namespace,
            "labels": {f"{LABEL_PREFIX}/kind": ref.kind.lower(), f"{LABEL_PREFIX}/name": ref.name},
            "annotations": {f"{LABEL_PREFIX}/correlation-id": envelope.correlation_id},
            "ownerReferences": [owner_reference(body, owner_api_version, ref.kind)],
        },
        "spec": {
            "entrypoint": ENTRYPOINT,
            "jobId": envelope.job_id,
            "runtimeEnvYAML": yaml.safe_dump(runtime_env, sort_keys=True),
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 3600,
            "rayClusterSpec": ray_cluster_spec(settings),
        },
    }
