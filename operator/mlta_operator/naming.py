"""Deterministic names: submission ids, correlation ids, Serve app names and routes.

A submission id depends only on the CR's uid and generation, so an operator restarted in
the middle of a reconcile computes the same id and the engine refuses a second copy.
"""

from __future__ import annotations

import hashlib
import re

KIND_PREFIX = {"DataPipeline": "dp", "TrainingJob": "tj", "ModelDeployment": "md"}


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower())[:limit].strip("-")


def submission_id(kind: str, namespace: str, name: str, uid: str, generation: int) -> str:
    """``mlta-dp-<ns>-<name>-g<gen>-<hash>``: unique per CR instance and spec generation."""
    digest = hashlib.sha256(f"{uid}/{generation}".encode()).hexdigest()[:8]
    return f"mlta-{KIND_PREFIX[kind]}-{_slug(namespace, 20)}-{_slug(name, 30)}-g{generation}-{digest}"


def correlation_id(uid: str, generation: int) -> str:
    return f"{uid[:8]}-g{generation}"


def serve_app_name(namespace: str, name: str) -> str:
    return f"mlta-{_slug(namespace, 30)}-{_slug(name, 60)}"


def default_route_prefix(namespace: str, name: str) -> str:
    return f"/mlta/{namespace}/{name}"
