"""What every handler shares: engine and settings from memo, status writes, error mapping."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import kopf

from mlta.errors import MltaError
from mlta.logs import correlated
from mlta.specs import API_GROUP, API_VERSION

from .. import conditions as cond
from .. import metrics, naming
from ..reconcile import Outcome, reconcile_job

GROUP, VERSION = API_GROUP, API_VERSION
log = logging.getLogger("mlta_operator")


def _poll_interval() -> float:
    """Timer interval from settings (read when the handlers are registered, at start-up)."""
    from mlta.config import load_settings
    from mlta.errors import ConfigError

    try:
        return load_settings().operator.poll_interval_seconds
    except ConfigError:
        return 3.0  # __main__ already refused to start on bad settings; this is import in tests


#: How often running jobs and deployments are polled (level-based reconciliation).
POLL_SECONDS = _poll_interval()


def write_status(outcome: Outcome, body: Any, patch: kopf.Patch) -> None:
    """Patch only status keys that changed; an invalid spec stops retries for this generation."""
    meta = body["metadata"]
    metrics.record_phase(body["kind"], meta["namespace"], meta["name"],
                         outcome.status.get("phase", "Pending"))
    old = dict(body.get("status") or {})
    for key, value in cond.status_patch(old, outcome.status).items():
        patch.status[key] = value
    for kind, reason, message in outcome.events:
        kopf.event(body, type=kind, reason=reason, message=message)
    if outcome.invalid_spec:
        raise kopf.PermanentError(outcome.status.get("message", "invalid spec"))


@contextlib.contextmanager
def handling(memo: Any, body: Any) -> Iterator[None]:
    """Correlate logs with the CR's generation; map mlta errors onto kopf's retry semantics."""
    meta = body["metadata"]
    kind = body["kind"]
    cid = naming.correlation_id(meta.get("uid", ""), int(meta.get("generation", 1)))
    started = time.perf_counter()
    result = "error"
    with correlated(cid):
        try:
            yield
            result = "ok"
        except kopf.PermanentError:
            raise
        except MltaError as exc:
            if exc.retryable:
                result = "retry"
                raise kopf.TemporaryError(str(exc), delay=memo.settings.operator.retry_delay_seconds) from exc
            raise kopf.PermanentError(str(exc)) from exc
        finally:
            metrics.RECONCILES.labels(kind, result).inc()
            metrics.RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def register_job_kind(
    kind: str, plural: str, resolve_inputs: Callable[[dict[str, Any]], dict[str, str]]
) -> None:
    """Register the handlers of a kind that runs as a Ray job (DataPipeline, TrainingJob).

    Creation, spec changes, operator restarts and a periodic timer all call the same
    level-based reconcile; deletion stops the job the status names.
    """

    @kopf.on.resume(GROUP, VERSION, plural, id="reconcile")
    @kopf.on.create(GROUP, VERSION, plural, id="reconcile")
    @kopf.on.update(GROUP, VERSION, plural, field="spec", id="reconcile")
    @kopf.timer(GROUP, VERSION, plural, interval=POLL_SECONDS, initial_delay=1.0, id="reconcile")
    def reconcile(body: kopf.Body, patch: kopf.Patch, memo: Any, **_: Any) -> None:
        with handling(memo, body):
            outcome = reconcile_job(kind, dict(body), memo.engine, memo.settings, resolve_inputs)
            write_status(outcome, body, patch)

    @kopf.on.delete(GROUP, VERSION, plural, id="delete")
    def delete(body: kopf.Body, memo: Any, **_: Any) -> None:
        with handling(memo, body):
            sid = (body.get("status") or {}).get("submissionId")
            if sid:
                memo.engine.stop_job(sid, body["metadata"]["namespace"])
            metrics.forget(kind, body["metadata"]["namespace"], body["metadata"]["name"])
