"""ModelDeployment handlers: wait for the TrainingJobs, then serve through ``reconcile_deployment``."""

from __future__ import annotations

from typing import Any

from ..loop import Context
from ..naming import serve_app_name
from ..reconcile import Outcome, reconcile_deployment
from .common import register_kind

KIND = "ModelDeployment"


def reconcile(body: dict[str, Any], ctx: Context) -> Outcome:
    return reconcile_deployment(body, ctx.engine, ctx.settings, ctx.cluster)


def delete_app(body: dict[str, Any], ctx: Context) -> None:
    """Finalizer: delete the CR's Serve application (unknown names are fine)."""
    meta = body["metadata"]
    ctx.engine.delete_serve_app(serve_app_name(meta["namespace"], meta["name"]), meta["namespace"])


register_kind(KIND, "modeldeployments", reconcile, delete_app)
