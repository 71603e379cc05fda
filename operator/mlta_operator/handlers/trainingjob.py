"""TrainingJob handlers: wait for the DataPipeline, then train through ``reconcile_job``."""

from __future__ import annotations

from typing import Any

import kopf

from ..reconcile import reconcile_job, training_inputs
from .common import GROUP, POLL_SECONDS, VERSION, handling, write_status

KIND, PLURAL = "TrainingJob", "trainingjobs"


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.timer(GROUP, VERSION, PLURAL, interval=POLL_SECONDS, initial_delay=1.0)
def reconcile(body: kopf.Body, patch: kopf.Patch, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        outcome = reconcile_job(KIND, dict(body), memo.engine, memo.settings, training_inputs)
        write_status(outcome, body, patch)


@kopf.on.delete(GROUP, VERSION, PLURAL)
def delete(body: kopf.Body, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        sid = (body.get("status") or {}).get("submissionId")
        if sid:
            memo.engine.stop_job(sid, body["metadata"]["namespace"])
