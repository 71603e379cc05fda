"""The one interface every learner library sits behind.

Training, the registry and serving only talk to a :class:`ModelAdapter`, so adding XGBoost
or CatBoost is one new module here and one entry in :func:`mlta.training.adapters.get_adapter`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd


@runtime_checkable
class ModelAdapter(Protocol):
    """Fit, predict, save and load one library's models.

    ``predict`` returns the probability of class 1 for a direction target and the predicted
    forward return for a return target. ``save`` writes the artifact atomically into the
    directory ``uri`` (file:// or s3://) and returns its file name; ``load`` reads the
    artifact at ``uri`` (the directory joined with that name).
    """

    model_type: str

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_valid: pd.DataFrame | None = None,
        y_valid: np.ndarray | None = None,
    ) -> Any: ...

    def predict(self, model: Any, X: pd.DataFrame) -> np.ndarray: ...

    def save(self, model: Any, uri: str) -> str: ...

    def load(self, uri: str) -> Any: ...
