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


def _ray_container(settings: Settings, name: str, cpu: str, memory: str,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """A Ray container: the project's image, requests that fit the node, the lake's Secret,
    and ``env`` (what ``ray start`` and every Ray process of the pod inherit)."""
    kr = settings.kuberay
    container: dict[str, Any] = {
        "name": name, "image": kr.image, "imagePullPolicy": kr.image_pull_policy,
        # Memory limit = request: Ray sizes its object store from the limit it sees.
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
    }
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    if kr.storage_secret:
        container["envFrom"] = [{"secretRef": {"name": kr.storage_secret}}]
    return container


def _pod(settings: Settings, container: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [container]}
    if settings.kuberay.service_account:
        spec["serviceAccountName"] = settings.kuberay.service_account
    return {"spec": spec}


def ray_cluster_spec(settings: Settings, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A RayCluster spec for KubeRay: one head, a worker group sized by the settings; ``env``
    goes into every Ray node's container (cluster-level Ray settings such as Serve's)."""
    kr = settings.kuberay
    head_params: dict[str, str] = {"dashboard-host": "0.0.0.0"}
    if kr.head_num_cpus is not None:
        head_params["num-cpus"] = str(kr.head_num_cpus)
    spec: dict[str, Any] = {
        "rayVersion": kr.ray_version,
        "headGroupSpec": {"rayStartParams": head_params,
                          "template": _pod(settings, _ray_container(settings, "ray-head", kr.head_cpu,
                                                                    kr.head_memory, env))},
    }
    if kr.worker_replicas:
        spec["workerGroupSpecs"] = [{
            "groupName": "workers", "replicas": kr.worker_replicas, "minReplicas": 0,
            "maxReplicas": max(kr.worker_replicas, 8), "rayStartParams": {},
            "template": _pod(settings, _ray_container(settings, "ray-worker", kr.worker_cpu,
                                                      kr.worker_memory, env)),
        }]
    return spec


def submitter_template(settings: Settings) -> dict[str, Any]:
    """The submitter pod: KubeRay fills in its command (submit, then follow the job's logs)."""
    kr = settings.kuberay
    container = _ray_container(settings, "ray-job-submitter", kr.submitter_cpu, kr.submitter_memory)
    container.pop("envFrom", None)  # it only talks to the dashboard
    pod = _pod(settings, container)
    pod["spec"]["restartPolicy"] = "Never"
    return pod


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
            "ttlSecondsAfterFinished": settings.kuberay.ttl_seconds_after_finished,
            "submissionMode": "K8sJobMode",
            "submitterPodTemplate": submitter_template(settings),
            # One attempt: a re-run is a new generation, decided by the operator.
            "backoffLimit": 0,
            "rayClusterSpec": ray_cluster_spec(settings),
            **({"activeDeadlineSeconds": settings.kuberay.job_deadline_seconds}
               if settings.kuberay.job_deadline_seconds else {}),
        },
    }
