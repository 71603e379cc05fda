"""What the operator hands the Ray Serve application, validated by the app with these models.

Two parts, because they change differently:

- ``ServeAppArgs`` (the application builder's ``args``): what the app is: resolved model
  versions, the feed, limits, monitoring and rollout settings. Changing it redeploys.
- ``ServeUserConfig`` (the deployments' ``user_config``): what may change on live replicas
  without a restart, through Serve's ``reconfigure()``: the effective traffic weights (a
  rollout decision moves them) and the API keys, as salted SHA-256 digests only (the keys
  themselves never leave the operator, so they are neither in the Serve config, nor on the Ray
  dashboard, nor in a log line).
"""

from __future__ import annotations

from pydantic import Field

from .base import SpecModel
from .modeldeployment import (
    FeedSpec,
    MonitoringSpec,
    OutcomeSpec,
    RateLimitSpec,
    RequestLimits,
    RolloutSpec,
    Scope,
)


class ServedVariant(SpecModel):
    """One variant as served: a resolved model version and its configured traffic share."""

    name: str
    weight: int = Field(ge=0, le=100)
    model_uri: str = Field(description="Registry directory of the model version.")
    model_version: str
    allow_failed_gate: bool = Field(default=False,
                                    description="Serve the version even if it failed its gate.")


class ServeAppArgs(SpecModel):
    """Everything ``mlta.serving.app:build_app`` needs."""

    app_name: str
    namespace: str = "default"
    deployment: str = Field(default="", description="The ModelDeployment's name.")
    variants: list[ServedVariant] = Field(min_length=1)
    replicas: int = Field(default=1, ge=1)
    sticky_key: bool = True
    correlation_id: str | None = None
    auth_enabled: bool = False
    open_docs: bool = True
    feed: FeedSpec = Field(default_factory=FeedSpec)
    limits: RequestLimits = Field(default_factory=RequestLimits)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    outcomes: OutcomeSpec = Field(default_factory=OutcomeSpec)
    rollout: RolloutSpec = Field(default_factory=RolloutSpec)
    status_uri: str | None = Field(default=None,
                                   description="Where the service writes its status summary.")


class HashedKey(SpecModel):
    """One API key as the service sees it: a digest, never the key."""

    name: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="HMAC-SHA256(salt, key), hex.")
    scopes: list[Scope] = Field(min_length=1)
    rate_limit: RateLimitSpec | None = None


class ServeUserConfig(SpecModel):
    """The live-reconfigurable part (Serve ``user_config``)."""

    weights: dict[str, int] = Field(default_factory=dict,
                                    description="Effective weights; empty: the configured ones.")
    salt: str = Field(default="", description="HMAC key the digests were made with.")
    keys: list[HashedKey] = Field(default_factory=list)
    rate_limit: RateLimitSpec | None = Field(default=None, description="Default per-key limit.")
