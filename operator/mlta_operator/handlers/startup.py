"""Operator start-up: settings, engine, kopf persistence in annotations."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from mlta.config import load_settings

from .. import metrics
from ..backends import make_engine


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    mlta_settings = load_settings()
    memo.settings = mlta_settings
    memo.engine = make_engine(mlta_settings)
    metrics.serve(mlta_settings.operator.metrics_port)
    # Our status schema is structural and typed: keep kopf's bookkeeping in annotations so
    # nothing of it is pruned from status.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kopf.mlta.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="kopf.mlta.io", key="last-handled-configuration")
    settings.posting.level = logging.INFO
    settings.execution.max_workers = 8
    settings.watching.server_timeout = 120
    logging.getLogger("mlta_operator").info(
        "operator configured", extra={"backend": memo.engine.name, "env": mlta_settings.env})
