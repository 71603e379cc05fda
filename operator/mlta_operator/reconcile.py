"""Level-based reconciliation: read what is, compare with what should be, act once.

Handlers call these functions on every event and every timer tick; each call converges from
whatever it finds (a restarted operator included) and returns the status it wants. The
handler writes only the keys that changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mlta.config import Settings
from mlta.errors import DependencyNotReady, MltaError
from mlta.specs import KINDS
from mlta.specs.modeldeployment import ModelDeploymentSpec

from . import conditions as cond
from . import kube, naming
from .backends.base import Engine, JobState, ServeState
from .builders import serve as serve_builders
from .builders.jobs import build_envelope

log = logging.getLogger(__name__)

#: Job outputs copied into status, per kind (keys are status field names).
OUTPUT_FIELDS = {
    "DataPipeline": ("datasetVersion", "datasetUri", "rows", "featureCount"),
    "TrainingJob": ("modelName", "modelVersion", "modelUri", "datasetVersion", "metrics"),
}


@dataclass
class Outcome:
    """The status a reconcile wants, and whether the spec itself is invalid (permanent)."""

    status: dict[str, Any]
    invalid_spec: bool = False


def spec_errors(kind: str, spec: dict[str, Any]) -> str | None:
    """None when the spec validates with the kind's model, else a readable message."""
    try:
        KINDS[kind][0].model_validate(spec)
    except ValidationError as exc:
        return "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
    return None


def _inputs_key(inputs: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:8]


def reconcile_job(
    kind: str,
    body: dict[str, Any],
    engine: Engine,
    settings: Settings,
    resolve_inputs: Callable[[dict[str, Any]], dict[str, str]],
) -> Outcome:
    """DataPipeline and TrainingJob: submit once per (generation, inputs), follow to the end."""
    meta = body["metadata"]
    namespace, name, uid = meta["namespace"], meta["name"], meta.get("uid", "")
    generation = int(meta.get("generation", 1))
    status: dict[str, Any] = dict(body.get("status") or {})

    problem = spec_errors(kind, body.get("spec") or {})
    if problem:
        return Outcome(cond.mark(status, generation, "failed", "InvalidSpec", problem), True)
    try:
        inputs = resolve_inputs(body)
    except DependencyNotReady as exc:
        return Outcome(cond.mark(status, generation, "waiting", exc.reason, str(exc)))

    # Same generation + same inputs -> same id: a restarted operator never runs a job twice.
    sid = naming.submission_id(kind, namespace, name, uid + _inputs_key(inputs), generation)
    cid = naming.correlation_id(uid, generation)
    conds = status.get("conditions") or []
    if status.get("submissionId") == sid and (
        cond.is_true(conds, cond.READY) or cond.is_true(conds, cond.FAILED)
    ):
        return Outcome(status)

    envelope = build_envelope(kind=kind, body=body, settings=settings, submission_id=sid,
                              correlation_id=cid, inputs=inputs)
    if status.get("submissionId") != sid:
        previous = status.get("submissionId")
        if previous:
            engine.stop_job(previous, namespace)
        status.update(submissionId=sid, correlationId=cid)
        status = cond.mark(status, generation, "progressing", "Submitting", f"submitting {sid}")
        kube.patch_status(kind, namespace, name, status)  # record the id before submitting
        engine.submit_job(envelope, body)
        return Outcome(cond.mark(status, generation, "progressing", "Submitted",
                                 f"{engine.name} job {sid} submitted"))

    job = engine.job_status(sid, namespace)
    if job.state == JobState.MISSING:
        engine.submit_job(envelope, body)  # id recorded but never submitted (crash): submit now
        return Outcome(cond.mark(status, generation, "progressing", "Submitted",
                                 f"{engine.name} job {sid} submitted"))
    if not job.state.finished:
        reason = "JobRunning" if job.state == JobState.RUNNING else "JobPending"
        message = f"job {sid} {job.state.value.lower()}"
        return Outcome(cond.mark(status, generation, "progressing", reason, message))
    result = job.result
    if job.state == JobState.SUCCEEDED and result is not None and result.ok:
        for key in OUTPUT_FIELDS[kind]:
            if key in result.outputs:
                status[key] = result.outputs[key]
        return Outcome(cond.mark(status, generation, "ready", "Succeeded", f"job {sid} succeeded"))
    reason = result.reason if result and not result.ok else "JobFailed"
    message = (result.message if result and result.message else job.message) or "job failed without a message"
    return Outcome(cond.mark(status, generation, "failed", reason, message))


def require_ready(kind: str, namespace: str, name: str) -> dict[str, Any]:
    """The referenced CR, if it exists and is Ready for its current generation."""
    obj = kube.get_resource(kind, namespace, name)
    if obj is None:
        raise DependencyNotReady(f"{kind} {namespace}/{name} does not exist",
                                 hint="create it, or fix the reference")
    status = obj.get("status") or {}
    conds = status.get("conditions") or []
    current = status.get("observedGeneration") == obj["metadata"].get("generation")
    if not (current and cond.is_true(conds, cond.READY)):
        phase = status.get("phase", "Pending")
        raise DependencyNotReady(f"waiting for {kind} {namespace}/{name} to be Ready (now {phase})")
    return obj


def training_inputs(body: dict[str, Any]) -> dict[str, str]:
    """A TrainingJob's input: the Gold dataset its DataPipeline produced."""
    meta = body["metadata"]
    pipeline = require_ready("DataPipeline", meta["namespace"], body["spec"]["dataPipeline"])
    st = pipeline["status"]
    if not st.get("datasetUri"):
        raise DependencyNotReady(f"DataPipeline {meta['namespace']}/{pipeline['metadata']['name']} "
                                 "is Ready but reports no dataset")
    return {"datasetUri": st["datasetUri"], "datasetVersion": str(st.get("datasetVersion", ""))}


def reconcile_deployment(body: dict[str, Any], engine: Engine, settings: Settings) -> Outcome:
    """ModelDeployment: resolve model versions, apply the Serve app when it changed, follow it."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    generation = int(meta.get("generation", 1))
    status: dict[str, Any] = dict(body.get("status") or {})
    problem = spec_errors("ModelDeployment", body.get("spec") or {})
    if problem:
        return Outcome(cond.mark(status, generation, "failed", "InvalidSpec", problem), True)
    spec = ModelDeploymentSpec.model_validate(body["spec"])
    resolved: dict[str, dict[str, str]] = {}
    try:
        for variant in spec.variants:
            job = require_ready("TrainingJob", namespace, variant.training_job)
            resolved[variant.training_job] = {
                "modelUri": job["status"]["modelUri"], "modelVersion": job["status"]["modelVersion"]}
    except (DependencyNotReady, KeyError) as exc:
        message = str(exc) if isinstance(exc, MltaError) else f"TrainingJob status lacks {exc}"
        return Outcome(cond.mark(status, generation, "waiting", "WaitingForDependency", message))

    cid = naming.correlation_id(meta.get("uid", ""), generation)
    args = serve_builders.serve_args(spec, namespace, name, resolved, cid)
    app = serve_builders.serve_application(spec, namespace, name, args)
    digest = serve_builders.config_hash(app)
    current = engine.serve_status(args.app_name, namespace)
    if status.get("configHash") != digest or current.state == ServeState.MISSING:
        engine.apply_serve_app(app, body)
        status.update(configHash=digest, appName=args.app_name, correlationId=cid)
        return Outcome(cond.mark(status, generation, "progressing", "Deploying",
                                 f"applying Serve application {args.app_name}"))
    status.update(
        endpoint=serve_builders.endpoint(settings, app, namespace),
        split=serve_builders.split_summary(spec),
        variants=[{"name": v.name, "modelVersion": v.model_version, "modelUri": v.model_uri,
                   "weight": v.weight} for v in args.variants],
    )
    if current.state == ServeState.RUNNING:
        return Outcome(cond.mark(status, generation, "ready", "Serving",
                                 f"serving {status['split']} at {status['endpoint']}"))
    if current.state == ServeState.FAILED:
        return Outcome(cond.mark(status, generation, "failed", "DeployFailed", current.message))
    if current.state == ServeState.UNHEALTHY:
        marked = cond.mark(status, generation, "degraded", "Unhealthy", current.message)
        marked["conditions"] = cond.set_condition(marked["conditions"], cond.READY, False,
                                                  "Unhealthy", current.message, generation)
        marked["phase"] = cond.derive_phase(marked["conditions"])
        return Outcome(marked)
    return Outcome(cond.mark(status, generation, "progressing", "Deploying",
                             current.message or "Serve application deploying"))
