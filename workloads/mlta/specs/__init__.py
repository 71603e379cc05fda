"""The spec models: one per CRD spec, the only contract between operator and workloads."""

from .base import API_GROUP, API_VERSION, CATEGORY, CommonStatus, Condition, ResourceSpec
from .datapipeline import DataPipelineSpec, DataPipelineStatus
from .jobs import JobEnvelope, JobResult, ResourceRef
from .modeldeployment import ModelDeploymentSpec, ModelDeploymentStatus, VariantSpec
from .trainingjob import TrainingJobSpec, TrainingJobStatus

#: Every kind the operator serves, spec model and status model.
KINDS: dict[str, tuple[type[ResourceSpec], type[CommonStatus]]] = {
    "DataPipeline": (DataPipelineSpec, DataPipelineStatus),
    "TrainingJob": (TrainingJobSpec, TrainingJobStatus),
    "ModelDeployment": (ModelDeploymentSpec, ModelDeploymentStatus),
}

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "CATEGORY",
    "KINDS",
    "CommonStatus",
    "Condition",
    "DataPipelineSpec",
    "DataPipelineStatus",
    "JobEnvelope",
    "JobResult",
    "ModelDeploymentSpec",
    "ModelDeploymentStatus",
    "ResourceRef",
    "ResourceSpec",
    "TrainingJobSpec",
    "TrainingJobStatus",
    "VariantSpec",
]
