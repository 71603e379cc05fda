"""The mlta operator (control plane): thin kopf handlers, pure builders, engine backends.

The folder is ``operator/`` but the package is ``mlta_operator``: a top-level package named
``operator`` would shadow Python's standard library module.
"""
