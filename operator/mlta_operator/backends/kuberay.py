"""The ``kuberay`` backend: RayJob / RayService objects owned by the CR (production path).

KubeRay's operator turns them into Ray clusters; we only create, read and delete them.
Owner references make Kubernetes garbage-collect them with the CR; finalizers still delete
them explicitly so a cluster without a garbage collector behaves the same.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from mlta.errors import BackendError
from mlta.specs.jobs import JobEnvelope, JobProgress, JobResult

from .. import kube
from ..builders.jobs import kube_name, rayjob_manifest
from ..builders.serve import rayservice_manifest
from .base import JobState, JobStatus, ServeState, ServeStatus

log = logging.getLogger(__name__)
GROUP, VERSION = "ray.io", "v1"
#: Container states that do not resolve by waiting (until someone fixes the cause).
STUCK_REASONS = {"CreateContainerConfigError", "ErrImageNeverPull", "ImagePullBackOff", "ErrImagePull",
                 "InvalidImageName", "CreateContainerError"}


class KubeRayBackend:
    name = "kuberay"

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def _api(self) -> Any:
        return kube.custom_objects()

    def _create(self, plural: str, namespace: str, manifest: dict[str, Any]) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self._api().create_namespaced_custom_object(GROUP, VERSION, namespace, plural, manifest)
        except ApiException as exc:
            if exc.status == 409:
                return
            raise BackendError(f"creating {manifest['kind']} {manifest['metadata']['name']} "
                               f"failed: {exc.status} {exc.body}") from exc

    def _get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            obj: dict[str, Any] = self._api().get_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, name)
            return obj
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise BackendError(f"reading {plural}/{name} failed: {exc.reason}") from exc

    def _delete(self, plural: str, namespace: str, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self._api().delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise BackendError(f"deleting {plural}/{name} failed: {exc.reason}") from exc

    # -- jobs -------------------------------------------------------------------------------
    def submit_job(self, envelope: JobEnvelope, body: dict[str, Any]) -> None:
        manifest = rayjob_manifest(envelope, body, self.settings, kube.OWNER_API_VERSION)
        self._create("rayjobs", envelope.resource.namespace, manifest)
        log.info("created RayJob %s", manifest["metadata"]["name"])

    def job_status(self, submission_id: str, namespace: str) -> JobStatus:
        name = kube_name(submission_id)
        obj = self._get("rayjobs", namespace, name)
        if obj is None:
            return JobStatus(JobState.MISSING, f"no RayJob for {submission_id}")
        status = obj.get("status") or {}
        raw = status.get("jobStatus") or "PENDING"
        try:
            state = JobState(raw)
        except ValueError:
            state = JobState.PENDING
        if status.get("jobDeploymentStatus") == "Failed" and not state.finished:
            state = JobState.FAILED
        message = status.get("message") or status.get("reason") or ""
        if not state.finished:
            # Only what needs a reader's attention: KubeRay's own running message is noise.
            message = (self._scheduling_problem(namespace, status)
                       or self._failed_attempts(namespace, name))
            return JobStatus(state, message, progress=self._progress(namespace, name))
        return JobStatus(state, message, self._result(namespace, name, status, submission_id))

    def _scheduling_problem(self, namespace: str, status: dict[str, Any]) -> str:
        """Why the RayJob's cluster cannot start: a pod no node can take, or a container that
        cannot be created (a missing Secret, an image that is not there)."""
        cluster = status.get("rayClusterName")
        if not cluster:
            return ""
        for pod in kube.list_pods(namespace, f"ray.io/cluster={cluster}"):
            for c in (pod.status.conditions or []) if pod.status else []:
                if c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable":
                    return (f"pod {pod.metadata.name} cannot be scheduled: {c.message} "
                            "(lower kuberay.head_cpu/head_memory or add nodes)")
            for cs in (pod.status.container_statuses or []) if pod.status else []:
                waiting = cs.state.waiting if cs.state else None
                if waiting and waiting.reason in STUCK_REASONS:
                    return f"pod {pod.metadata.name} cannot start: {waiting.reason}: {waiting.message}"
        return ""

    def _progress(self, namespace: str, name: str) -> JobProgress | None:
        """The last MLTA_PROGRESS line the job printed (its submitter pod follows its log)."""
        for pod in kube.list_pods(namespace, f"job-name={name}"):
            if pod.status and pod.status.phase == "Running":
                return JobProgress.from_logs(kube.pod_log(namespace, pod.metadata.name))
        return None

    def _failed_attempts(self, namespace: str, name: str) -> str:
        """A submitter pod that failed (its Ray head was lost, say): KubeRay retries it."""
        failed = [p.metadata.name for p in kube.list_pods(namespace, f"job-name={name}")
                  if p.status and p.status.phase == "Failed"]
        if not failed:
            return ""
        return (f"{len(failed)} submitter attempt(s) failed ({', '.join(failed)}); "
                "KubeRay retries the job on its cluster")

    def _result(self, namespace: str, name: str, status: dict[str, Any],
                submission_id: str) -> JobResult | None:
        """The job's MLTA_RESULT line: from the submitter pod's log (it follows the job's log
        to the end and outlives the Ray cluster), else from the cluster's dashboard."""
        for pod in kube.list_pods(namespace, f"job-name={name}"):
            result = JobResult.from_logs(kube.pod_log(namespace, pod.metadata.name))
            if result is not None:
                return result
        url = status.get("dashboardURL")
        if not url:
            return None
        if not url.startswith("http"):
            url = "http://" + url
        try:
            resp = httpx.get(f"{url}/api/jobs/{submission_id}/logs", timeout=10)
        except httpx.HTTPError as exc:
            log.warning("cannot read logs of %s: %s", submission_id, exc)
            return None
        return JobResult.from_logs(resp.json().get("logs", "")) if resp.status_code == 200 else None

    def stop_job(self, submission_id: str, namespace: str) -> None:
        self._delete("rayjobs", namespace, kube_name(submission_id))

    # -- serve ------------------------------------------------------------------------------
    def apply_serve_app(self, application: dict[str, Any], body: dict[str, Any]) -> None:
        manifest = rayservice_manifest(application, body, self.settings, kube.OWNER_API_VERSION)
        namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        existing = self._get("rayservices", namespace, name)
        if existing is None:
            self._create("rayservices", namespace, manifest)
        elif existing.get("spec", {}).get("serveConfigV2") != manifest["spec"]["serveConfigV2"]:
            self._api().patch_namespaced_custom_object(
                GROUP, VERSION, namespace, "rayservices", name,
                {"spec": {"serveConfigV2": manifest["spec"]["serveConfigV2"]}})

    def serve_status(self, app_name: str, namespace: str) -> ServeStatus:
        """The application's own status as KubeRay relays it, once KubeRay has acted on the
        RayService's current generation (a patched serveConfigV2 is not live before that);
        while no application is reported, why the cluster's pods cannot start, if they can't."""
        obj = self._get("rayservices", namespace, app_name[:47].rstrip("-"))
        if obj is None:
            return ServeStatus(ServeState.MISSING, f"no RayService {app_name}")
        status = obj.get("status") or {}
        generation = (obj.get("metadata") or {}).get("generation")
        if generation is not None and status.get("observedGeneration") != generation:
            return ServeStatus(ServeState.DEPLOYING,
                               f"waiting for KubeRay to act on RayService generation {generation}")
        active = status.get("activeServiceStatus") or {}
        app = (active.get("applicationStatuses") or {}).get(app_name)
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        if app is not None:
            try:
                state = ServeState(app.get("status", "DEPLOYING"))
            except ValueError:
                state = ServeState.DEPLOYING
            if state == ServeState.RUNNING and not (ready and ready.get("status") == "True"):
                return ServeStatus(ServeState.DEPLOYING, (ready or {}).get("message", "")
                                   or "the application runs; its serve Service has no endpoint yet")
            return ServeStatus(state, app.get("message") or "")
        for side in (status.get("pendingServiceStatus") or {}, active):
            problem = self._scheduling_problem(namespace, side)
            if problem:
                return ServeStatus(ServeState.DEPLOYING, problem)
        if ready is not None and ready.get("status") == "True":
            return ServeStatus(ServeState.RUNNING, ready.get("message", ""))
        return ServeStatus(ServeState.DEPLOYING, (ready or {}).get("message", "")
                           or "waiting for KubeRay to report the RayService")

    def delete_serve_app(self, app_name: str, namespace: str) -> None:
        self._delete("rayservices", namespace, app_name[:47].rstrip("-"))
