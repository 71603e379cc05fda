"""Arguments of the Ray Serve application, built by the operator, validated by the app.

The operator resolves a ModelDeployment's variants (TrainingJob -> registered model version)
and passes these args in the Serve config (``import_path: mlta.serving.app:build_app``).
"""

from __future__ import annotations

from pydantic import Field

from .base import SpecModel


class ServedVariant(SpecModel):
    """One variant as served: a resolved model version and its traffic share."""

    name: str
    weight: int = Field(ge=0, le=100)
    model_uri: str = Field(description="Registry directory of the model version.")
    model_version: str
    replicas: int = Field(default=1, ge=1)
    allow_failed_gate: bool = Field(default=False,
                                    description="Serve the version even if it failed its gate.")


class ServeAppArgs(SpecModel):
    """Everything ``mlta.serving.app:build_app`` needs."""

    app_name: str
    variants: list[ServedVariant] = Field(min_length=1)
    sticky_key: bool = True
    correlation_id: str | None = None
