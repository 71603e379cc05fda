"""A registered model version loaded for serving, and its prediction semantics.

Every learner and every ensemble loads through one place, the training side's predictor
(:func:`mlta.training.predictor.load_predictor`): the same class the TrainingJob scored its
lockbox with, so serving predicts exactly what was validated. No learner library is imported
here; the adapters import their own.

Target kinds decide what a prediction means:
- ``direction`` and ``tripleBarrier``: a binary classifier; ``prediction`` is P(up), ``label``
  is ``up``/``down`` (threshold ``target.threshold``, default 0.5).
- ``return`` and ``volatility``: a regressor; ``prediction`` is the forecast, no label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import MltaError, ServingError
from ..specs.learners import ModelType
from .validation import to_matrix

#: What a registered version's ``model_type`` may be: a learner, or an ensemble of them.
SUPPORTED_TYPES = (*(t.value for t in ModelType), "ensemble")
CLASSIFICATION_KINDS = ("direction", "tripleBarrier")
TARGET_KINDS = (*CLASSIFICATION_KINDS, "return", "volatility")


@dataclass
class LoadedModel:
    """A model version ready to predict: the predictor, its metadata and the label rule."""

    name: str
    version: str
    feature_columns: list[str]
    target_kind: str
    threshold: float
    predictor: Any  # mlta.training.predictor.Predictor

    @classmethod
    def load(cls, model_uri: str, expected_version: str | None = None) -> LoadedModel:
        """Read metadata and artifacts from the registry; fail loudly on anything unservable."""
        from .. import registry
        from ..training.predictor import load_predictor

        meta = registry.read_metadata(model_uri)
        if meta.model_type not in SUPPORTED_TYPES:
            raise ServingError(
                f"model type {meta.model_type!r} of {meta.name}/{meta.version} cannot be served",
                hint=f"supported types: {', '.join(SUPPORTED_TYPES)}")
        kind = str(meta.target.get("kind", ""))
        if kind not in TARGET_KINDS:
            raise ServingError(
                f"target kind {kind!r} of {meta.name}/{meta.version} is unknown",
                hint=f"expected one of: {', '.join(TARGET_KINDS)}")
        try:
            predictor = load_predictor(model_uri, expected_version)
        except ServingError:
            raise
        except MltaError as exc:
            raise ServingError(f"cannot load {meta.name}/{meta.version}: {exc}",
                               hint="re-register the model version") from exc
        for member in predictor.members:
            names = member.adapter.feature_names(member.model)
            if names and names != member.info.feature_columns:
                raise ServingError(
                    f"{meta.name}/{meta.version}: the {member.info.learner} model has "
                    f"{len(names)} features, the metadata lists {len(member.info.feature_columns)}",
                    hint="re-register the model; artifact and metadata disagree")
        threshold = float(meta.target.get("threshold", 0.5))
        return cls(name=meta.name, version=meta.version, feature_columns=list(meta.feature_columns),
                   target_kind=kind, threshold=threshold, predictor=predictor)

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Validate rows against this model's features and predict them in one call."""
        import numpy as np

        matrix = np.asarray(to_matrix(rows, self.feature_columns), dtype=np.float64)
        raw = self.predictor.predict(matrix)
        out: list[dict[str, Any]] = []
        for value in np.asarray(raw, dtype=np.float64).reshape(-1):
            item: dict[str, Any] = {"prediction": float(value)}
            if self.target_kind in CLASSIFICATION_KINDS:
                item["label"] = "up" if value >= self.threshold else "down"
            out.append(item)
        return out
