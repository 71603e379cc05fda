"""The Serve import path ``mlta.serving.app:build_app``: args -> a Serve application.

The operator puts ``ServeAppArgs`` (camelCase wire JSON) into a Serve config entry::

    {"name": <app>, "route_prefix": "/mlta/<ns>/<name>",
     "import_path": "mlta.serving.app:build_app", "args": <ServeAppArgs wire JSON>,
     "deployments": [{"name": "service", "user_config": {...}}, {"name": "hub", ...}]}

Serve calls ``build_app(args)`` (an "application builder": exactly one parameter) while
deploying, inside the cluster. Everything that can be checked before replicas start is
checked here, so a bad deployment fails as DEPLOY_FAILED with a readable message instead of
replicas crash-looping: the args' shape, the split, and each variant's registry metadata.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import ValidationError
from ray import serve

from .. import registry
from ..errors import ServingError, StorageError
from ..specs.serving import ServeAppArgs
from .layout import HUB_NAME, IMPORT_PATH, INGRESS_NAME
from .model import TARGET_KINDS
from .router import Arm, validate_arms

__all__ = ["IMPORT_PATH", "build_app", "parse_args"]


def parse_args(args: dict[str, Any] | ServeAppArgs, check_models: bool = True) -> ServeAppArgs:
    """Validate builder args; ``ServingError`` naming every bad field and the fix."""
    if isinstance(args, ServeAppArgs):
        parsed = args
    else:
        try:
            parsed = ServeAppArgs.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
                for err in exc.errors())
            raise ServingError(f"invalid Serve app args: {problems}",
                               hint="args must be ServeAppArgs wire JSON (appName, variants[...])"
                               ) from exc
    validate_arms([Arm(v.name, v.weight) for v in parsed.variants])
    if check_models:
        for variant in parsed.variants:
            _check_model(variant.name, variant.model_uri, variant.model_version,
                         variant.allow_failed_gate)
    return parsed


def _check_model(variant: str, model_uri: str, version: str, allow_failed_gate: bool = False
                 ) -> None:
    try:
        meta = registry.read_metadata(model_uri)
    except (StorageError, ValidationError) as exc:
        raise ServingError(f"variant {variant!r}: cannot read model metadata at {model_uri}: {exc}",
                           hint="check modelUri; it must be a registry version directory"
                           ) from exc
    if meta.version != version:
        raise ServingError(
            f"variant {variant!r}: {model_uri} holds version {meta.version!r}, not {version!r}",
            hint="resolve the variant's model version again")
    kind = str(meta.target.get("kind", ""))
    if kind not in TARGET_KINDS:
        raise ServingError(f"variant {variant!r}: target kind {kind!r} is not servable",
                           hint=f"supported: {', '.join(TARGET_KINDS)}")
    if not meta.servable and not allow_failed_gate:
        reasons = "; ".join(meta.gate.reasons) if meta.gate is not None else ""
        raise ServingError(f"variant {variant!r}: {meta.name} {meta.version} failed its gate: "
                           f"{reasons}", hint="set the variant's allowFailedGate to serve it anyway")


def build_app(args: dict[str, Any]) -> serve.Application:
    """Serve application builder: the ``service`` ingress, bound to a ``hub`` deployment when
    it has several replicas; a single replica holds the hub itself (no Ray hop per candle)."""
    from .deployments import Hub, ServiceDeployment

    parsed = parse_args(args)
    wire = parsed.to_wire()
    # @serve.deployment turns the classes into Deployments; mypy sees the plain classes.
    service = cast(serve.Deployment, ServiceDeployment).options(name=INGRESS_NAME,
                                                                num_replicas=parsed.replicas)
    if parsed.replicas == 1:
        return service.bind(wire)
    hub = cast(serve.Deployment, Hub).options(name=HUB_NAME).bind(wire)
    return service.bind(wire, hub)
