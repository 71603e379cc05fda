"""The engine interface: the six things the operator asks of Ray, whoever runs it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from mlta.specs.jobs import JobEnvelope, JobProgress, JobResult


class JobState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    MISSING = "MISSING"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.STOPPED)


#: The states in which a job ran to its end.
FINISHED = (JobState.SUCCEEDED, JobState.FAILED, JobState.STOPPED)


@dataclass(frozen=True)
class JobStatus:
    """A job's state; ``progress`` is what it last printed about itself, ``url`` its page."""

    state: JobState
    message: str = ""
    result: JobResult | None = None
    progress: JobProgress | None = None
    url: str | None = None


class ServeState(str, Enum):
    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    UNHEALTHY = "UNHEALTHY"
    FAILED = "DEPLOY_FAILED"
    DELETING = "DELETING"
    MISSING = "MISSING"


@dataclass(frozen=True)
class ServeStatus:
    state: ServeState
    message: str = ""


class Engine(Protocol):
    """Both backends implement this; handlers never know which one runs."""

    name: str

    def submit_job(self, envelope: JobEnvelope, body: dict[str, Any]) -> None:
        """Start the job; submitting an id that already exists is a no-op."""

    def job_status(self, submission_id: str, namespace: str) -> JobStatus:
        """State, message, progress and (when finished) the job's reported result.

        ``submission_id`` here is the engine's job id (``JobEnvelope.job_id``).
        """

    def stop_job(self, submission_id: str, namespace: str) -> None:
        """Stop a job if it runs; unknown ids are fine."""

    def apply_serve_app(self, application: dict[str, Any], body: dict[str, Any]) -> None:
        """Create or update one Serve application, leaving the others alone."""

    def serve_status(self, app_name: str, namespace: str) -> ServeStatus:
        """Status of one Serve application."""

    def delete_serve_app(self, app_name: str, namespace: str) -> None:
        """Remove one Serve application; unknown names are fine."""
