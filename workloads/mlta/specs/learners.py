"""The learners: :class:`ModelType` (the one list of them) and each one's typed hyperparameters.

``ModelType`` is read by everything that needs to know the learners: the CRD enum (through
these models), the search space, the adapters (``mlta.training.adapters``), the registry and
serving. Adding a learner is one enum member, one params model here and one adapter module.

Each params model names the library's own parameters in camelCase on the wire
(``numLeaves`` is LightGBM's ``num_leaves``), with the library's valid bounds, so the API
server refuses an out-of-range value or an unknown key (``kubectl apply`` validates fields
strictly) before anything runs. Unset fields keep the library's default. Parameters that
mlta sets itself (objective, seed, threads, number of rounds, metrics) are not fields here.
The adapters map these models onto each library's own names.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .base import SpecModel


class ModelType(str, Enum):
    """The learner libraries; the only list of them."""

    LIGHTGBM = "lightgbm"
    XGBOOST = "xgboost"
    CATBOOST = "catboost"


class LightGBMParams(SpecModel):
    """LightGBM hyperparameters (https://lightgbm.readthedocs.io/en/stable/Parameters.html)."""

    num_leaves: int | None = Field(default=None, ge=2, le=131072,
                                   description="Maximum leaves per tree (LightGBM default 31).")
    max_depth: int | None = Field(default=None, ge=-1, le=64,
                                  description="Maximum tree depth; -1 means no limit (default).")
    learning_rate: float | None = Field(default=None, gt=0.0, le=1.0,
                                        description="Shrinkage per boosting round (default 0.1).")
    min_data_in_leaf: int | None = Field(default=None, ge=1, le=1_000_000,
                                         description="Minimum rows per leaf (default 20).")
    min_sum_hessian_in_leaf: float | None = Field(
        default=None, ge=0.0, le=1e6, description="Minimum hessian sum per leaf (default 1e-3).")
    feature_fraction: float | None = Field(
        default=None, gt=0.0, le=1.0, description="Share of features sampled per tree (default 1).")
    bagging_fraction: float | None = Field(
        default=None, gt=0.0, le=1.0,
        description="Share of rows sampled per bagging round (default 1); needs baggingFreq > 0.")
    bagging_freq: int | None = Field(default=None, ge=0, le=10_000,
                                     description="Re-sample rows every k rounds; 0 disables (default).")
    lambda_l1: float | None = Field(default=None, ge=0.0, le=1e6, description="L1 regularisation.")
    lambda_l2: float | None = Field(default=None, ge=0.0, le=1e6, description="L2 regularisation.")
    min_gain_to_split: float | None = Field(default=None, ge=0.0, le=1e6,
                                            description="Minimum gain of a split (default 0).")
    max_bin: int | None = Field(default=None, ge=2, le=65535,
                                description="Histogram bins per feature (default 255).")
    path_smooth: float | None = Field(default=None, ge=0.0, le=1e6,
                                      description="Smoothing of leaf values toward the parent.")
    extra_trees: bool | None = Field(default=None,
                                     description="Extremely randomised trees (random thresholds).")


class XGBoostGrowPolicy(str, Enum):
    DEPTHWISE = "depthwise"
    LOSSGUIDE = "lossguide"


class XGBoostParams(SpecModel):
    """XGBoost hyperparameters, ``hist`` tree method
    (https://xgboost.readthedocs.io/en/stable/parameter.html)."""

    max_depth: int | None = Field(default=None, ge=1, le=32,
                                  description="Maximum tree depth (XGBoost default 6).")
    max_leaves: int | None = Field(default=None, ge=0, le=131072,
                                   description="Maximum leaves per tree; 0 means no limit.")
    learning_rate: float | None = Field(default=None, gt=0.0, le=1.0,
                                        description="Shrinkage per round, eta (default 0.3).")
    min_child_weight: float | None = Field(default=None, ge=0.0, le=1e6,
                                           description="Minimum hessian sum per child (default 1).")
    gamma: float | None = Field(default=None, ge=0.0, le=1e6,
                                description="Minimum loss reduction of a split (default 0).")
    subsample: float | None = Field(default=None, gt=0.0, le=1.0,
                                    description="Share of rows sampled per tree (default 1).")
    colsample_bytree: float | None = Field(default=None, gt=0.0, le=1.0,
                                           description="Share of features per tree (default 1).")
    colsample_bynode: float | None = Field(default=None, gt=0.0, le=1.0,
                                           description="Share of features per split (default 1).")
    reg_lambda: float | None = Field(default=None, ge=0.0, le=1e6,
                                     description="L2 regularisation, XGBoost's lambda (default 1).")
    reg_alpha: float | None = Field(default=None, ge=0.0, le=1e6,
                                    description="L1 regularisation, XGBoost's alpha (default 0).")
    max_bin: int | None = Field(default=None, ge=2, le=65535,
                                description="Histogram bins per feature (default 256).")
    grow_policy: XGBoostGrowPolicy | None = Field(
        default=None, description="depthwise (default) or lossguide (leaf-wise, like LightGBM).")


class CatBoostParams(SpecModel):
    """CatBoost hyperparameters, symmetric trees on CPU
    (https://catboost.ai/docs/en/references/training-parameters/)."""

    depth: int | None = Field(default=None, ge=1, le=16,
                              description="Depth of the symmetric trees (CatBoost default 6).")
    learning_rate: float | None = Field(default=None, gt=0.0, le=1.0,
                                        description="Shrinkage per round (default chosen by CatBoost).")
    l2_leaf_reg: float | None = Field(default=None, ge=0.0, le=1e6,
                                      description="L2 regularisation of leaf values (default 3).")
    random_strength: float | None = Field(default=None, ge=0.0, le=1e3,
                                          description="Score noise when choosing splits (default 1).")
    bagging_temperature: float | None = Field(
        default=None, ge=0.0, le=1e3, description="Bayesian bootstrap intensity (default 1).")
    border_count: int | None = Field(default=None, ge=1, le=65535,
                                     description="Split borders per numeric feature (default 254).")
    rsm: float | None = Field(default=None, gt=0.0, le=1.0,
                              description="Share of features tried per split (default 1).")


#: Each learner's params model, keyed by the one list of learners.
LEARNER_PARAMS: dict[ModelType, type[SpecModel]] = {
    ModelType.LIGHTGBM: LightGBMParams,
    ModelType.XGBOOST: XGBoostParams,
    ModelType.CATBOOST: CatBoostParams,
}


def learner_field(model_type: ModelType | str) -> str:
    """The Python field name of a learner's section (``ModelSpec.lightgbm``...): its value."""
    return ModelType(model_type).value
