"""Build the Ray Serve application for a ModelDeployment: one service deployment + its hub.

The application entry carries two things that change differently: ``args`` (what is served;
a change redeploys) and, per deployment, ``user_config`` (effective weights and hashed API
keys; a change reaches live replicas through ``reconfigure()`` without a restart).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from mlta.config import Settings
from mlta.serving.layout import HUB_NAME, IMPORT_PATH, INGRESS_NAME, cluster_env, replica_env
from mlta.specs.modeldeployment import ModelDeploymentSpec
from mlta.specs.serving import ServeAppArgs, ServedVariant, ServeUserConfig

from ..naming import default_route_prefix, serve_app_name
from .jobs import LABEL_PREFIX, owner_reference, ray_cluster_spec

#: Where a RayService pod's HAProxy keeps its config and sockets (the pod's own /tmp).
HAPROXY_STATE_DIR = "/tmp/mlta-haproxy"

__all__ = ["HAPROXY_STATE_DIR", "IMPORT_PATH", "config_hash", "endpoint", "rayservice_manifest",
           "serve_application", "serve_args", "split_summary"]


def serve_args(
    spec: ModelDeploymentSpec,
    namespace: str,
    name: str,
    resolved: dict[str, dict[str, str]],
    correlation_id: str,
    status_uri: str | None = None,
) -> ServeAppArgs:
    """``resolved`` maps TrainingJob name -> {modelUri, modelVersion} read from its status."""
    return ServeAppArgs(
        app_name=serve_app_name(namespace, name),
        namespace=namespace,
        deployment=name,
        variants=[
            ServedVariant(
                name=v.name, weight=v.weight, allow_failed_gate=v.allow_failed_gate,
                model_uri=resolved[v.training_job]["modelUri"],
                model_version=resolved[v.training_job]["modelVersion"],
            )
            for v in spec.variants
        ],
        replicas=spec.replicas,
        sticky_key=spec.sticky_key,
        correlation_id=correlation_id,
        auth_enabled=spec.auth is not None,
        open_docs=spec.auth.open_docs if spec.auth is not None else True,
        feed=spec.feed,
        limits=spec.limits,
        monitoring=spec.monitoring,
        outcomes=spec.outcomes,
        rollout=spec.rollout,
        status_uri=status_uri,
    )


def serve_application(spec: ModelDeploymentSpec, namespace: str, name: str,
                      args: ServeAppArgs,
                      user_config: ServeUserConfig | None = None) -> dict[str, Any]:
    """One entry of a Serve config's ``applications`` list."""
    live = (user_config or ServeUserConfig()).to_wire()
    return {
        "name": args.app_name,
        "route_prefix": spec.route_prefix or default_route_prefix(namespace, name),
        "import_path": IMPORT_PATH,
        "args": args.to_wire(),
        "runtime_env": {"env_vars": {"MLTA_CORRELATION_ID": args.correlation_id or "",
                                     **replica_env()}},
        "deployments": [
            {"name": INGRESS_NAME, "num_replicas": spec.replicas, "user_config": live},
            # a single service replica holds the hub itself (mlta.serving.app.build_app)
            *([{"name": HUB_NAME, "user_config": live}] if spec.replicas > 1 else []),
        ],
    }


def config_hash(application: dict[str, Any]) -> str:
    """Stable hash of an application entry minus the correlation id (changes per generation)."""
    stable = json.loads(json.dumps(application))
    stable.pop("runtime_env", None)
    stable["args"].pop("correlationId", None)
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


def split_summary(spec: ModelDeploymentSpec, weights: dict[str, int] | None = None) -> str:
    """``name=weight,...``; ``weights`` are the effective ones after a rollout decision."""
    return ",".join(f"{v.name}={(weights or {}).get(v.name, v.weight)}" for v in spec.variants)


def rayservice_name(application: dict[str, Any]) -> str:
    return str(application["name"])[:47].rstrip("-")


def endpoint(settings: Settings, application: dict[str, Any], namespace: str = "") -> str:
    """Where predictions are answered: Ray Serve's proxy (ray backend), or with kuberay the
    serve Service KubeRay makes for the RayService (``<name>-serve-svc``, port 8000)."""
    if settings.operator.backend.value == "kuberay" and namespace:
        base = f"http://{rayservice_name(application)}-serve-svc.{namespace}.svc.cluster.local:8000"
    else:
        base = settings.ray.serve_url.rstrip("/")
    return base + str(application["route_prefix"]) + "/v1/predict"


def rayservice_manifest(
    application: dict[str, Any], body: dict[str, Any], settings: Settings, owner_api_version: str
) -> dict[str, Any]:
    """A KubeRay RayService owned by the CR with our app as its ``serveConfigV2``.

    Its Ray nodes run Serve behind HAProxy (``mlta.serving.layout.cluster_env``): the serve
    Service KubeRay makes then reaches the replicas' own servers through HAProxy on :8000
    instead of Serve's Python proxy (the faster layout the embedded default uses too)."""
    meta = body["metadata"]
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {
            "name": rayservice_name(application),
            "namespace": meta["namespace"],
            "labels": {f"{LABEL_PREFIX}/kind": "modeldeployment", f"{LABEL_PREFIX}/name": meta["name"]},
            "ownerReferences": [owner_reference(body, owner_api_version, "ModelDeployment")],
        },
        "spec": {
            "serveConfigV2": yaml.safe_dump({"applications": [application]}, sort_keys=True),
            "rayClusterConfig": ray_cluster_spec(settings, cluster_env(HAPROXY_STATE_DIR)),
        },
    }
