"""An in-memory engine (the six calls of ``mlta_operator.backends.base.Engine``) for the core's tests.

It behaves as the Ray backend promises: submitting an id that exists is a no-op, an unknown
id is ``MISSING``, stopping or deleting something unknown is fine, a finished job reports
the result its workload printed. Tests move jobs and Serve apps through their states with
:meth:`FakeEngine.set_job` / :meth:`FakeEngine.set_app` and inject faults per call with
:meth:`FakeEngine.fail_next`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from mlta.specs.jobs import JobEnvelope, JobProgress, JobResult
from mlta_operator.backends.base import JobState, JobStatus, ServeState, ServeStatus


@dataclass
class FakeJob:
    envelope: JobEnvelope
    state: JobState = JobState.PENDING
    message: str = ""
    result: JobResult | None = None
    progress: JobProgress | None = None


@dataclass
class FakeEngine:
    name: str = "fake"
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_states: dict[str, ServeStatus] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)   # (operation, id or app name)
    _faults: dict[str, list[Exception]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the Engine protocol ----------------------------------------------------------------
    def submit_job(self, envelope: JobEnvelope, body: dict[str, Any]) -> None:
        with self._lock:
            self._record("submit_job", envelope.job_id)
            self.jobs.setdefault(envelope.job_id, FakeJob(envelope))

    def job_status(self, submission_id: str, namespace: str) -> JobStatus:
        with self._lock:
            self._record("job_status", submission_id)
            job = self.jobs.get(submission_id)
            if job is None:
                return JobStatus(JobState.MISSING, f"no job {submission_id}")
            result = job.result if job.state.finished else None
            return JobStatus(job.state, job.message, result, progress=job.progress,
                             url=f"http://fake-dashboard/#/jobs/{submission_id}")

    def stop_job(self, submission_id: str, namespace: str) -> None:
        with self._lock:
            self._record("stop_job", submission_id)
            job = self.jobs.get(submission_id)
            if job is not None and not job.state.finished:
                job.state = JobState.STOPPED

    def apply_serve_app(self, application: dict[str, Any], body: dict[str, Any]) -> None:
        with self._lock:
            self._record("apply_serve_app", application["name"])
            self.apps[application["name"]] = application
            self.app_states.setdefault(application["name"], ServeStatus(ServeState.DEPLOYING, "deploying"))

    def serve_status(self, app_name: str, namespace: str) -> ServeStatus:
        with self._lock:
            self._record("serve_status", app_name)
            if app_name not in self.apps:
                return ServeStatus(ServeState.MISSING, f"no application {app_name}")
            return self.app_states[app_name]

    def delete_serve_app(self, app_name: str, namespace: str) -> None:
        with self._lock:
            self._record("delete_serve_app", app_name)
            self.apps.pop(app_name, None)
            self.app_states.pop(app_name, None)

    # -- the test's side --------------------------------------------------------------------
    def set_job(self, submission_id: str, state: JobState, *, outputs: dict[str, Any] | None = None,
                reason: str | None = None, message: str = "", report: bool = True,
                progress: JobProgress | None = None) -> None:
        """Move a job on; a finished job reports ok (no ``reason``) or a failure (``reason``);
        ``report=False`` is a job that died without reporting anything."""
        with self._lock:
            job = self.jobs[submission_id]
            job.state, job.message = state, message
            job.progress = progress
            if state.finished and report:
                job.result = JobResult(ok=reason is None, reason=reason or "Succeeded",
                                       message=message, outputs=outputs or {})

    def set_app(self, app_name: str, state: ServeState, message: str = "") -> None:
        with self._lock:
            self.app_states[app_name] = ServeStatus(state, message)

    def fail_next(self, operation: str, exc: Exception, times: int = 1) -> None:
        self._faults.setdefault(operation, []).extend([exc] * times)

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.calls if op == operation)

    def only_job(self) -> str:
        """The one submission id so far (fails loudly when there are none or several)."""
        ids = list(self.jobs)
        assert len(ids) == 1, f"expected exactly one job, have {ids}"
        return ids[0]

    def _record(self, operation: str, target: str) -> None:
        self.calls.append((operation, target))
        pending = self._faults.get(operation)
        if pending:
            raise pending.pop(0)
