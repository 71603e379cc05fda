"""The ``ray`` backend: an existing Ray cluster's Job Submission and Serve REST APIs.

This is the embedded default and the path for users who already run Ray. Serve's REST API
is declarative over *all* applications (PUT replaces the whole config), so applying or
deleting one app reads the current config, changes one entry and writes it back under a lock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

from mlta.errors import BackendError
from mlta.specs.jobs import JobEnvelope, JobProgress, JobResult

from ..builders.jobs import ray_job_submission
from .base import FINISHED, JobState, JobStatus, ServeState, ServeStatus

log = logging.getLogger(__name__)
_SERVE_LOCK = threading.Lock()


class RayBackend:
    name = "ray"

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self.settings = settings
        self.url = settings.ray.dashboard_url.rstrip("/")
        self.client = client or httpx.Client(timeout=settings.ray.request_timeout_seconds)

    # -- HTTP -------------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.settings.ray.auth_headers(), **kwargs.pop("headers", {})}
        try:
            resp = self.client.request(method, self.url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"Ray dashboard at {self.url} unreachable: {exc}",
                               hint="is the Ray head running? check settings ray.dashboard_url") from exc
        if resp.status_code in (401, 403):
            sent = "a token that it rejected" if headers.get("Authorization") else "no token"
            raise BackendError(
                f"Ray dashboard at {self.url} refused {method} {path} "
                f"(HTTP {resp.status_code}, sent {sent}): token authentication is on",
                hint="set MLTA_RAY__AUTH_TOKEN or MLTA_RAY__AUTH_TOKEN_FILE to the cluster's "
                     "token (`ray get-auth-token` on the head)")
        return resp

    @staticmethod
    def _fail(resp: httpx.Response, what: str) -> BackendError:
        return BackendError(f"{what} failed: HTTP {resp.status_code} {resp.text[:500]}")

    # -- jobs -------------------------------------------------------------------------------
    def submit_job(self, envelope: JobEnvelope, body: dict[str, Any]) -> None:
        existing = self._call("GET", f"/api/jobs/{envelope.job_id}")
        if existing.status_code == 200:
            log.info("job %s already submitted", envelope.job_id)
            return
        resp = self._call("POST", "/api/jobs/", json=ray_job_submission(envelope, self.settings))
        if resp.status_code == 200:
            log.info("submitted Ray job %s", envelope.job_id)
            return
        if "already exists" in resp.text:
            return
        raise self._fail(resp, f"submitting Ray job {envelope.job_id}")

    def job_status(self, submission_id: str, namespace: str) -> JobStatus:
        resp = self._call("GET", f"/api/jobs/{submission_id}")
        if resp.status_code == 404:
            return JobStatus(JobState.MISSING, f"Ray has no job {submission_id}")
        if resp.status_code != 200:
            raise self._fail(resp, f"reading Ray job {submission_id}")
        info = resp.json()
        state = JobState(info.get("status", "PENDING"))
        result, progress = None, None
        if state in (JobState.RUNNING, *FINISHED):
            logs = self._call("GET", f"/api/jobs/{submission_id}/logs")
            if logs.status_code == 200:
                text = logs.json().get("logs", "")
                progress = JobProgress.from_logs(text)
                result = JobResult.from_logs(text) if state.finished else None
        url = self.settings.ray.dashboard_url.rstrip("/") + f"/#/jobs/{submission_id}"
        return JobStatus(state, info.get("message") or "", result, progress=progress, url=url)

    def stop_job(self, submission_id: str, namespace: str) -> None:
        resp = self._call("POST", f"/api/jobs/{submission_id}/stop")
        if resp.status_code not in (200, 404):
            raise self._fail(resp, f"stopping Ray job {submission_id}")

    # -- serve ------------------------------------------------------------------------------
    def _serve_apps(self) -> tuple[dict[str, Any], dict[str, Any]]:
        resp = self._call("GET", "/api/serve/applications/")
        if resp.status_code != 200:
            raise self._fail(resp, "reading Serve applications")
        details = resp.json()
        return details, details.get("applications") or {}

    def _put_config(self, details: dict[str, Any], apps: list[dict[str, Any]]) -> None:
        http = details.get("http_options") or {}
        config: dict[str, Any] = {"applications": apps}
        if http.get("host") and http.get("port"):
            config["http_options"] = {"host": http["host"], "port": http["port"]}
        else:
            serve = httpx.URL(self.settings.ray.serve_url)
            config["http_options"] = {"host": serve.host, "port": serve.port or 8000}
        resp = self._call("PUT", "/api/serve/applications/", json=config)
        if resp.status_code != 200:
            raise self._fail(resp, "applying Serve config")

    def apply_serve_app(self, application: dict[str, Any], body: dict[str, Any]) -> None:
        with _SERVE_LOCK:
            details, current = self._serve_apps()
            apps = [app["deployed_app_config"] for name, app in sorted(current.items())
                    if name != application["name"] and app.get("deployed_app_config")]
            apps.append(application)
            self._put_config(details, apps)
        log.info("applied Serve application %s", application["name"])

    def serve_status(self, app_name: str, namespace: str) -> ServeStatus:
        _, current = self._serve_apps()
        app = current.get(app_name)
        if app is None:
            return ServeStatus(ServeState.MISSING, f"Serve has no application {app_name}")
        try:
            state = ServeState(app.get("status", "DEPLOYING"))
        except ValueError:
            state = ServeState.DEPLOYING
        message = app.get("message") or ""
        if state != ServeState.RUNNING and not message:
            message = "; ".join(
                f"{name}: {d.get('status')} {d.get('message', '')}".strip()
                for name, d in (app.get("deployments") or {}).items()
            )
        return ServeStatus(state, message)

    def delete_serve_app(self, app_name: str, namespace: str) -> None:
        with _SERVE_LOCK:
            details, current = self._serve_apps()
            if app_name not in current:
                return
            apps = [app["deployed_app_config"] for name, app in sorted(current.items())
                    if name != app_name and app.get("deployed_app_config")]
            self._put_config(details, apps)
        log.info("deleted Serve application %s", app_name)
