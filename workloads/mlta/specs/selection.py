"""Feature selection settings, shared by the TrainingJob spec and ``mlta.features.selection``.

The selector itself (``fit_selector``) lives with the features; its settings are part of the
TrainingJob contract, so they live here with the other spec models and their rules are CEL.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import SpecModel, cel, cel_rules


class SelectorSpec(SpecModel):
    """Which selection stages run and their thresholds; a stage set to None is skipped."""

    variance_threshold: float | None = Field(
        default=0.0, ge=0.0, description="Drop columns whose training variance is <= this.")
    correlation_threshold: float | None = Field(
        default=0.95, gt=0.0, le=1.0,
        description="Drop one of each pair with |Pearson r| above this (keeps the more "
                    "target-related one).")
    univariate: Literal["f_score", "mutual_info"] | None = Field(
        default=None, description="Univariate score used to keep the univariateK best columns.")
    univariate_k: int | None = Field(default=None, ge=1, le=100_000,
                                     description="Columns kept by stage 3.")
    importance_k: int | None = Field(
        default=None, ge=1, le=100_000,
        description="Columns kept by gradient-boosting gain importance (stage 4).")
    task: Literal["auto", "regression", "classification"] = Field(
        default="auto", description="auto: classification when y has at most 20 integer values.")
    mi_bins: int = Field(default=10, ge=2, le=256, description="Quantile bins for mutual info.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1,
                      description="Seed of stage 4 (which is deterministic).")

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("has(self.univariate) == has(self.univariateK)",
                "set univariate and univariateK together (or neither)", ".univariateK"),
        )
    }
