"""DataPipeline handlers: translate events into ``reconcile_job`` calls."""

from __future__ import annotations

from typing import Any

import kopf

from ..reconcile import reconcile_job
from .common import GROUP, POLL_SECONDS, VERSION, handling, write_status

KIND, PLURAL = "DataPipeline", "datapipelines"


def _no_inputs(body: dict[str, Any]) -> dict[str, str]:
    return {}


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
@kopf.timer(GROUP, VERSION, PLURAL, interval=POLL_SECONDS, initial_delay=1.0)
def reconcile(body: kopf.Body, patch: kopf.Patch, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        write_status(reconcile_job(KIND, dict(body), memo.engine, memo.settings, _no_inputs), body, patch)


@kopf.on.delete(GROUP, VERSION, PLURAL)
def delete(body: kopf.Body, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        sid = (body.get("status") or {}).get("submissionId")
        if sid:
            memo.engine.stop_job(sid, body["metadata"]["namespace"])
