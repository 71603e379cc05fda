"""Operator start-up and exit: settings, engine, the shared context, kopf persistence in
annotations, the memory housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import kopf

from mlta.config import load_settings

from .. import memory, metrics
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


#: How often the operator looks whether a burst of reconciles is over (memory.trim_after_bursts).
TRIM_PERIOD_SECONDS = 10.0


@kopf.on.startup()
async def start_housekeeping(memo: Any, **_: Any) -> None:
    """Give the memory of bursts of work back to the system (see :mod:`mlta_operator.memory`)."""
    memo.housekeeping = asyncio.create_task(memory.trim_after_bursts(TRIM_PERIOD_SECONDS),
                                            name="memory housekeeping")


@kopf.on.cleanup()
async def stop_housekeeping(memo: Any, **_: Any) -> None:
    task = memo.get("housekeeping")
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
