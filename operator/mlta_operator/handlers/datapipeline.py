"""DataPipeline handlers: a Ray job with no inputs; see ``register_job_kind``."""

from __future__ import annotations

from typing import Any

from .common import register_job_kind


def no_inputs(body: dict[str, Any]) -> dict[str, str]:
    """A DataPipeline depends on nothing inside the cluster."""
    return {}


register_job_kind("DataPipeline", "datapipelines", no_inputs)
