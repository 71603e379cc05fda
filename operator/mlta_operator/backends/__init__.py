"""Engine backends behind one interface; ``make_engine`` picks one from settings."""

from __future__ import annotations

from mlta.config import Backend, Settings

from .base import Engine, JobState, JobStatus, ServeState, ServeStatus


def make_engine(settings: Settings) -> Engine:
    if settings.operator.backend == Backend.KUBERAY:
        from .kuberay import KubeRayBackend

        return KubeRayBackend(settings)
    from .ray import RayBackend

    return RayBackend(settings)


__all__ = ["Engine", "JobState", "JobStatus", "ServeState", "ServeStatus", "make_engine"]
