"""Build the Ray Serve application for a ModelDeployment: router + one predictor per variant."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from mlta.config import Settings
from mlta.specs.modeldeployment import ModelDeploymentSpec
from mlta.specs.serving import ServeAppArgs, ServedVariant

from ..naming import default_route_prefix, serve_app_name
from .jobs import LABEL_PREFIX, owner_reference, ray_cluster_spec

IMPORT_PATH = "mlta.serving.app:build_app"


def serve_args(
    spec: ModelDeploymentSpec,
    namespace: str,
    name: str,
    resolved: dict[str, dict[str, str]],
    correlation_id: str,
) -> ServeAppArgs:
    """``resolved`` maps TrainingJob name -> {modelUri, modelVersion} read from its status."""
    return ServeAppArgs(
        app_name=serve_app_name(namespace, name),
        variants=[
            ServedVariant(
                name=v.name, weight=v.weight, replicas=v.replicas,
                allow_failed_gate=v.allow_failed_gate,
                model_uri=resolved[v.training_job]["modelUri"],
                model_version=resolved[v.training_job]["modelVersion"],
            )
            for v in spec.variants
        ],
        sticky_key=spec.sticky_key,
        correlation_id=correlation_id,
    )


def serve_application(spec: ModelDeploymentSpec, namespace: str, name: str,
                      args: ServeAppArgs) -> dict[str, Any]:
    """One entry of a Serve config's ``applications`` list."""
    return {
        "name": args.app_name,
        "route_prefix": spec.route_prefix or default_route_prefix(namespace, name),
        "import_path": IMPORT_PATH,
        "args": args.to_wire(),
        "runtime_env": {"env_vars": {"MLTA_CORRELATION_ID": args.correlation_id or ""}},
    }


def config_hash(application: dict[str, Any]) -> str:
    """Stable hash of an application entry minus the correlation id (changes per generation)."""
    stable = json.loads(json.dumps(application))
    stable.pop("runtime_env", None)
    stable["args"].pop("correlationId", None)
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


def split_summary(spec: ModelDeploymentSpec) -> str:
    return ",".join(f"{v.name}={v.weight}" for v in spec.variants)


def endpoint(settings: Settings, application: dict[str, Any]) -> str:
    return settings.ray.serve_url.rstrip("/") + str(application["route_prefix"]) + "/predict"


def rayservice_manifest(
    application: dict[str, Any], body: dict[str, Any], settings: Settings, owner_api_version: str
) -> dict[str, Any]:
    """A KubeRay RayService owned by the CR with our app as its ``serveConfigV2``."""
    meta = body["metadata"]
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {
            "name": application["name"][:47].rstrip("-"),
            "namespace": meta["namespace"],
            "labels": {f"{LABEL_PREFIX}/kind": "modeldeployment", f"{LABEL_PREFIX}/name": meta["name"]},
            "ownerReferences": [owner_reference(body, owner_api_version, "ModelDeployment")],
        },
        "spec": {
            "serveConfigV2": yaml.safe_dump({"applications": [application]}, sort_keys=True),
            "rayClusterConfig": ray_cluster_spec(settings),
        },
    }
