"""Feature and prediction drift per variant: live sliding windows against the training rows.

Each variant keeps the last ``window`` feature rows it predicted on (candles and client
vectors alike) and its predictions. Every few seconds :meth:`DriftMonitor.compute` compares
each feature with the reference (training rows of the model's Gold version) using
``mlta.features.drift`` (PSI over the reference's quantile bins, KS), and the predictions
with the model's own predictions on the reference rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..features.drift import DriftThresholds, feature_drift, psi

if TYPE_CHECKING:
    import numpy as np


class Ring:
    """The last ``size`` rows of a float matrix (or vector, ``width`` 0)."""

    def __init__(self, size: int, width: int) -> None:
        import numpy as np

        self.size = size
        self.data = np.full((size, width) if width else (size,), np.nan)
        self.count = 0

    def extend(self, rows: np.ndarray) -> None:
        n = len(rows)
        if n >= self.size:
            self.data[:] = rows[-self.size:]
        else:
            at = self.count % self.size
            first = min(n, self.size - at)
            self.data[at:at + first] = rows[:first]
            self.data[:n - first] = rows[first:]
        self.count += n

    def values(self) -> np.ndarray:
        return self.data if self.count >= self.size else self.data[:self.count]


@dataclass
class VariantWindow:
    columns: list[str]
    reference: np.ndarray
    reference_predictions: np.ndarray
    rows: Ring
    predictions: Ring


class DriftMonitor:
    def __init__(self, *, window: int, min_samples: int, psi_threshold: float,
                 top: int) -> None:
        self.window = window
        self.top = top
        self.thresholds = DriftThresholds(psi_drift=psi_threshold, psi_warn=psi_threshold / 2,
                                          min_samples=min_samples)
        self.variants: dict[str, VariantWindow] = {}

    def add_variant(self, name: str, columns: list[str], reference: np.ndarray,
                    reference_predictions: np.ndarray) -> None:
        self.variants[name] = VariantWindow(columns, reference, reference_predictions,
                                            Ring(self.window, len(columns)), Ring(self.window, 0))

    def observe(self, name: str, rows: np.ndarray, predictions: np.ndarray) -> None:
        window = self.variants.get(name)
        if window is not None and len(rows):
            window.rows.extend(rows)
            window.predictions.extend(predictions)

    def compute(self) -> dict[str, dict[str, Any]]:
        """Per variant: samples, the top features by PSI, the drifted ones, prediction PSI."""
        import numpy as np

        out: dict[str, dict[str, Any]] = {}
        for name, w in self.variants.items():
            live = w.rows.values()
            result: dict[str, Any] = {"samples": int(min(w.rows.count, self.window)),
                                      "topFeatures": [], "drifted": [], "predictionPsi": None}
            out[name] = result
            if len(live) < self.thresholds.min_samples or len(w.reference) == 0:
                continue
            reports = [feature_drift(col, w.reference[:, j], live[:, j], self.thresholds)
                       for j, col in enumerate(w.columns)]
            scored = sorted((r for r in reports if r.psi is not None),
                            key=lambda r: -(r.psi or 0.0))
            result["topFeatures"] = [{"feature": r.feature, "psi": round(float(r.psi or 0.0), 6)}
                                     for r in scored[:self.top]]
            result["drifted"] = [r.feature for r in scored
                                 if (r.psi or 0.0) > self.thresholds.psi_drift]
            preds = w.predictions.values()
            finite = preds[np.isfinite(preds)]
            ref = w.reference_predictions[np.isfinite(w.reference_predictions)]
            if len(finite) >= self.thresholds.min_samples and len(ref):
                result["predictionPsi"] = round(psi(ref, finite, self.thresholds.bins,
                                                    self.thresholds.epsilon), 6)
        return out
