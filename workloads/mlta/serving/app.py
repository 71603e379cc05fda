"""The Serve import path ``mlta.serving.app:build_app``: args -> a Serve application.

The operator puts ``ServeAppArgs`` (camelCase wire JSON) into a Serve config entry::

    {"name": <app>, "route_prefix": "/mlta/<ns>/<name>",
     "import_path": "mlta.serving.app:build_app", "args": <ServeAppArgs wire JSON>}

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
from .deployments import Ingress, Predictor
from .model import SUPPORTED_TYPES
from .router import Arm, validate_arms

INGRESS_NAME = "ingress"
IMPORT_PATH = "mlta.serving.app:build_app"


def predictor_name(variant: str) -> str:
    """The Serve deployment name of a variant's predictor (also its config override key)."""
    return f"predictor-{variant}"


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
    if meta.model_type not in SUPPORTED_TYPES:
        raise ServingError(f"variant {variant!r}: model type {meta.model_type!r} is not servable",
                           hint=f"supported: {', '.join(SUPPORTED_TYPES)}")
    if not meta.servable and not allow_failed_gate:
        reasons = "; ".join(meta.gate.reasons) if meta.gate is not None else ""
        raise ServingError(f"variant {variant!r}: {meta.name} {meta.version} failed its gate: "
                           f"{reasons}", hint="set the variant's allowFailedGate to serve it anyway")


def build_app(args: dict[str, Any]) -> serve.Application:
    """Serve application builder: one ingress bound to one predictor deployment per variant."""
    parsed = parse_args(args)
    # @serve.deployment turns the classes into Deployments; mypy sees the plain classes.
    predictor, ingress = cast(serve.Deployment, Predictor), cast(serve.Deployment, Ingress)
    predictors = {
        v.name: predictor.options(name=predictor_name(v.name), num_replicas=v.replicas)
        .bind(v.to_wire())
        for v in parsed.variants
    }
    return ingress.options(name=INGRESS_NAME).bind(parsed.to_wire(), predictors)
