"""ModelDeployment handlers: wait for the TrainingJobs, then serve through ``reconcile_deployment``."""

from __future__ import annotations

from typing import Any

import kopf

from .. import metrics
from ..naming import serve_app_name
from ..reconcile import reconcile_deployment
from .common import GROUP, POLL_SECONDS, VERSION, handling, write_status

PLURAL = "modeldeployments"


@kopf.on.resume(GROUP, VERSION, PLURAL, id="reconcile")
@kopf.on.create(GROUP, VERSION, PLURAL, id="reconcile")
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec", id="reconcile")
@kopf.timer(GROUP, VERSION, PLURAL, interval=POLL_SECONDS, initial_delay=1.0, id="reconcile")
def reconcile(body: kopf.Body, patch: kopf.Patch, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        write_status(reconcile_deployment(dict(body), memo.engine, memo.settings), body, patch)


@kopf.on.delete(GROUP, VERSION, PLURAL, id="delete")
def delete(body: kopf.Body, memo: Any, **_: Any) -> None:
    with handling(memo, body):
        meta = body["metadata"]
        memo.engine.delete_serve_app(serve_app_name(meta["namespace"], meta["name"]), meta["namespace"])
        metrics.forget("ModelDeployment", meta["namespace"], meta["name"])
