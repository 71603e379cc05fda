"""ModelDeployment: model versions served as one real-time prediction service on Ray Serve.

The spec says what to serve (variants and their traffic split), how candles come in (a push
endpoint or Binance's kline WebSocket), who may call it (API keys in a Secret, with scopes and
rate limits), what to watch (feature and prediction drift, outcomes after the horizon) and
what to do about a better or worse challenger (``rollout``: report only, or shift traffic).
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .base import CommonStatus, KindInfo, ResourceSpec, SpecModel, cel, cel_rules

MAX_VARIANTS = 8
KEY_NAME_PATTERN = r"^[-._a-zA-Z0-9]{1,253}$"


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
    allow_failed_gate: bool = Field(
        default=False,
        description="Serve the TrainingJob's model version even though it failed its gate "
                    "(e.g. a shadow or a known-weak challenger); off, such a version is refused.")


class FeedType(str, Enum):
    NONE = "none"
    PUSH = "push"
    BINANCE = "binance"


class GapPolicy(str, Enum):
    REPAIR = "repair"
    REJECT = "reject"


class BinanceFeedSpec(SpecModel):
    """Binance's public kline WebSocket stream, with REST for backfill."""

    ws_url: str = Field(default="wss://stream.binance.com:9443", pattern=r"^wss?://",
                        description="WebSocket base URL (the combined /stream endpoint is used).")
    rest_url: str = Field(default="https://api.binance.com", pattern=r"^https?://",
                          description="REST base URL for backfilling missed candles.")
    max_weight_per_minute: int = Field(default=1200, ge=1,
                                       description="REST request weight budget per minute.")
    reconnect_min_seconds: float = Field(default=0.5, gt=0, le=60,
                                         description="First reconnect backoff ceiling.")
    reconnect_max_seconds: float = Field(default=30.0, gt=0, le=600,
                                         description="Largest reconnect backoff ceiling.")


class FeedSpec(SpecModel):
    """Where closed candles come from; the service computes the Gold features itself."""

    type: FeedType = Field(default=FeedType.PUSH,
                           description="push (POST /v1/candles, WebSocket), binance, or none.")
    symbols: list[str] = Field(default_factory=list, max_length=200,
                               description="Symbols to serve; default: those of the Gold version "
                                           "the models were trained on.")
    warmup_bars: int | None = Field(
        default=None, ge=1,
        description="Gold candles replayed per symbol at start; default: all of them, which "
                    "gives exactly the Gold features (indicators with long memory need it).")
    on_gap: GapPolicy = Field(
        default=GapPolicy.REPAIR,
        description="Missing candles before a pushed one: repair (short gaps filled as Silver "
                    "does, longer ones re-warm) or reject (409 naming the expected candle).")
    binance: BinanceFeedSpec | None = Field(default=None, description="Binance feed settings.")


class Scope(str, Enum):
    PREDICT = "predict"
    STREAM = "stream"
    ADMIN = "admin"


class RateLimitSpec(SpecModel):
    """A token bucket: a sustained rate and the burst allowed above it."""

    requests_per_second: float = Field(default=50.0, gt=0, le=1e6,
                                       description="Sustained requests per second.")
    burst: int = Field(default=100, ge=1, le=1_000_000, description="Bucket size.")


class ApiKeySpec(SpecModel):
    """Scopes and limits of one key of the Secret (the Secret holds only the key itself)."""

    name: str = Field(pattern=KEY_NAME_PATTERN, description="The key's entry in the Secret.")
    scopes: list[Scope] = Field(min_length=1, description="predict, stream and/or admin.")
    rate_limit: RateLimitSpec | None = Field(default=None,
                                             description="Overrides spec.rateLimit for this key.")


class AuthSpec(SpecModel):
    """API keys from a Secret: every data entry is one key (name -> the key itself)."""

    secret_name: str = Field(min_length=1, max_length=253,
                             description="Secret in the deployment's namespace.")
    keys: list[ApiKeySpec] = Field(default_factory=list, max_length=100,
                                   description="Scopes per key; keys not listed get "
                                               "defaultScopes.")
    default_scopes: list[Scope] = Field(default_factory=lambda: [Scope.PREDICT, Scope.STREAM],
                                        description="Scopes of keys not listed in keys.")
    open_docs: bool = Field(default=True,
                            description="Serve /docs and /openapi.json without a key.")


class RequestLimits(SpecModel):
    """What one request or connection may ask for."""

    max_batch_rows: int = Field(default=1000, ge=1, le=100_000,
                                description="Rows per prediction request.")
    stream_queue: int = Field(default=256, ge=1, le=100_000,
                              description="Messages buffered per WebSocket client; a client "
                                          "that falls further behind is disconnected.")
    max_streams_per_key: int = Field(default=16, ge=1, le=10_000,
                                     description="Open WebSocket connections per key.")


class MonitoringSpec(SpecModel):
    """Feature and prediction drift against the training reference (PSI)."""

    window: int = Field(default=2000, ge=50, le=1_000_000,
                        description="Live rows per variant in the sliding window.")
    reference_rows: int = Field(default=5000, ge=50, le=1_000_000,
                                description="Training rows kept as the reference.")
    min_samples: int = Field(default=200, ge=10, description="Live rows before drift counts.")
    psi_threshold: float = Field(default=0.25, gt=0,
                                 description="Degraded when a feature's PSI exceeds this.")
    top_features: int = Field(default=5, ge=1, le=50,
                              description="Drifting features listed in status.")
    interval_seconds: float = Field(default=10.0, ge=0.5, le=3600,
                                    description="How often drift, outcomes and status are "
                                                "recomputed.")


class OutcomeSpec(SpecModel):
    """How a prediction is scored once its horizon has passed."""

    fee_bps: float = Field(default=10.0, ge=0, le=1000, description="Fee per side, in bps.")
    slippage_bps: float = Field(default=0.0, ge=0, le=1000, description="Slippage per side.")
    window: int = Field(default=5000, ge=10, le=1_000_000,
                        description="Scored predictions per variant kept for hit rate and AUC.")


class RolloutMode(str, Enum):
    MANUAL = "manual"
    AUTO = "auto"


class RolloutMetric(str, Enum):
    NET_RETURN = "netReturn"
    HIT = "hit"


class RolloutSpec(SpecModel):
    """A sequential test of each challenger against the champion on scored outcomes."""

    mode: RolloutMode = Field(default=RolloutMode.MANUAL,
                              description="manual only reports; auto shifts the traffic.")
    champion: str | None = Field(default=None, description="Variant name; default the first.")
    metric: RolloutMetric = Field(default=RolloutMetric.NET_RETURN,
                                  description="Paired per-candle difference tested: net return "
                                              "after costs, or hit (1 right, 0 wrong).")
    alpha: float = Field(default=0.05, gt=0, lt=0.5,
                         description="False-positive rate of the test (split over challengers).")
    min_samples: int = Field(default=100, ge=10, description="Paired outcomes before deciding.")
    mixture_scale: float = Field(
        default=0.5, gt=0, le=100,
        description="Prior scale of the effect in units of the outcome's standard deviation "
                    "(tau/sigma of the mixture SPRT).")


class ModelDeploymentSpec(ResourceSpec):
    """Desired state of a ModelDeployment."""

    variants: list[VariantSpec] = Field(
        min_length=1, max_length=MAX_VARIANTS, description="Model variants and their weights."
    )
    replicas: int = Field(default=1, ge=1, le=64,
                          description="Service replicas; each holds every variant's model.")
    route_prefix: str | None = Field(
        default=None,
        pattern=r"^/[-a-z0-9/]*$",
        description="HTTP route prefix; default /mlta/<namespace>/<name>.",
    )
    sticky_key: bool = Field(
        default=True,
        description="Route requests carrying the same key to the same variant.",
    )
    feed: FeedSpec = Field(default_factory=FeedSpec, description="Candles in.")
    auth: AuthSpec | None = Field(default=None,
                                  description="API keys; without it every endpoint is open.")
    rate_limit: RateLimitSpec | None = Field(
        default=None, description="Per-key limit; default none without auth, 50/s burst 100 "
                                  "with it.")
    limits: RequestLimits = Field(default_factory=RequestLimits, description="Request sizes.")
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec, description="Drift.")
    outcomes: OutcomeSpec = Field(default_factory=OutcomeSpec, description="Outcome scoring.")
    rollout: RolloutSpec = Field(default_factory=RolloutSpec, description="Rollout policy.")

    model_config = ResourceSpec.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.variants.map(v, v.weight).sum() == 100",
                "spec.variants[*].weight must sum to 100", ".variants"),
            cel("self.variants.all(v, self.variants.exists_one(w, w.name == v.name))",
                "spec.variants[*].name must be unique", ".variants"),
            cel("!has(self.rollout) || !has(self.rollout.champion) || "
                "self.variants.exists(v, v.name == self.rollout.champion)",
                "spec.rollout.champion must name one of spec.variants", ".rollout"),
            cel("!has(self.auth) || !has(self.auth.keys) || "
                "self.auth.keys.all(k, self.auth.keys.exists_one(j, j.name == k.name))",
                "spec.auth.keys[*].name must be unique", ".auth"),
            cel("!has(self.rollout) || !has(self.rollout.mode) || self.rollout.mode != 'auto' "
                "|| size(self.variants) >= 2",
                "spec.rollout.mode auto needs a champion and at least one challenger", ".rollout"),
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
            {"name": "Rollout", "type": "string", "jsonPath": ".status.rollout.state"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )

    def champion_name(self) -> str:
        """The variant challengers are tested against."""
        return self.rollout.champion or self.variants[0].name


class DriftItem(SpecModel):
    """One feature's PSI against the training reference."""

    feature: str = Field(description="Feature column.")
    psi: float = Field(description="Population stability index over the live window.")


class OutcomeStatus(SpecModel):
    """Scored predictions of one variant (their horizon has passed)."""

    scored: int = Field(default=0, description="Predictions scored.")
    hit_rate: float | None = Field(default=None, description="Share with the right direction.")
    auc: float | None = Field(default=None, description="ROC AUC (direction targets).")
    net_return: float | None = Field(default=None,
                                     description="Mean net return per prediction after costs.")


class VariantStatus(SpecModel):
    """What a variant serves now, and how it does."""

    name: str = Field(description="Variant name.")
    model_version: str = Field(description="Model version served.")
    model_uri: str = Field(description="Model version location.")
    weight: int = Field(description="Traffic percent (after rollout decisions).")
    requests: int | None = Field(default=None, description="Requests answered since start.")
    errors: int | None = Field(default=None, description="Requests answered with 4xx/5xx.")
    p50_ms: float | None = Field(default=None, description="Median latency (ms).")
    p99_ms: float | None = Field(default=None, description="99th percentile latency (ms).")
    top_drift: list[DriftItem] = Field(default_factory=list,
                                       description="Most drifted features.")
    prediction_psi: float | None = Field(default=None,
                                         description="PSI of the predictions vs training.")
    outcomes: OutcomeStatus | None = Field(default=None, description="Scored outcomes.")


class RolloutTest(SpecModel):
    """One challenger's sequential test against the champion."""

    challenger: str = Field(description="Variant tested.")
    samples: int = Field(description="Paired outcomes seen.")
    mean_difference: float | None = Field(default=None,
                                          description="Challenger minus champion, per outcome.")
    statistic: float | None = Field(default=None, description="Mixture likelihood ratio.")
    threshold: float = Field(description="1/alpha: the ratio that decides.")
    decision: str = Field(description="undecided, better or worse.")
    applied: bool | None = Field(default=None,
                                 description="Whether the decision moved traffic (auto mode).")


class RolloutStatus(SpecModel):
    """The sequential test and what it decided."""

    mode: str = Field(description="manual or auto.")
    state: str = Field(description="Testing, Promoted, RolledBack, Decided or Idle.")
    champion: str = Field(description="The variant challengers are tested against.")
    generation: int | None = Field(default=None, description="Spec generation tested.")
    tests: list[RolloutTest] = Field(default_factory=list, description="Per challenger.")


class ModelDeploymentStatus(CommonStatus):
    """Observed state of a ModelDeployment."""

    endpoint: str | None = Field(default=None, description="Prediction URL.")
    split: str | None = Field(default=None, description="Weights, e.g. champion=80,challenger=20.")
    app_name: str | None = Field(default=None, description="Ray Serve application name.")
    variants: list[VariantStatus] = Field(default_factory=list, description="Served variants.")
    rollout: RolloutStatus | None = Field(default=None, description="Rollout test and decision.")
    keys_hash: str | None = Field(default=None,
                                  description="Fingerprint of the API keys in use (not the keys).")
    config_hash: str | None = Field(
        default=None, description="Hash of the applied Serve application (changes trigger a redeploy)."
    )
