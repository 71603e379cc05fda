"""Settings: config/settings.yaml, an overlay chosen by MLTA_ENV, then MLTA_* variables.

Validated by pydantic at start; a bad file or value raises :class:`ConfigError` naming the
key, so a misconfigured operator fails loudly before it touches the cluster.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ConfigError

ENV_PREFIX = "MLTA_"
NESTED = "__"
ENVIRONMENTS = ("development", "testing", "production")


def cache_dir() -> Path:
    """Where mlta keeps what it builds or compiles once per machine (binaries, images, the
    kernels' machine code): ``MLTA_CACHE_DIR``, else ``~/.cache/mlta``."""
    return Path(os.environ.get("MLTA_CACHE_DIR") or Path.home() / ".cache" / "mlta")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LogSettings(_Section):
    level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    format: str = Field(default="json", pattern="^(json|text)$")


class StorageSettings(_Section):
    uri: str = "file://~/.cache/mlta/lake"

    @field_validator("uri")
    @classmethod
    def _expand_home(cls, value: str) -> str:
        if value.startswith("file://~"):
            return "file://" + os.path.expanduser(value[len("file://"):])
        if not value.startswith(("file://", "s3://")):
            raise ValueError("must start with file:// or s3://")
        return value


class RaySettings(_Section):
    dashboard_url: str = "http://127.0.0.1:8265"
    serve_url: str = "http://127.0.0.1:8000"
    request_timeout_seconds: float = Field(default=30, gt=0)
    # Ray >= 2.52 turns token authentication on for a new cluster whenever a token exists
    # (~/.ray/auth_token, RAY_AUTH_TOKEN): the dashboard then answers 401 without it.
    auth_token: SecretStr | None = Field(
        default=None, description="Ray auth token sent as 'Authorization: Bearer'")
    auth_token_file: str | None = Field(
        default=None, description="file holding the Ray auth token (a mounted Secret)")

    @field_validator("auth_token_file")
    @classmethod
    def _expand_token_path(cls, value: str | None) -> str | None:
        return os.path.expanduser(value) if value else value

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header for the dashboard, or none when no token is set.

        The file is read on every call so a rotated Secret takes effect without a restart.
        """
        token = self.auth_token.get_secret_value() if self.auth_token else None
        if token is None and self.auth_token_file:
            try:
                token = Path(self.auth_token_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"ray.auth_token_file {self.auth_token_file!r} unreadable: {exc}",
                                  hint="mount the Ray auth token Secret there or unset "
                                       "MLTA_RAY__AUTH_TOKEN_FILE") from exc
        return {"Authorization": f"Bearer {token}"} if token else {}


class Backend(str, Enum):
    RAY = "ray"
    KUBERAY = "kuberay"


class OperatorSettings(_Section):
    backend: Backend = Backend.RAY
    namespaces: list[str] = Field(default_factory=list)
    poll_interval_seconds: float = Field(
        default=3, gt=0, description="first poll of work in flight (a job, a deployment)")
    poll_max_interval_seconds: float = Field(
        default=30, gt=0, description="polls back off to this; also the health check of a "
                                      "serving deployment")
    retry_delay_seconds: float = Field(default=10, gt=0)
    job_retries: int = Field(
        default=2, ge=0, le=20,
        description="resubmissions of a job whose driver died without reporting a result "
                    "(killed, evicted, out of memory); its search resumes where it stopped")
    metrics_port: int = Field(default=9090, ge=0, le=65535, description="0 turns metrics off")
    health_port: int = Field(default=8089, ge=0, le=65535,
                             description="kopf's liveness endpoint on 127.0.0.1; 0 turns it off")


QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"


class KubeRaySettings(_Section):
    """The Ray clusters the kuberay backend asks KubeRay for (one per RayJob / RayService)."""

    # The project's Ray image (images/ray/Dockerfile): Ray + the mlta workloads + learners.
    image: str = "mlta/ray:0.1.0"
    image_pull_policy: str = Field(default="IfNotPresent", pattern="^(Always|IfNotPresent|Never)$")
    ray_version: str = "2.60.0"
    service_account: str = ""
    head_cpu: str = Field(default="1", pattern=QUANTITY)
    head_memory: str = Field(default="4Gi", pattern=QUANTITY)
    # Ray's logical CPUs on the head (rayStartParams num-cpus); None lets Ray count them.
    head_num_cpus: int | None = Field(default=None, ge=0)
    worker_replicas: int = Field(default=1, ge=0)
    worker_cpu: str = Field(default="2", pattern=QUANTITY)
    worker_memory: str = Field(default="8Gi", pattern=QUANTITY)
    # The RayJob's submitter pod (`ray job submit` + log follow); its log is the job's result.
    submitter_cpu: str = Field(default="100m", pattern=QUANTITY)
    submitter_memory: str = Field(default="512Mi", pattern=QUANTITY)
    # Secret whose keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...) every
    # Ray pod gets as environment variables: the lake's credentials on s3://.
    storage_secret: str = ""
    # How long KubeRay keeps a finished RayJob's cluster (its dashboard) before deleting it.
    ttl_seconds_after_finished: int = Field(default=120, ge=0)
    # RayJob activeDeadlineSeconds: KubeRay fails a job still unfinished after this; 0 = none.
    job_deadline_seconds: int = Field(default=0, ge=0)

    @field_validator("head_cpu", "head_memory", "worker_cpu", "worker_memory", "submitter_cpu",
                     "submitter_memory", mode="before")
    @classmethod
    def _quantity_as_text(cls, value: Any) -> Any:
        """MLTA_KUBERAY__HEAD_CPU=2 arrives as the YAML number 2: a quantity all the same."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Settings(_Section):
    env: str = Field(default="development", pattern="^(development|testing|production)$")
    log: LogSettings = Field(default_factory=LogSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ray: RaySettings = Field(default_factory=RaySettings)
    operator: OperatorSettings = Field(default_factory=OperatorSettings)
    kuberay: KubeRaySettings = Field(default_factory=KubeRaySettings)


def default_config_dir() -> Path | None:
    """MLTA_CONFIG_DIR, else the repository's config/ next to the package, else none."""
    explicit = os.environ.get("MLTA_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    candidate = Path(__file__).resolve().parents[2] / "config"
    return candidate if (candidate / "settings.yaml").exists() else None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", hint="fix the file's syntax") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return data


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """MLTA_OPERATOR__BACKEND=kuberay -> {"operator": {"backend": "kuberay"}}.

    Values are parsed as YAML scalars/flow collections so lists and numbers work.
    """
    tree: dict[str, Any] = {}
    skip = {"MLTA_ENV", "MLTA_CONFIG_DIR", "MLTA_JOB_ENVELOPE", "MLTA_CORRELATION_ID"}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in skip or NESTED not in name:
            continue
        path = name[len(ENV_PREFIX):].lower().split(NESTED)
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        try:
            node[path[-1]] = yaml.safe_load(raw) if raw else raw
        except yaml.YAMLError:
            node[path[-1]] = raw
    return tree


def load_settings(
    env: str | None = None,
    config_dir: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Load and validate settings; raise ConfigError naming the offending key."""
    environ = dict(os.environ if environ is None else environ)
    env = env or environ.get("MLTA_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"MLTA_ENV={env!r} is not an environment",
                          hint=f"use one of {', '.join(ENVIRONMENTS)}")
    config_dir = config_dir or default_config_dir()
    data: dict[str, Any] = {}
    if config_dir is not None:
        base = config_dir / "settings.yaml"
        if base.exists():
            data = _read_yaml(base)
        overlay = config_dir / f"{env}.yaml"
        if overlay.exists():
            data = _deep_merge(data, _read_yaml(overlay))
    data = _deep_merge(data, _env_overrides(environ))
    data["env"] = env
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings for environment {env!r}: {problems}",
            hint=f"check {config_dir or 'built-in defaults'} and MLTA_* variables",
        ) from exc
