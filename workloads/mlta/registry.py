"""The model registry's on-disk format, shared by training (writer) and serving (reader).

A model version lives at ``{storage}/registry/{name}/{version}/``: ``metadata.json`` (this
model, written last: a version without it is incomplete and ignored), the members' artifacts,
and its reports (trial table, explanations, backtest). Versions are ``v1``, ``v2``...
allocated by the trainer. A version is one model or an ensemble of members; serving loads
either through :func:`mlta.training.predictor.load_predictor`.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import storage

METADATA_FILE = "metadata.json"
ENSEMBLE = "ensemble"


class GateStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"


class MemberInfo(BaseModel):
    """One fitted learner of a version (a single model has exactly one)."""

    model_config = ConfigDict(extra="forbid")

    learner: str = Field(description="A ModelType value: lightgbm, xgboost or catboost.")
    artifact: str = Field(description="Artifact path relative to the version directory.")
    rounds: int = Field(description="Boosting rounds (chosen on the walk-forward folds).")
    params: dict[str, Any] = Field(default_factory=dict, description="Hyperparameters.")
    feature_columns: list[str] = Field(description="The member's inputs, in order.")
    trial: str | None = Field(default=None, description="Search candidate key, if searched.")


class GateInfo(BaseModel):
    """The gate's verdict and why."""

    model_config = ConfigDict(extra="forbid")

    status: GateStatus
    reasons: list[str] = Field(default_factory=list)
    checks: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="criterion -> {value, threshold, passed}")


class ModelVersionMetadata(BaseModel):
    """Everything needed to serve, audit and reproduce one model version."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    version: str
    model_type: str = Field(description="A ModelType value, or 'ensemble'.")
    artifact: str = Field(description="Main artifact: the single member's, or ensemble.json.")
    feature_columns: list[str] = Field(description="Inputs a client sends (every member's).")
    target: dict[str, Any] = Field(description="kind, horizon and the label's settings.")
    metrics: dict[str, float] = Field(description="Flat summary: score, cv*, lockbox*, dsr, pbo.")
    lineage: dict[str, Any] = Field(
        description="datasetUri, datasetVersion, featureSpecHash, trainingJob, submissionId, "
                    "codeVersion, specHash")
    created_at: datetime
    members: list[MemberInfo] = Field(default_factory=list)
    ensemble: dict[str, Any] | None = Field(default=None, description="The combiner, if any.")
    gate: GateInfo | None = None
    evaluation: dict[str, Any] = Field(
        default_factory=dict,
        description="cv, lockbox, baselines, selectionBias (DSR, PBO) and the search summary")
    artifacts: dict[str, str] = Field(
        default_factory=dict, description="Report name -> path relative to the version directory.")

    def member_list(self) -> list[MemberInfo]:
        """The members; a version written before members existed is one member."""
        if self.members:
            return list(self.members)
        return [MemberInfo(learner=self.model_type, artifact=self.artifact,
                           rounds=int(self.metrics.get("rounds", 0)),
                           feature_columns=list(self.feature_columns))]

    @property
    def servable(self) -> bool:
        """False when the gate failed (a deployment must opt in to serve it)."""
        return self.gate is None or self.gate.status is GateStatus.PASSED


def version_uri(storage_uri: str, name: str, version: str) -> str:
    return storage.join(storage_uri, "registry", name, version)


def read_metadata(model_uri: str) -> ModelVersionMetadata:
    return ModelVersionMetadata.model_validate(storage.read_json(storage.join(model_uri, METADATA_FILE)))


def write_metadata(model_uri: str, metadata: ModelVersionMetadata) -> None:
    storage.write_json_atomic(storage.join(model_uri, METADATA_FILE), metadata.model_dump(mode="json"))


def list_versions(storage_uri: str, name: str) -> list[str]:
    """Complete versions of ``name`` (those with metadata.json), oldest first: v1, v2, ..."""
    import pyarrow.fs as pafs

    fs, path = storage.resolve(storage.join(storage_uri, "registry", name))
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    numbers = sorted(
        int(info.base_name[1:]) for info in infos
        if info.type == pafs.FileType.Directory and info.base_name[:1] == "v"
        and info.base_name[1:].isdigit()
        and fs.get_file_info(f"{info.path}/{METADATA_FILE}").type == pafs.FileType.File
    )
    return [f"v{n}" for n in numbers]
