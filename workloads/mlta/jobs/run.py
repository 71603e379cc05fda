"""``python -m mlta.jobs.run``: the one entrypoint every mlta Ray job runs.

Reads the :class:`~mlta.specs.JobEnvelope` from ``MLTA_JOB_ENVELOPE``, logs as JSON with the
CR's correlation id, dispatches on the CR's kind, prints the ``MLTA_RESULT`` line the
operator reads back, and exits non-zero on failure so the engine marks the job failed too.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from ..errors import MltaError, SpecError
from ..logs import configure_logging, correlated
from ..specs.jobs import ENVELOPE_ENV, JobEnvelope, JobResult

#: Kind -> module whose ``run(envelope) -> JobResult`` does the work.
RUNNERS = {
    "DataPipeline": "mlta.jobs.pipeline",
    "TrainingJob": "mlta.jobs.training",
}

log = logging.getLogger("mlta.jobs")


def execute(envelope: JobEnvelope) -> JobResult:
    """Run the job for ``envelope``; expected failures become a failed JobResult."""
    module_name = RUNNERS.get(envelope.resource.kind)
    if module_name is None:
        return JobResult(ok=False, reason=SpecError.reason,
                         message=f"no job runs for kind {envelope.resource.kind!r}")
    runner = importlib.import_module(module_name)
    try:
        result: JobResult = runner.run(envelope)
    except MltaError as exc:
        log.error("job failed: %s", exc)
        result = JobResult(ok=False, reason=exc.reason, message=str(exc))
    return result


def _connect_ray_if_job() -> None:
    """Inside a Ray job (RAY_ADDRESS set by the job supervisor) use the cluster for tasks."""
    if os.environ.get("RAY_ADDRESS"):
        import ray

        ray.init(address="auto", logging_level=logging.WARNING, log_to_driver=True)


def main() -> int:
    configure_logging(os.environ.get("MLTA_LOG__LEVEL", "INFO"), "json", stream=sys.stdout)
    encoded = os.environ.get(ENVELOPE_ENV)
    if not encoded:
        result = JobResult(ok=False, reason=SpecError.reason,
                           message=f"{ENVELOPE_ENV} is not set; this entrypoint is run by the operator")
        print(result.log_line(), flush=True)
        return 2
    try:
        envelope = JobEnvelope.decode(encoded)
    except ValueError as exc:
        result = JobResult(ok=False, reason=SpecError.reason, message=f"bad job envelope: {exc}")
        print(result.log_line(), flush=True)
        return 2
    with correlated(envelope.correlation_id):
        ref = envelope.resource
        log.info("job started", extra={"kind": ref.kind, "resource": f"{ref.namespace}/{ref.name}",
                                       "submission_id": envelope.submission_id})
        _connect_ray_if_job()
        result = execute(envelope)
        log.info("job finished", extra={"ok": result.ok, "reason": result.reason})
    print(result.log_line(), flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
