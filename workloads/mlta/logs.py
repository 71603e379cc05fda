"""Structured JSON logging with a correlation id that follows a CR into its Ray job.

The operator sets the correlation id (a context variable) while it handles a CR and passes
it to the job as MLTA_CORRELATION_ID; the job's logs carry the same id, so one grep finds
a CR's whole story across processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mlta_correlation_id", default=None
)

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
#: kopf's per-object logger plumbing (its own JSON formatter reserves them too): the whole
#: OperatorSettings object on every handler line (2 KB of repr) and a posting flag.
_KOPF_PLUMBING = {"settings", "k8s_skip"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, correlation_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            payload["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key in _STANDARD or key in _KOPF_PLUMBING or key == "correlation_id" \
                    or key.startswith("_"):
                continue
            if key == "k8s_ref" and isinstance(value, dict):  # which object: kept as an object
                payload["object"] = {k: v for k, v in value.items() if v is not None}
            else:
                payload[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        base = super().format(record)
        return f"{base} [cid={cid}]" if cid else base


def configure_logging(level: str = "INFO", fmt: str = "json", stream: object = None) -> None:
    """Route all logging (ours, kopf's, Ray's) through one handler in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(
        JsonFormatter() if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    env_cid = os.environ.get("MLTA_CORRELATION_ID")
    if env_cid and correlation_id.get() is None:
        correlation_id.set(env_cid)


@contextlib.contextmanager
def correlated(cid: str | None) -> Iterator[None]:
    """Run a block with ``cid`` as the correlation id of every log record."""
    token = correlation_id.set(cid)
    try:
        yield
    finally:
        correlation_id.reset(token)
