"""The envelope a Ray job receives and the result it reports back.

The operator builds a :class:`JobEnvelope` (the CR's spec plus where to read and write),
passes it to the job as base64 JSON in ``MLTA_JOB_ENVELOPE``; the job validates the spec
with the same model the operator used, does its work and prints one line
``MLTA_RESULT {json}`` (a :class:`JobResult`) which the operator reads from the job's logs.
Logs are the one channel both engine backends (Ray job submission and KubeRay) expose.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .base import SpecModel

RESULT_PREFIX = "MLTA_RESULT "
PROGRESS_PREFIX = "MLTA_PROGRESS "
ENVELOPE_ENV = "MLTA_JOB_ENVELOPE"


class ResourceRef(SpecModel):
    """The CR a job works for."""

    kind: str
    namespace: str
    name: str
    uid: str = ""
    generation: int = 0


class JobEnvelope(SpecModel):
    """Everything a job needs: the spec (validated by the job) and its context."""

    resource: ResourceRef
    spec: dict[str, Any] = Field(description="The CR's spec exactly as the API server stored it.")
    storage_uri: str = Field(description="Lake and registry root (file:// or s3://).")
    correlation_id: str
    submission_id: str
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Resolved dependencies, e.g. the Gold dataset URI."
    )
    attempt: int = Field(
        default=0, ge=0,
        description="Resubmissions of this submission after its driver died without a result.")

    @property
    def job_id(self) -> str:
        """The engine's id of this attempt. The submission id stays the same across attempts
        (the registry claim and the search state hang on it), but an engine never reuses the
        id of a finished job, so a resubmission gets ``<submission>-r<n>``."""
        return job_id(self.submission_id, self.attempt)

    def encode(self) -> str:
        return base64.b64encode(json.dumps(self.to_wire()).encode()).decode()

    @classmethod
    def decode(cls, encoded: str) -> JobEnvelope:
        return cls.model_validate_json(base64.b64decode(encoded.encode()))


def job_id(submission_id: str, attempt: int) -> str:
    return submission_id if attempt == 0 else f"{submission_id}-r{attempt}"


def _last_line(logs: str, prefix: str) -> str | None:
    for line in reversed(logs.splitlines()):
        idx = line.find(prefix)
        if idx >= 0:
            return line[idx + len(prefix):]
    return None


class JobProgress(BaseModel):
    """What a running job last said about its progress (``MLTA_PROGRESS {json}`` lines)."""

    model_config = ConfigDict(extra="ignore")

    trials_done: int | None = Field(default=None, alias="trialsDone")
    trials_total: int | None = Field(default=None, alias="trialsTotal")
    best_score: float | None = Field(default=None, alias="bestScore")
    best_learner: str | None = Field(default=None, alias="bestLearner")

    @classmethod
    def from_logs(cls, logs: str) -> JobProgress | None:
        """The last progress line in a job's logs, or None (no line, or an unreadable one)."""
        line = _last_line(logs, PROGRESS_PREFIX)
        if line is None:
            return None
        try:
            return cls.model_validate_json(line)
        except ValueError:
            return None

    def line(self) -> str:
        return PROGRESS_PREFIX + self.model_dump_json(by_alias=True)


class JobResult(BaseModel):
    """What a job reports: success or a typed failure, and its outputs."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    reason: str = "Succeeded"
    message: str = ""
    outputs: dict[str, Any] = Field(default_factory=dict)

    def log_line(self) -> str:
        return RESULT_PREFIX + self.model_dump_json()

    @classmethod
    def from_logs(cls, logs: str) -> JobResult | None:
        """The last result line in a job's logs, or None when the job printed none."""
        line = _last_line(logs, RESULT_PREFIX)
        return None if line is None else cls.model_validate_json(line)
