"""A registered model version loaded for serving, and its prediction semantics.

The registry (``mlta.registry``) holds the artifact and its metadata. The artifact bytes are
read through ``mlta.storage`` (so ``s3://`` registries work too) and handed to LightGBM as a
model string; no local copy is needed.

Target kinds decide what a prediction means:
- ``direction``: a binary classifier; ``prediction`` is P(up), ``label`` is ``up``/``down``
  (threshold ``target.threshold``, default 0.5).
- ``return``: a regressor; ``prediction`` is the forecast return, no label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import registry, storage
from ..errors import ServingError
from .validation import to_matrix

SUPPORTED_TYPES = ("lightgbm",)
TARGET_KINDS = ("direction", "return")


@dataclass
class LoadedModel:
    """A model version ready to predict: booster, metadata and the label rule."""

    name: str
    version: str
    feature_columns: list[str]
    target_kind: str
    threshold: float
    booster: Any  # lightgbm.Booster

    @classmethod
    def load(cls, model_uri: str, expected_version: str | None = None) -> LoadedModel:
        """Read metadata and artifact from the registry; fail loudly on anything unservable."""
        meta = registry.read_metadata(model_uri)
        if expected_version is not None and meta.version != expected_version:
            raise ServingError(
                f"{model_uri} holds model version {meta.version!r}, "
                f"the deployment asked for {expected_version!r}",
                hint="resolve the variant's model URI again from the TrainingJob status")
        if meta.model_type not in SUPPORTED_TYPES:
            raise ServingError(
                f"model type {meta.model_type!r} of {meta.name}/{meta.version} cannot be served",
                hint=f"supported types: {', '.join(SUPPORTED_TYPES)}")
        kind = str(meta.target.get("kind", ""))
        if kind not in TARGET_KINDS:
            raise ServingError(
                f"target kind {kind!r} of {meta.name}/{meta.version} is unknown",
                hint=f"expected one of: {', '.join(TARGET_KINDS)}")
        if not meta.feature_columns:
            raise ServingError(f"{meta.name}/{meta.version} lists no feature columns",
                               hint="re-register the model with its feature_columns")
        import lightgbm as lgb

        text = storage.read_bytes(storage.join(model_uri, meta.artifact)).decode("utf-8")
        try:
            booster = lgb.Booster(model_str=text)
        except lgb.basic.LightGBMError as exc:
            raise ServingError(f"cannot load {meta.artifact} of {meta.name}/{meta.version}: {exc}",
                               hint="the artifact must be a LightGBM text model") from exc
        if booster.num_model_per_iteration() != 1:
            raise ServingError(
                f"{meta.name}/{meta.version} is a multi-class model; serving expects one output",
                hint="train direction as a binary objective and return as a regression")
        if booster.num_feature() != len(meta.feature_columns):
            raise ServingError(
                f"{meta.name}/{meta.version}: the booster has {booster.num_feature()} features, "
                f"the metadata lists {len(meta.feature_columns)}",
                hint="re-register the model; artifact and metadata disagree")
        threshold = float(meta.target.get("threshold", 0.5))
        return cls(name=meta.name, version=meta.version, feature_columns=list(meta.feature_columns),
                   target_kind=kind, threshold=threshold, booster=booster)

    def predict_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Validate rows against this model's features and predict them in one call."""
        import numpy as np

        matrix = np.asarray(to_matrix(rows, self.feature_columns), dtype=np.float64)
        raw = self.booster.predict(matrix, num_threads=1)
        out: list[dict[str, Any]] = []
        for value in np.asarray(raw, dtype=np.float64).reshape(-1):
            item: dict[str, Any] = {"prediction": float(value)}
            if self.target_kind == "direction":
                item["label"] = "up" if value >= self.threshold else "down"
            out.append(item)
        return out
