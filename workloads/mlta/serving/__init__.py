"""The Ray Serve application of a ModelDeployment: ingress, A/B router, predictor replicas.

Import ``mlta.serving.app:build_app`` (the Serve import path); the pure pieces (``router``,
``validation``, ``model``) import no Ray, so they are unit tested on their own.
"""
