"""Level-based reconciliation: read what is, compare with what should be, act once.

The operator's loop for each CR (``loop.follow``) calls these functions whenever something
it depends on may have changed; each call converges from whatever it finds (a restarted
operator included) and returns the status it wants plus how to follow up (:class:`Follow`).
The loop writes only the keys that changed. Kubernetes is reached through a
:class:`~mlta_operator.kube.Cluster` and Ray through an :class:`Engine`, so the whole state
machine runs against fakes in unit tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from mlta.config import Settings
from mlta.errors import DependencyNotReady, MltaError, ServingError
from mlta.specs import KINDS
from mlta.specs.jobs import JobProgress, job_id
from mlta.specs.modeldeployment import ModelDeploymentSpec

from . import conditions as cond
from . import naming
from . import serving_status as live
from .backends.base import Engine, JobState, ServeState
from .builders import serve as serve_builders
from .builders.jobs import build_envelope
from .conditions import Reason, ReportedReason, State
from .kube import Cluster, Ref

log = logging.getLogger(__name__)

#: Job outputs copied into status, per kind (keys are status field names).
OUTPUT_FIELDS = {
    "DataPipeline": ("datasetVersion", "datasetUri", "rows", "featureCount"),
    "TrainingJob": ("modelName", "modelVersion", "modelUri", "datasetVersion", "metrics",
                    "trials", "trialsDone", "trialsTotal", "bestScore", "bestLearner", "gate",
                    "gateReasons"),
}


class Follow(StrEnum):
    """When to reconcile again, besides a change of the CR itself or of a dependency."""

    EVENTS = "events"  # nothing moves on its own: wait for a change (waiting, finished, invalid)
    POLL = "poll"      # work in flight (job, deployment): poll, backing off while nothing changes
    WATCH = "watch"    # serving: check health now and then, at the longest poll interval


@dataclass
class Outcome:
    """The status a reconcile wants, whether the spec is invalid, how to follow up, and
    Kubernetes events to post (reason, message), e.g. a rollout decision."""

    status: dict[str, Any]
    invalid_spec: bool = False
    follow: Follow = Follow.EVENTS
    events: list[tuple[str, str]] = field(default_factory=list)


#: Resolves a job's inputs from the resources it depends on (raises DependencyNotReady).
InputResolver = Callable[[dict[str, Any], Cluster], dict[str, str]]


def spec_errors(kind: str, spec: dict[str, Any]) -> str | None:
    """None when the spec validates with the kind's model, else a readable message."""
    try:
        KINDS[kind][0].model_validate(spec)
    except ValidationError as exc:
        return "; ".join(
            f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
    return None


def dependencies(body: dict[str, Any]) -> tuple[Ref, ...]:
    """The resources a CR reads, from its spec as stored (valid or not): its wake-up sources."""
    kind, namespace = body["kind"], body["metadata"]["namespace"]
    spec = body.get("spec") or {}
    if kind == "TrainingJob" and isinstance(spec.get("dataPipeline"), str):
        return (Ref("DataPipeline", namespace, spec["dataPipeline"]),)
    if kind == "ModelDeployment":
        names = [v.get("trainingJob") for v in spec.get("variants") or [] if isinstance(v, dict)]
        return tuple(Ref("TrainingJob", namespace, n) for n in dict.fromkeys(names) if isinstance(n, str))
    return ()


def _inputs_key(inputs: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:8]


def reconcile_job(
    kind: str,
    body: dict[str, Any],
    engine: Engine,
    settings: Settings,
    resolve_inputs: InputResolver,
    cluster: Cluster,
) -> Outcome:
    """DataPipeline and TrainingJob: submit once per (generation, inputs), follow to the end."""
    meta = body["metadata"]
    namespace, name, uid = meta["namespace"], meta["name"], meta.get("uid", "")
    generation = int(meta.get("generation", 1))
    status: dict[str, Any] = dict(body.get("status") or {})

    problem = spec_errors(kind, body.get("spec") or {})
    if problem:
        return Outcome(cond.mark(status, generation, State.FAILED, Reason.INVALID_SPEC, problem), True)
    try:
        inputs = resolve_inputs(body, cluster)
    except DependencyNotReady as exc:
        return Outcome(cond.mark(status, generation, State.WAITING, Reason.WAITING_FOR_DEPENDENCY,
                                 str(exc)))

    # Same generation + same inputs -> same id: a restarted operator never runs a job twice.
    sid = naming.submission_id(kind, namespace, name, uid + _inputs_key(inputs), generation)
    cid = naming.correlation_id(uid, generation)
    conds = status.get("conditions") or []
    if status.get("submissionId") == sid and (
        cond.is_true(conds, cond.READY) or cond.is_true(conds, cond.FAILED)
    ):
        return Outcome(status)

    attempt = int(status.get("attempt") or 0) if status.get("submissionId") == sid else 0
    envelope = build_envelope(kind=kind, body=body, settings=settings, submission_id=sid,
                              correlation_id=cid, inputs=inputs, attempt=attempt)
    if status.get("submissionId") != sid:
        previous = status.get("submissionId")
        if previous:
            engine.stop_job(job_id(previous, int(status.get("attempt") or 0)), namespace)
        status.update(submissionId=sid, correlationId=cid, attempt=0)
        status = cond.mark(status, generation, State.PROGRESSING, Reason.SUBMITTING, f"submitting {sid}")
        cluster.patch_status(kind, namespace, name, status)  # record the id before submitting
        engine.submit_job(envelope, body)
        return Outcome(cond.mark(status, generation, State.PROGRESSING, Reason.SUBMITTED,
                                 f"{engine.name} job {envelope.job_id} submitted"), follow=Follow.POLL)

    job = engine.job_status(envelope.job_id, namespace)
    if job.url:
        status["dashboardUrl"] = job.url
    if job.state == JobState.MISSING:
        engine.submit_job(envelope, body)  # id recorded but never submitted (crash): submit now
        return Outcome(cond.mark(status, generation, State.PROGRESSING, Reason.SUBMITTED,
                                 f"{engine.name} job {envelope.job_id} submitted"), follow=Follow.POLL)
    if not job.state.finished:
        running = Reason.JOB_RUNNING if job.state == JobState.RUNNING else Reason.JOB_PENDING
        message = f"job {envelope.job_id} {job.state.value.lower()}"
        if job.message:  # what the engine says is in the way (an unschedulable pod, a retry)
            message += f": {job.message}"
        if job.progress is not None and kind == "TrainingJob":
            status.update(progress_fields(job.progress))
            message += progress_message(job.progress)
        return Outcome(cond.mark(status, generation, State.PROGRESSING, running, message),
                       follow=Follow.POLL)
    result = job.result
    if result is None and job.state == JobState.FAILED and attempt < settings.operator.job_retries:
        # The driver died without a word (killed, evicted, out of memory): run it again under
        # the same submission id; a search resumes from the state it saved in the lake.
        retry = build_envelope(kind=kind, body=body, settings=settings, submission_id=sid,
                               correlation_id=cid, inputs=inputs, attempt=attempt + 1)
        status["attempt"] = attempt + 1
        note = (f"job {envelope.job_id} died without a result ({job.message or 'no message'}); "
                f"resubmitted as {retry.job_id} (attempt {attempt + 1} of "
                f"{settings.operator.job_retries})")
        status = cond.mark(status, generation, State.PROGRESSING, Reason.RESUBMITTED, note)
        cluster.patch_status(kind, namespace, name, status)  # record the attempt first
        engine.submit_job(retry, body)
        return Outcome(status, follow=Follow.POLL)
    if job.state == JobState.SUCCEEDED and result is not None and result.ok:
        for key in OUTPUT_FIELDS[kind]:
            if key in result.outputs:
                status[key] = result.outputs[key]
        return Outcome(cond.mark(status, generation, State.READY, Reason.SUCCEEDED,
                                 f"job {sid} succeeded"))
    reason: Reason | ReportedReason = (
        ReportedReason(result.reason) if result and not result.ok else Reason.JOB_FAILED)
    message = (result.message if result and result.message else job.message) or "job failed without a message"
    return Outcome(cond.mark(status, generation, State.FAILED, reason, message))


def progress_fields(progress: JobProgress) -> dict[str, Any]:
    """A running TrainingJob's status fields from its last progress line."""
    out: dict[str, Any] = {}
    if progress.trials_done is not None and progress.trials_total is not None:
        out.update(trialsDone=progress.trials_done, trialsTotal=progress.trials_total,
                   trials=f"{progress.trials_done}/{progress.trials_total}")
    if progress.best_score is not None:
        out["bestScore"] = progress.best_score
    if progress.best_learner is not None:
        out["bestLearner"] = progress.best_learner
    return out


def progress_message(progress: JobProgress) -> str:
    parts = []
    if progress.trials_done is not None and progress.trials_total is not None:
        parts.append(f"{progress.trials_done}/{progress.trials_total} trials")
    if progress.best_score is not None:
        parts.append(f"best score {progress.best_score:.4g}"
                     + (f" ({progress.best_learner})" if progress.best_learner else ""))
    return (": " + ", ".join(parts)) if parts else ""


def require_ready(kind: str, namespace: str, name: str, cluster: Cluster) -> dict[str, Any]:
    """The referenced CR, if it exists and is Ready for its current generation."""
    obj = cluster.get_resource(kind, namespace, name)
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


def no_inputs(body: dict[str, Any], cluster: Cluster) -> dict[str, str]:
    """A DataPipeline depends on nothing inside the cluster."""
    return {}


def training_inputs(body: dict[str, Any], cluster: Cluster) -> dict[str, str]:
    """A TrainingJob's input: the Gold dataset its DataPipeline produced."""
    meta = body["metadata"]
    pipeline = require_ready("DataPipeline", meta["namespace"], body["spec"]["dataPipeline"], cluster)
    st = pipeline["status"]
    if not st.get("datasetUri"):
        raise DependencyNotReady(f"DataPipeline {meta['namespace']}/{pipeline['metadata']['name']} "
                                 "is Ready but reports no dataset")
    return {"datasetUri": st["datasetUri"], "datasetVersion": str(st.get("datasetVersion", ""))}


def reconcile_deployment(
    body: dict[str, Any], engine: Engine, settings: Settings, cluster: Cluster
) -> Outcome:
    """ModelDeployment: resolve model versions, apply the Serve app when it changed, follow it."""
    meta = body["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    generation = int(meta.get("generation", 1))
    status: dict[str, Any] = dict(body.get("status") or {})
    problem = spec_errors("ModelDeployment", body.get("spec") or {})
    if problem:
        return Outcome(cond.mark(status, generation, State.FAILED, Reason.INVALID_SPEC, problem), True)
    spec = ModelDeploymentSpec.model_validate(body["spec"])
    resolved: dict[str, dict[str, str]] = {}
    refused: list[str] = []
    try:
        for variant in spec.variants:
            job = require_ready("TrainingJob", namespace, variant.training_job, cluster)
            job_status = job["status"]
            resolved[variant.training_job] = {
                "modelUri": job_status["modelUri"], "modelVersion": job_status["modelVersion"]}
            if job_status.get("gate") == "failed" and not variant.allow_failed_gate:
                reasons = "; ".join(job_status.get("gateReasons") or []) or "no reason recorded"
                refused.append(f"variant {variant.name!r}: {job_status.get('modelName', '')} "
                               f"{job_status['modelVersion']} (TrainingJob {variant.training_job}) "
                               f"failed its gate: {reasons}")
    except (DependencyNotReady, KeyError) as exc:
        message = str(exc) if isinstance(exc, MltaError) else f"TrainingJob status lacks {exc}"
        return Outcome(cond.mark(status, generation, State.WAITING, Reason.WAITING_FOR_DEPENDENCY,
                                 message))
    if refused:
        message = ("refusing to serve " + " | ".join(refused)
                   + " (set the variant's allowFailedGate: true to serve it anyway)")
        return Outcome(cond.mark(status, generation, State.FAILED, Reason.GATE_FAILED, message))

    cid = naming.correlation_id(meta.get("uid", ""), generation)
    weights = live.effective_weights(spec, status, generation)
    try:
        secret = live.read_secret(namespace, spec.auth.secret_name) if spec.auth else None
        config = live.user_config(spec, namespace, meta.get("uid", ""), weights, secret)
    except ServingError as exc:  # a missing Secret may still be created: wait for it
        state = State.WAITING if exc.reason == "SecretMissing" else State.FAILED
        return Outcome(cond.mark(status, generation, state, ReportedReason(exc.reason),
                                 str(exc)), follow=Follow.POLL)
    status_uri = live.status_uri(settings.storage.uri, namespace, name)
    args = serve_builders.serve_args(spec, namespace, name, resolved, cid, status_uri)
    app = serve_builders.serve_application(spec, namespace, name, args, config)
    digest = serve_builders.config_hash(app)
    current = engine.serve_status(args.app_name, namespace)
    status["keysHash"] = live.keys_fingerprint(config)
    if status.get("configHash") != digest or current.state == ServeState.MISSING:
        engine.apply_serve_app(app, body)
        status.update(configHash=digest, appName=args.app_name, correlationId=cid)
        return Outcome(cond.mark(status, generation, State.PROGRESSING, Reason.DEPLOYING,
                                 f"applying Serve application {args.app_name}"), follow=Follow.POLL)
    status.update(
        endpoint=serve_builders.endpoint(settings, app, namespace),
        split=serve_builders.split_summary(spec, weights),
        variants=[{"name": v.name, "modelVersion": v.model_version, "modelUri": v.model_uri,
                   "weight": weights[v.name]} for v in args.variants],
    )
    if current.state == ServeState.RUNNING:
        ready = cond.mark(status, generation, State.READY, Reason.SERVING,
                          f"serving {status['split']} at {status['endpoint']}")
        merged, events = live.merge(spec, ready, live.read_service_status(status_uri), generation)
        return Outcome(merged, follow=Follow.WATCH, events=events)
    if current.state == ServeState.FAILED:
        return Outcome(cond.mark(status, generation, State.FAILED, Reason.DEPLOY_FAILED,
                                 current.message), follow=Follow.WATCH)
    if current.state == ServeState.UNHEALTHY:
        marked = cond.mark(status, generation, State.DEGRADED, Reason.UNHEALTHY, current.message)
        marked["conditions"] = cond.set_condition(marked["conditions"], cond.READY, False,
                                                  Reason.UNHEALTHY, current.message, generation)
        marked["phase"] = str(cond.derive_phase(marked["conditions"]))
        return Outcome(marked, follow=Follow.WATCH)
    return Outcome(cond.mark(status, generation, State.PROGRESSING, Reason.DEPLOYING,
                             current.message or "Serve application deploying"), follow=Follow.POLL)
