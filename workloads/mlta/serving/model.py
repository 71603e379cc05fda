"""A registered model version loaded for serving, and what its predictions mean.

All model loading of the service goes through :func:`load_served_model`: it reads the
registry metadata, checks that the version is servable, and gets a predictor from the
training package (``mlta.training.predictor.load_predictor`` when that exists, else the
learner's adapter), so no learner library is ever imported here.

Target kinds decide what a prediction means:
- ``direction`` (and ``triple_barrier``): P(class 1); ``label`` is ``up``/``down`` at
  ``target.threshold`` (default 0.5);
- ``return`` / ``volatility``: the forecast itself, no label.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import registry
from ..errors import ServingError, StorageError

if TYPE_CHECKING:
    import numpy as np

CLASSIFIER_KINDS = ("direction", "triple_barrier")
REGRESSOR_KINDS = ("return", "volatility")
TARGET_KINDS = CLASSIFIER_KINDS + REGRESSOR_KINDS


@dataclass
class ServedModel:
    """A model version ready to predict float64 matrices in ``feature_columns`` order."""

    name: str
    version: str
    model_type: str
    feature_columns: list[str]
    target_kind: str
    threshold: float
    horizon: int
    dead_band: float
    metadata: registry.ModelVersionMetadata
    predict: Callable[[np.ndarray], np.ndarray]
    contributions: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def classifier(self) -> bool:
        return self.target_kind in CLASSIFIER_KINDS

    def label(self, value: float) -> str | None:
        """``up``/``down`` for a classifier's probability; None for a forecast."""
        if not self.classifier:
            return None
        return "up" if value >= self.threshold else "down"


def _predictor_factory() -> Callable[[str], Any] | None:
    """The training package's ``load_predictor`` once it exists (issue 7), else None."""
    try:
        module = importlib.import_module("mlta.training.predictor")
    except ModuleNotFoundError as exc:
        if exc.name != "mlta.training.predictor":
            raise
        return None
    factory: Callable[[str], Any] = module.load_predictor
    return factory


def _adapter_predict(model_uri: str, columns: list[str]) -> Callable[[np.ndarray], np.ndarray]:
    """Prediction through the learner's adapter (it wants a DataFrame with the columns)."""
    import numpy as np
    import pandas as pd

    from ..training.register import load_model

    model, _, adapter = load_model(model_uri)

    def predict(x: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(x, columns=columns, copy=False)
        return np.asarray(adapter.predict(model, frame), dtype=np.float64).reshape(-1)

    return predict


def load_served_model(model_uri: str, expected_version: str | None = None) -> ServedModel:
    """Read metadata and artifact from the registry; ServingError on anything unservable."""
    from ..errors import MltaError

    try:
        meta = registry.read_metadata(model_uri)
    except (StorageError, ValueError) as exc:
        raise ServingError(f"cannot read model metadata at {model_uri}: {exc}",
                           hint="modelUri must be a registry version directory") from exc
    label = f"{meta.name}/{meta.version}"
    if expected_version is not None and meta.version != expected_version:
        raise ServingError(
            f"{model_uri} holds model version {meta.version!r}, "
            f"the deployment asked for {expected_version!r}",
            hint="resolve the variant's model URI again from the TrainingJob status")
    kind = str(meta.target.get("kind", ""))
    if kind not in TARGET_KINDS:
        raise ServingError(f"target kind {kind!r} of {label} is unknown",
                           hint=f"expected one of: {', '.join(TARGET_KINDS)}")
    if not meta.feature_columns:
        raise ServingError(f"{label} lists no feature columns",
                           hint="re-register the model with its feature_columns")
    columns = list(meta.feature_columns)
    factory = _predictor_factory()
    contributions = None
    try:
        if factory is not None:
            predictor = factory(model_uri)
            predict = predictor.predict
            contributions = getattr(predictor, "contributions", None)
            columns = list(getattr(predictor, "feature_columns", columns))
        else:
            predict = _adapter_predict(model_uri, columns)
    except MltaError as exc:
        raise ServingError(f"cannot load {label} ({meta.model_type}): {exc}",
                           hint="check the artifact; supported learners load through their "
                                "training adapter") from exc
    return ServedModel(
        name=meta.name, version=meta.version, model_type=meta.model_type,
        feature_columns=columns, target_kind=kind,
        threshold=float(meta.target.get("threshold", 0.5)),
        horizon=int(meta.target.get("horizon", 1)),
        dead_band=float(meta.target.get("deadBand", 0.0) or 0.0),
        metadata=meta, predict=predict, contributions=contributions)
