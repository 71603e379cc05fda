"""TrainingJob handlers: wait for the DataPipeline's Gold dataset, then train as a Ray job."""

from __future__ import annotations

from typing import Any

from mlta.specs.jobs import job_id

from ..loop import Context
from ..reconcile import Outcome, reconcile_job, training_inputs
from .common import register_kind

KIND = "TrainingJob"


def reconcile(body: dict[str, Any], ctx: Context) -> Outcome:
    return reconcile_job(KIND, body, ctx.engine, ctx.settings, training_inputs, ctx.cluster)


def stop_job(body: dict[str, Any], ctx: Context) -> None:
    """Finalizer of the job kinds: stop the Ray job the status names (if any)."""
    status = body.get("status") or {}
    sid = status.get("submissionId")
    if sid:
        ctx.engine.stop_job(job_id(sid, int(status.get("attempt") or 0)),
                            body["metadata"]["namespace"])


register_kind(KIND, "trainingjobs", reconcile, stop_job)
