"""TrainingJob: Gold -> walk-forward validated model, registered as a model version."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .base import CommonStatus, KindInfo, ResourceSpec, SpecModel, cel, cel_rules


class ModelType(str, Enum):
    LIGHTGBM = "lightgbm"


class ModelSpec(SpecModel):
    """Which learner, with its hyperparameters."""

    type: ModelType = Field(default=ModelType.LIGHTGBM, description="Learner library.")
    params: dict[str, float] = Field(
        default_factory=dict,
        description="Library hyperparameters, e.g. {numLeaves: 31, learningRate: 0.05}.",
    )
    num_boost_round: int = Field(default=200, ge=1, le=100_000, description="Boosting rounds.")


class TargetKind(str, Enum):
    DIRECTION = "direction"
    RETURN = "return"


class TargetSpec(SpecModel):
    """What to predict: the sign or the size of the forward return."""

    kind: TargetKind = Field(default=TargetKind.DIRECTION, description="direction or return.")
    horizon: int = Field(default=12, ge=1, le=10_000, description="Bars ahead.")
    dead_band: float = Field(
        default=0.0, ge=0, description="|return| below this counts as no move (direction)."
    )


class ValidationSpec(SpecModel):
    """Walk-forward validation by time, with purge and embargo."""

    folds: int = Field(default=4, ge=1, le=50, description="Walk-forward test folds.")
    test_fraction: float = Field(
        default=0.15, gt=0, lt=0.5, description="Share of rows in each test fold."
    )
    purge_bars: int | None = Field(
        default=None, ge=0, description="Bars dropped before each test fold; default = horizon."
    )
    embargo_bars: int = Field(default=0, ge=0, description="Bars skipped after each test fold.")

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("double(self.folds) * self.testFraction < 1.0",
                "validation.folds * validation.testFraction must be below 1 "
                "(leave rows for the first training window)", ".folds"),
        )
    }


class TrainingJobSpec(ResourceSpec):
    """Desired state of a TrainingJob."""

    data_pipeline: str = Field(
        min_length=1, description="Name of the DataPipeline (same namespace) to train on."
    )
    model: ModelSpec = Field(default_factory=ModelSpec, description="Learner.")
    target: TargetSpec = Field(default_factory=TargetSpec, description="Label.")
    validation: ValidationSpec = Field(default_factory=ValidationSpec, description="Validation.")
    model_name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Registry name; default is the TrainingJob's name.",
    )

    kind_info = KindInfo(
        kind="TrainingJob",
        plural="trainingjobs",
        singular="trainingjob",
        short_names=["tj"],
        printer_columns=[
            {"name": "Model", "type": "string", "jsonPath": ".spec.model.type"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Version", "type": "string", "jsonPath": ".status.modelVersion"},
            {"name": "Score", "type": "number", "jsonPath": ".status.metrics.score"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


class TrainingJobStatus(CommonStatus):
    """Observed state of a TrainingJob."""

    model_name: str | None = Field(default=None, description="Registered model name.")
    model_version: str | None = Field(default=None, description="Registered model version.")
    model_uri: str | None = Field(default=None, description="Where the model version lives.")
    dataset_version: str | None = Field(default=None, description="Gold version trained on.")
    metrics: dict[str, float] = Field(
        default_factory=dict, description="Walk-forward metrics (mean over folds)."
    )
