"""ModelDeployment: model versions served by Ray Serve behind one weighted A/B router."""

from __future__ import annotations

from pydantic import Field

from .base import CommonStatus, KindInfo, ResourceSpec, SpecModel, cel, cel_rules

MAX_VARIANTS = 8


class VariantSpec(SpecModel):
    """One arm of the split: a TrainingJob's registered model and its traffic share."""

    name: str = Field(
        min_length=1, max_length=40, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Variant name returned with each prediction.",
    )
    training_job: str = Field(
        min_length=1, description="TrainingJob (same namespace) whose model version to serve."
    )
    weight: int = Field(ge=0, le=100, description="Percent of traffic; all weights sum to 100.")
    replicas: int = Field(default=1, ge=1, le=64, description="Predictor replicas.")
    allow_failed_gate: bool = Field(
        default=False,
        description="Serve the TrainingJob's model version even though it failed its gate "
                    "(e.g. a shadow or a known-weak challenger); off, such a version is refused.")


class ModelDeploymentSpec(ResourceSpec):
    """Desired state of a ModelDeployment."""

    variants: list[VariantSpec] = Field(
        min_length=1, max_length=MAX_VARIANTS, description="Model variants and their weights."
    )
    route_prefix: str | None = Field(
        default=None,
        pattern=r"^/[-a-z0-9/]*$",
        description="HTTP route prefix; default /mlta/<namespace>/<name>.",
    )
    sticky_key: bool = Field(
        default=True,
        description="Route requests carrying the same key to the same variant.",
    )

    model_config = ResourceSpec.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.variants.map(v, v.weight).sum() == 100",
                "spec.variants[*].weight must sum to 100", ".variants"),
            cel("self.variants.all(v, self.variants.exists_one(w, w.name == v.name))",
                "spec.variants[*].name must be unique", ".variants"),
        )
    }

    kind_info = KindInfo(
        kind="ModelDeployment",
        plural="modeldeployments",
        singular="modeldeployment",
        short_names=["md"],
        printer_columns=[
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint"},
            {"name": "Split", "type": "string", "jsonPath": ".status.split"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


class VariantStatus(SpecModel):
    """What a variant serves now."""

    name: str = Field(description="Variant name.")
    model_version: str = Field(description="Model version served.")
    model_uri: str = Field(description="Model version location.")
    weight: int = Field(description="Traffic percent.")


class ModelDeploymentStatus(CommonStatus):
    """Observed state of a ModelDeployment."""

    endpoint: str | None = Field(default=None, description="Prediction URL.")
    split: str | None = Field(default=None, description="Weights, e.g. champion=80,challenger=20.")
    app_name: str | None = Field(default=None, description="Ray Serve application name.")
    variants: list[VariantStatus] = Field(default_factory=list, description="Served variants.")
    config_hash: str | None = Field(
        default=None, description="Hash of the applied Serve application (changes trigger a redeploy)."
    )
