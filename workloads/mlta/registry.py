"""The model registry's on-disk format, shared by training (writer) and serving (reader).

A model version lives at ``{storage}/registry/{name}/{version}/`` with the model artifact and
``metadata.json`` (this model). Versions are ``v1``, ``v2``... allocated by the trainer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import storage

METADATA_FILE = "metadata.json"


class ModelVersionMetadata(BaseModel):
    """Everything needed to serve, audit and reproduce one model version."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    version: str
    model_type: str = Field(description="lightgbm | xgboost | catboost")
    artifact: str = Field(description="Artifact file name inside the version directory.")
    feature_columns: list[str]
    target: dict[str, Any] = Field(description="kind, horizon, deadBand of the label.")
    metrics: dict[str, float]
    lineage: dict[str, Any] = Field(
        description="datasetUri, datasetVersion, trainingJob, submissionId, codeVersion, specHash"
    )
    created_at: datetime


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
