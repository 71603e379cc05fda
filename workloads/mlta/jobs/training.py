"""The TrainingJob's Ray job: read a Gold version, validate walk-forward, register the model.

``mlta.jobs.run`` calls :func:`run` with the envelope the operator built. The work itself is
:func:`train_frame`, which takes a DataFrame, so the same code runs in a Ray task, a test or
a notebook; only :func:`run` reads the lake.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .. import storage
from ..errors import MltaError, SpecError
from ..specs.jobs import JobEnvelope, JobResult
from ..specs.trainingjob import TrainingJobSpec

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger(__name__)


def parse_spec(raw: dict[str, Any]) -> TrainingJobSpec:
    """The TrainingJob spec, validated with the model the operator used; SpecError if bad."""
    try:
        return TrainingJobSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SpecError(f"invalid TrainingJob spec: {problems}",
                        hint="fix the TrainingJob and apply it again") from exc


def search_root(storage_uri: str, model_name: str, submission_id: str) -> str:
    """Where this submission's search keeps its state: stable across resubmissions of the same
    submission (so a killed job resumes its search), distinct between submissions."""
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", submission_id)[:200]
    return storage.join(storage_uri, "tuning", model_name, safe)


def feature_hash(columns: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(columns).encode()).hexdigest()


def train_frame(
    frame: pd.DataFrame,
    feature_columns: list[str],
    spec: TrainingJobSpec,
    *,
    storage_uri: str,
    model_name: str,
    submission_id: str,
    training_job: str,
    dataset_uri: str,
    dataset_version: str,
    gold_spec_hash: str = "",
    num_threads: int | None = None,
) -> dict[str, Any]:
    """Search, validate and register; returns the job outputs.

    A rerun with the same submission id returns the version it registered before, without
    training again; a rerun of a killed search resumes it (``search_root``).
    """
    from ..training.register import find_registered, register_model, spec_hash
    from ..training.train import train

    done = find_registered(storage_uri, model_name, submission_id)
    if done is not None:
        log.info("submission already registered %s %s", model_name, done.version)
        return _outputs(done.outputs(), spec)
    outcome = train(frame, feature_columns, spec,
                    search_root=search_root(storage_uri, model_name, submission_id),
                    num_threads=num_threads)
    registered = register_model(
        outcome,
        storage_uri=storage_uri,
        name=model_name,
        submission_id=submission_id,
        lineage={
            "datasetUri": dataset_uri,
            "datasetVersion": dataset_version,
            "goldSpecHash": gold_spec_hash,
            "featureSpecHash": feature_hash(outcome.feature_columns),
            "trainingJob": training_job,
            "specHash": spec_hash(spec),
        },
    )
    log.info("registered %s %s", model_name, registered.version,
             extra={"model_uri": registered.uri, "score": outcome.metrics.get("score"),
                    "gate": outcome.gate.status.value})
    return _outputs(registered.outputs(), spec)


def _outputs(outputs: dict[str, Any], spec: TrainingJobSpec) -> dict[str, Any]:
    total = spec.search.trials if spec.search is not None else 1
    return {**outputs, "trialsTotal": total, "trials": f"{outputs.get('trialsDone', 0)}/{total}"}


def _execute(envelope: JobEnvelope) -> dict[str, Any]:
    spec = parse_spec(envelope.spec)
    dataset_uri = envelope.inputs.get("datasetUri")
    if not dataset_uri:
        raise SpecError(
            f"the envelope has no datasetUri input for DataPipeline {spec.data_pipeline!r}",
            hint=f"DataPipeline {spec.data_pipeline!r} must be Ready (and report its datasetUri) "
                 "before the TrainingJob runs",
        )
    ref = envelope.resource
    model_name = spec.model_name or ref.name
    from ..training.register import find_registered

    done = find_registered(envelope.storage_uri, model_name, envelope.submission_id)
    if done is not None:  # a rerun: skip reading the dataset too
        return _outputs(done.outputs(), spec)
    from ..data.lake import read_dataset

    frame, manifest = read_dataset(dataset_uri)
    log.info("read dataset %s", manifest.version,
             extra={"rows": len(frame), "features": len(manifest.feature_columns)})
    return train_frame(
        frame,
        list(manifest.feature_columns),
        spec,
        storage_uri=envelope.storage_uri,
        model_name=model_name,
        submission_id=envelope.submission_id,
        training_job=f"{ref.namespace}/{ref.name}",
        dataset_uri=dataset_uri,
        dataset_version=manifest.version,
        gold_spec_hash=manifest.spec_hash,
    )


def run(envelope: JobEnvelope) -> JobResult:
    """Run a TrainingJob; an MltaError becomes a failed JobResult carrying its reason."""
    try:
        outputs = _execute(envelope)
    except MltaError as exc:
        log.error("training failed: %s", exc, extra={"reason": exc.reason})
        return JobResult(ok=False, reason=exc.reason, message=str(exc))
    return JobResult(ok=True, outputs=outputs)
