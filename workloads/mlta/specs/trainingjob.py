"""TrainingJob: Gold -> a searched, walk-forward validated, gated model version.

The job splits time into walk-forward folds (the search sees only these) and a lockbox (the
last part of the range, after a purge) that is scored once, by the chosen model. The search
(``spec.search``) runs Optuna's sampler inside Ray Tune with ASHA; without it the job fits
``spec.model`` as one trial. ``spec.ensemble`` combines the best trials; ``spec.gate`` decides
whether the registered version may be served.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .base import CommonStatus, KindInfo, ResourceSpec, SpecModel, cel, cel_rules
from .learners import (
    CatBoostParams,
    LightGBMParams,
    ModelType,
    XGBoostParams,
)
from .search import CLASSIFICATION_METRICS, REGRESSION_METRICS, SearchMetric, SearchSpec
from .selection import SelectorSpec

__all__ = ["ModelType"]


class ModelSpec(SpecModel):
    """The learner of a single fit, and each learner's fixed hyperparameters.

    With a search, a learner's section here holds the values the search does not vary.
    """

    type: ModelType = Field(default=ModelType.LIGHTGBM, description="lightgbm, xgboost or catboost.")
    num_boost_round: int = Field(
        default=200, ge=1, le=100_000,
        description="Boosting rounds (with a search: the most a trial may run).")
    lightgbm: LightGBMParams = Field(default_factory=LightGBMParams,
                                     description="LightGBM hyperparameters.")
    xgboost: XGBoostParams = Field(default_factory=XGBoostParams,
                                   description="XGBoost hyperparameters.")
    catboost: CatBoostParams = Field(default_factory=CatBoostParams,
                                     description="CatBoost hyperparameters.")


class TargetKind(str, Enum):
    """What to predict, from the features package's labels (``y_`` columns)."""

    DIRECTION = "direction"           # sign of the forward return beyond a dead band
    RETURN = "return"                 # the forward return itself
    TRIPLE_BARRIER = "tripleBarrier"  # which volatility barrier the path touches first
    VOLATILITY = "volatility"         # realized volatility over the horizon


#: Targets a classifier learns (P(class 1)); the others are regressions.
CLASSIFICATION_TARGETS = frozenset({TargetKind.DIRECTION, TargetKind.TRIPLE_BARRIER})
#: Targets that give a trading signal (and so a backtest, baselines and Sharpe-based gates).
TRADABLE_TARGETS = frozenset({TargetKind.DIRECTION, TargetKind.RETURN, TargetKind.TRIPLE_BARRIER})


class BarrierSpec(SpecModel):
    """Triple-barrier settings: barriers at multiples of the causal volatility."""

    upper: float = Field(default=2.0, gt=0, le=100, description="Upper barrier, in sigmas.")
    lower: float = Field(default=2.0, gt=0, le=100, description="Lower barrier, in sigmas.")
    vol_window: int = Field(default=50, ge=2, le=10_000,
                            description="Bars of the volatility estimate.")


class TargetSpec(SpecModel):
    """The label: direction, return, tripleBarrier or volatility over ``horizon`` bars."""

    kind: TargetKind = Field(default=TargetKind.DIRECTION,
                             description="direction, return, tripleBarrier or volatility.")
    horizon: int = Field(default=12, ge=1, le=10_000, description="Bars ahead.")
    dead_band: float = Field(
        default=0.0, ge=0, le=1.0,
        description="direction: |forward return| at or below this is no move, left out.")
    barrier: BarrierSpec = Field(default_factory=BarrierSpec,
                                 description="tripleBarrier: barrier widths; rows that touch "
                                             "neither barrier are left out.")


class ValidationSpec(SpecModel):
    """Walk-forward folds with purge and embargo, then a lockbox the search never sees."""

    folds: int = Field(default=4, ge=1, le=50, description="Walk-forward test folds.")
    test_fraction: float = Field(
        default=0.15, gt=0, lt=0.5,
        description="Share of the pre-lockbox timestamps in each test fold.")
    purge_bars: int | None = Field(
        default=None, ge=0, le=100_000,
        description="Bars dropped before each test fold and before the lockbox; default = horizon.")
    embargo_bars: int = Field(default=0, ge=0, le=100_000,
                              description="Bars skipped after each test fold.")
    lockbox_fraction: float = Field(
        default=0.15, ge=0.02, lt=0.5,
        description="Share of the timestamps at the end held out as the lockbox.")
    min_train_rows: int = Field(default=200, ge=20, le=10_000_000,
                                description="Fewest labelled rows a training window may have.")

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("double(self.folds) * self.testFraction < 1.0",
                "validation.folds * validation.testFraction must be below 1 "
                "(leave rows for the first training window)", ".folds"),
        )
    }


class FeatureSelectionSpec(SpecModel):
    """Which Gold features the model sees; the selector is fitted inside each fold."""

    exclude: list[str] = Field(default_factory=list, max_length=1000,
                               description="Feature columns never used (exact names).")
    selection: SelectorSpec | None = Field(
        default=None, description="Feature selection fitted on each fold's training rows only.")


class BacktestSpec(SpecModel):
    """How predictions trade in the backtest: costs per side and the signal band."""

    fee_bps: float = Field(default=10.0, ge=0, le=1000, description="Fee per side, basis points.")
    slippage_bps: float = Field(default=2.0, ge=0, le=1000,
                                description="Slippage per side, basis points.")
    # le, not lt: the API server checks an integral value (band: 0) against an exclusive
    # fractional maximum truncated to an integer, and would refuse 0 < 0.5.
    band: float = Field(
        default=0.0, ge=0, le=0.49,
        description="No position while P(up) is within 0.5 +- band (classification), or while "
                    "|forecast| <= band (return).")
    long_only: bool = Field(default=False, description="Flat instead of short.")


class EnsembleMethod(str, Enum):
    MEAN = "mean"
    RANK_AVERAGE = "rankAverage"
    STACKING = "stacking"


class EnsembleSpec(SpecModel):
    """Combine the best finished trials (any learners) into one model."""

    method: EnsembleMethod = Field(default=EnsembleMethod.MEAN,
                                   description="mean, rankAverage or stacking.")
    top_k: int = Field(default=3, ge=2, le=20, description="How many of the best trials.")


class GateSpec(SpecModel):
    """What a version must reach on the lockbox to be servable; unset criteria are skipped."""

    min_lockbox_auc: float | None = Field(default=None, ge=0, le=1,
                                          description="Lowest lockbox AUC (classification).")
    min_lockbox_correlation: float | None = Field(
        default=None, ge=-1, le=1, description="Lowest lockbox correlation (regression).")
    min_net_sharpe: float | None = Field(default=None, ge=-100, le=100,
                                         description="Lowest annualised lockbox Sharpe after costs.")
    min_deflated_sharpe: float | None = Field(
        default=None, ge=0, le=1, description="Lowest Deflated Sharpe Ratio (a probability).")
    max_pbo: float | None = Field(default=None, ge=0, le=1,
                                  description="Highest Probability of Backtest Overfitting.")
    max_drawdown: float | None = Field(default=None, gt=0, le=1,
                                       description="Largest lockbox drawdown after costs.")
    beat_baselines: bool = Field(default=True,
                                 description="Must beat every naive baseline on the lockbox.")


def _classification_rule() -> str:
    classes = ", ".join(f"'{k.value}'" for k in sorted(CLASSIFICATION_TARGETS, key=str))
    return f"self.target.kind in [{classes}]"


def _target_rules() -> list[dict[str, str]]:
    """CEL rules tying the search metric and the gate to the target kind."""
    tradable = ", ".join(f"'{k.value}'" for k in sorted(TRADABLE_TARGETS, key=str))
    cls_metrics = ", ".join(f"'{m.value}'" for m in sorted(CLASSIFICATION_METRICS, key=str))
    reg_metrics = ", ".join(f"'{m.value}'" for m in sorted(REGRESSION_METRICS, key=str))
    classification = _classification_rule()
    return [
        cel(f"!has(self.search) || !has(self.search.metric) || "
            f"(self.search.metric in [{cls_metrics}] ? {classification} : true)",
            "search.metric is a classification metric but target.kind is a regression "
            "(return or volatility): use rmse, mae, correlation or sharpe", ".search.metric"),
        cel(f"!has(self.search) || !has(self.search.metric) || "
            f"(self.search.metric in [{reg_metrics}] ? !({classification}) : true)",
            "search.metric is a regression metric but target.kind is a classification: use "
            "auc, logLoss, accuracy or sharpe", ".search.metric"),
        cel(f"!has(self.search) || !has(self.search.metric) || self.search.metric != 'sharpe' "
            f"|| self.target.kind in [{tradable}]",
            "search.metric sharpe needs a tradable target (not volatility)", ".search.metric"),
        cel(f"!has(self.gate) || !has(self.gate.minLockboxAuc) || {classification}",
            "gate.minLockboxAuc needs a classification target (direction, tripleBarrier)",
            ".gate.minLockboxAuc"),
        cel(f"!has(self.gate) || !has(self.gate.minLockboxCorrelation) || !({classification})",
            "gate.minLockboxCorrelation needs a regression target (return, volatility)",
            ".gate.minLockboxCorrelation"),
        cel("!has(self.gate) || self.target.kind != 'volatility' || (!has(self.gate.minNetSharpe) "
            "&& !has(self.gate.minDeflatedSharpe) && !has(self.gate.maxPbo) && "
            "!has(self.gate.maxDrawdown))",
            "a volatility target has no trading signal: remove gate.minNetSharpe, "
            "minDeflatedSharpe, maxPbo and maxDrawdown", ".gate"),
    ]


def _learner_rules() -> list[dict[str, str]]:
    """CEL rules: a search space only for learners that are searched."""
    rules = []
    for t in ModelType:
        rules.append(cel(
            f"!has(self.search) || !has(self.search.space) || !has(self.search.space.{t.value}) "
            f"|| (has(self.search.learners) ? self.search.learners.exists(l, l == '{t.value}') "
            f": self.model.type == '{t.value}')",
            f"search.space.{t.value} is set but {t.value} is not searched: add it to "
            "search.learners (or set model.type)", f".search.space.{t.value}"))
    return rules


class TrainingJobSpec(ResourceSpec):
    """Desired state of a TrainingJob."""

    data_pipeline: str = Field(
        min_length=1, description="Name of the DataPipeline (same namespace) to train on.")
    model: ModelSpec = Field(default_factory=ModelSpec, description="Learner and hyperparameters.")
    target: TargetSpec = Field(default_factory=TargetSpec, description="Label.")
    validation: ValidationSpec = Field(default_factory=ValidationSpec,
                                       description="Walk-forward folds and the lockbox.")
    features: FeatureSelectionSpec = Field(default_factory=FeatureSelectionSpec,
                                           description="Feature exclusion and selection.")
    search: SearchSpec | None = Field(default=None,
                                      description="Hyperparameter search; absent: one fit of model.")
    ensemble: EnsembleSpec | None = Field(default=None,
                                          description="Combine the best trials into one model.")
    backtest: BacktestSpec = Field(default_factory=BacktestSpec,
                                   description="Costs and signal rule of the backtest.")
    gate: GateSpec = Field(default_factory=GateSpec, description="What a servable version must reach.")
    model_name: str | None = Field(
        default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Registry name; default is the TrainingJob's name.")

    model_config = ResourceSpec.model_config | {
        "json_schema_extra": cel_rules(
            cel("!has(self.ensemble) || (has(self.search) && self.search.trials >= self.ensemble.topK)",
                "ensemble needs a search with at least ensemble.topK trials", ".ensemble"),
            cel("!has(self.ensemble) || self.ensemble.method != 'rankAverage' || "
                + _classification_rule(),
                "ensemble.method rankAverage combines probabilities: it needs a classification "
                "target (direction, tripleBarrier); use mean or stacking", ".ensemble.method"),
            *_target_rules(),
            *_learner_rules(),
        )
    }

    kind_info = KindInfo(
        kind="TrainingJob",
        plural="trainingjobs",
        singular="trainingjob",
        short_names=["tj"],
        printer_columns=[
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Trials", "type": "string", "jsonPath": ".status.trials"},
            {"name": "Learner", "type": "string", "jsonPath": ".status.bestLearner"},
            {"name": "Score", "type": "number", "jsonPath": ".status.bestScore"},
            {"name": "Gate", "type": "string", "jsonPath": ".status.gate"},
            {"name": "Version", "type": "string", "jsonPath": ".status.modelVersion"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )

    @property
    def learners(self) -> list[ModelType]:
        """The learners this job fits: the search's, or model.type alone."""
        if self.search is not None and self.search.learners:
            return [ModelType(t) for t in self.search.learners]
        return [ModelType(self.model.type)]

    @property
    def search_metric(self) -> SearchMetric:
        """The metric trials are ranked by (the search's, or the target's default)."""
        if self.search is not None and self.search.metric is not None:
            return SearchMetric(self.search.metric)
        kind = TargetKind(self.target.kind)
        if kind in CLASSIFICATION_TARGETS:
            return SearchMetric.AUC
        return SearchMetric.RMSE if kind is TargetKind.VOLATILITY else SearchMetric.CORRELATION


class GateResult(str, Enum):
    PASSED = "passed"
    FAILED = "failed"


class TrainingJobStatus(CommonStatus):
    """Observed state of a TrainingJob."""

    model_name: str | None = Field(default=None, description="Registered model name.")
    model_version: str | None = Field(default=None, description="Registered model version.")
    model_uri: str | None = Field(default=None, description="Where the model version lives.")
    dataset_version: str | None = Field(default=None, description="Gold version trained on.")
    metrics: dict[str, float] = Field(
        default_factory=dict, description="Walk-forward (cv*) and lockbox (lockbox*) metrics.")
    trials: str | None = Field(default=None, description="Trials done/total, e.g. 12/32.")
    trials_done: int | None = Field(default=None, description="Trials finished (incl. pruned, failed).")
    trials_total: int | None = Field(default=None, description="Trial budget.")
    best_score: float | None = Field(default=None, description="Best walk-forward score so far.")
    best_learner: str | None = Field(default=None, description="Learner of the best trial so far.")
    gate: GateResult | None = Field(default=None, description="passed or failed.")
    gate_reasons: list[str] = Field(default_factory=list, max_length=32,
                                    description="Why the gate failed (empty when it passed).")
    dashboard_url: str | None = Field(default=None, description="The Ray dashboard's job page.")
