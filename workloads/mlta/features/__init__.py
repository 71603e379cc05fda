"""The feature layer: indicators, the feature pipeline and labels.

Layout, and why:

- ``kernels/``: numba kernels on plain float64 numpy arrays, grouped by category. No pandas and
  no validation there, so the same kernels can back batch and (later) streaming forms.
- ``registry.py``: metadata for every indicator (params with defaults and bounds, inputs,
  outputs, warm-up length) and the parameter validation that runs before any kernel does.
- ``catalog/``: one module per category that registers indicators on top of the kernels.
- ``pipeline.py``: ``build_features(frame, indicators)`` for one symbol's candles.
- ``labels.py``: forward-looking targets (``y_`` columns), the only columns allowed to look ahead.

Nothing here is imported by ``mlta`` itself; numba is imported only when a kernel first runs.
"""

FEATURE_PREFIX = "f_"
LABEL_PREFIX = "y_"
