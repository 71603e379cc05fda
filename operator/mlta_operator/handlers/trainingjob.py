"""TrainingJob handlers: wait for the DataPipeline's Gold dataset, then train as a Ray job."""

from __future__ import annotations

from ..reconcile import training_inputs
from .common import register_job_kind

register_job_kind("TrainingJob", "trainingjobs", training_inputs)
