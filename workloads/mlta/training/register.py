"""Registering a trained model as a new version under ``{storage}/registry/{name}/``.

Order matters for crash safety: allocate the version (see :mod:`.versions`), write the
artifact atomically, write ``metadata.json`` last. A version without metadata.json is not
complete; readers (``mlta.registry.list_versions``, serving) ignore it, and a rerun of the
same submission finishes it instead of allocating another one.
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
    from .adapters.base import ModelAdapter
    from .train import TrainingOutcome


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    uri: str
    metadata: registry.ModelVersionMetadata
    reused: bool  # True when this submission had registered the version already

    def outputs(self) -> dict[str, Any]:
        """The job outputs the operator copies into the TrainingJob's status."""
        return {
            "modelName": self.name,
            "modelVersion": self.version,
            "modelUri": self.uri,
            "datasetVersion": self.metadata.lineage.get("datasetVersion"),
            "metrics": dict(self.metadata.metrics),
        }


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
    """Store ``outcome``'s final model as a new version (or return this submission's one).

    ``lineage`` should hold datasetUri, datasetVersion, trainingJob and specHash;
    submissionId and codeVersion are added here.
    """
    done = find_registered(storage_uri, name, submission_id)
    if done is not None:
        return done
    allocation = allocate_version(storage_uri, name, submission_id)
    uri = registry.version_uri(storage_uri, name, allocation.version)
    artifact = outcome.adapter.save(outcome.model, uri)
    metadata = registry.ModelVersionMetadata(
        name=name,
        version=allocation.version,
        model_type=outcome.model_type,
        artifact=artifact,
        feature_columns=outcome.feature_columns,
        target=outcome.target,
        metrics={**outcome.metrics, "trainRows": float(outcome.train_rows),
                 "folds": float(len(outcome.folds))},
        lineage={**lineage, "submissionId": submission_id, "codeVersion": __version__},
        created_at=datetime.now(UTC),
    )
    registry.write_metadata(uri, metadata)
    return RegisteredModel(name, allocation.version, uri, metadata, reused=allocation.reused)


def load_model(model_uri: str) -> tuple[Any, registry.ModelVersionMetadata, ModelAdapter]:
    """A registered version's model, metadata and the adapter that predicts with it."""
    from .adapters import get_adapter

    metadata = registry.read_metadata(model_uri)
    adapter = get_adapter(metadata.model_type)
    model = adapter.load(storage.join(model_uri, metadata.artifact))
    return model, metadata, adapter
