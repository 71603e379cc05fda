"""Importing this package registers every handler with kopf."""

from . import datapipeline, modeldeployment, startup, trainingjob

__all__ = ["datapipeline", "modeldeployment", "startup", "trainingjob"]
