"""Operator start-up: settings, engine, the shared context, kopf persistence in annotations."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from mlta.config import load_settings

from .. import metrics
from ..backends import make_engine
from ..kube import KubeCluster
from ..loop import Context


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    """Build the context every handler shares, unless whoever runs kopf put one in the memo
    (an embedding program or a test running the operator in-process with its own engine)."""
    ctx = memo.get("context")
    if not isinstance(ctx, Context):
        mlta_settings = load_settings()
        ctx = Context(settings=mlta_settings, engine=make_engine(mlta_settings), cluster=KubeCluster())
        memo.context = ctx
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
        "operator configured", extra={"backend": ctx.engine.name, "env": ctx.settings.env})
