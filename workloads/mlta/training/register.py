"""Registering a trained model as a new version under ``{storage}/registry/{name}/``.

Order matters for crash safety: allocate the version (see :mod:`.versions`), write every
member artifact, the combiner and the reports atomically, write ``metadata.json`` last. A
version without metadata.json is not complete; readers (``mlta.registry.list_versions``,
serving) ignore it, and a rerun of the same submission finishes it instead of allocating
another one. Registration never touches another version, so a failed job changes nothing
that was registered before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import __version__, registry, storage
from ..specs.trainingjob import TrainingJobSpec
from .versions import allocate_version, find_owned

if TYPE_CHECKING:  # pragma: no cover
    from .train import TrainingOutcome

ENSEMBLE_FILE = "ensemble.json"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    uri: str
    metadata: registry.ModelVersionMetadata
    reused: bool  # True when this submission had registered the version already

    def outputs(self) -> dict[str, Any]:
        """The job outputs the operator copies into the TrainingJob's status."""
        meta = self.metadata
        search = meta.evaluation.get("search", {})
        best = search.get("best", {})
        out: dict[str, Any] = {
            "modelName": self.name,
            "modelVersion": self.version,
            "modelUri": self.uri,
            "datasetVersion": meta.lineage.get("datasetVersion"),
            "metrics": dict(meta.metrics),
            "trialsDone": int(search.get("trials", 1)),
            "trialsTotal": int(search.get("trials", 1)),
            "bestLearner": meta.model_type,
            "bestScore": meta.metrics.get("score", best.get("score")),
        }
        if meta.gate is not None:
            out["gate"] = meta.gate.status.value
            out["gateReasons"] = list(meta.gate.reasons)[:32]
        return out


def spec_hash(spec: TrainingJobSpec) -> str:
    """sha256 of the spec in canonical JSON: same spec, same hash, across processes."""
    wire = spec.model_dump(mode="json", by_alias=True)
    return hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()


def find_registered(storage_uri: str, name: str, submission_id: str) -> RegisteredModel | None:
    """The complete version this submission registered before, or None."""
    version = find_owned(storage_uri, name, submission_id)
    if version is None:
        return None
    uri = registry.version_uri(storage_uri, name, version)
    if not storage.exists(storage.join(uri, registry.METADATA_FILE)):
        return None
    return RegisteredModel(name, version, uri, registry.read_metadata(uri), reused=True)


def register_model(
    outcome: TrainingOutcome,
    *,
    storage_uri: str,
    name: str,
    submission_id: str,
    lineage: dict[str, Any],
) -> RegisteredModel:
    """Store ``outcome`` as a new version (or return the one this submission registered).

    ``lineage`` should hold datasetUri, datasetVersion, featureSpecHash, trainingJob and
    specHash; submissionId and codeVersion are added here.
    """
    done = find_registered(storage_uri, name, submission_id)
    if done is not None:
        return done
    allocation = allocate_version(storage_uri, name, submission_id)
    uri = registry.version_uri(storage_uri, name, allocation.version)
    members = []
    single = len(outcome.members) == 1
    for number, member in enumerate(outcome.members):
        folder = uri if single else storage.join(uri, "members", str(number))
        artifact = member.adapter.save(member.model, folder)
        relative = artifact if single else f"members/{number}/{artifact}"
        members.append(member.info.model_copy(update={"artifact": relative}))
    artifact = members[0].artifact
    if outcome.combiner is not None:
        storage.write_json_atomic(storage.join(uri, ENSEMBLE_FILE), outcome.combiner.to_json())
        artifact = ENSEMBLE_FILE
    for relative, content in outcome.reports.items():
        storage.write_bytes_atomic(storage.join(uri, *relative.split("/")), content)
    metadata = registry.ModelVersionMetadata(
        name=name,
        version=allocation.version,
        model_type=outcome.model_type,
        artifact=artifact,
        feature_columns=outcome.feature_columns,
        target=outcome.target,
        metrics=outcome.metrics,
        lineage={**lineage, "submissionId": submission_id, "codeVersion": __version__},
        created_at=datetime.now(UTC),
        members=members,
        ensemble=outcome.combiner.to_json() if outcome.combiner is not None else None,
        gate=outcome.gate,
        evaluation=outcome.evaluation,
        artifacts={relative.split("/")[-1].split(".")[0]: relative for relative in outcome.reports},
    )
    registry.write_metadata(uri, metadata)
    return RegisteredModel(name, allocation.version, uri, metadata, reused=allocation.reused)
