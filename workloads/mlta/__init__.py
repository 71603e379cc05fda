"""mlta: machine learning on crypto market data, the Kubernetes way.

This package is the data plane (the code Ray jobs and Ray Serve run) and it owns the one
contract both planes share: the spec models in :mod:`mlta.specs`.
"""

__version__ = "0.1.0"
