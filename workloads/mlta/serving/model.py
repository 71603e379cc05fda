"""A registered model version loaded for serving, and what its predictions mean.

All model loading of the service goes through :func:`load_served_model`: it reads the
registry metadata, checks that the version is servable, and gets the training package's
predictor (``mlta.training.predictor.load_predictor``: every learner and ensemble, the same
class the TrainingJob scored its lockbox with), so no learner library is imported here.

Target kinds decide what a prediction means:
- ``direction`` (and ``tripleBarrier``): P(class 1); ``label`` is ``up``/``down`` at
  ``target.threshold`` (default 0.5);
- ``return`` / ``volatility``: the forecast itself, no label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import registry
from ..errors import ServingError, StorageError

if TYPE_CHECKING:
    import numpy as np

CLASSIFIER_KINDS = ("direction", "tripleBarrier")
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
    from ..training.predictor import load_predictor

    try:
        predictor = load_predictor(model_uri, expected_version)
    except ServingError:
        raise
    except MltaError as exc:
        raise ServingError(f"cannot load {label} ({meta.model_type}): {exc}",
                           hint="check the artifact; supported learners load through their "
                                "training adapter") from exc
    return ServedModel(
        name=meta.name, version=meta.version, model_type=meta.model_type,
        feature_columns=list(predictor.feature_columns), target_kind=kind,
        threshold=float(meta.target.get("threshold", 0.5)),
        horizon=int(meta.target.get("horizon", 1)),
        dead_band=float(meta.target.get("deadBand", 0.0) or 0.0),
        metadata=meta, predict=predictor.predict,
        contributions=predictor.contributions if predictor.explainable else None)
