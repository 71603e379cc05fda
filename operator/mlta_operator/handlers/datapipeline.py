"""DataPipeline handlers: a Ray job with no inputs; see ``register_kind``."""

from __future__ import annotations

from typing import Any

from ..loop import Context
from ..reconcile import Outcome, no_inputs, reconcile_job
from .common import register_kind
from .trainingjob import stop_job

KIND = "DataPipeline"


def reconcile(body: dict[str, Any], ctx: Context) -> Outcome:
    return reconcile_job(KIND, body, ctx.engine, ctx.settings, no_inputs, ctx.cluster)


register_kind(KIND, "datapipelines", reconcile, stop_job)
