"""Feature and prediction drift per variant: live sliding windows against the training rows.

Each variant keeps the last ``window`` feature rows it predicted on (candles and client
vectors alike) and its predictions. Every few seconds :meth:`DriftMonitor.compute` compares
each feature with the reference (training rows of the model's Gold version) by PSI over the
reference's quantile bins (``mlta.features.drift``), and the predictions with the model's own
predictions on the reference rows.

The reference is binned once, when the variant is added, and only PSI is computed: status,
metrics and the Degraded condition read PSI alone. The per-feature report with KS (scipy's
exact two-sample test over ~100 features) took seconds of the replica's CPU every interval,
in a thread holding the GIL the request loop needs (measured: 30% of a loaded replica).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..features.drift import DriftThresholds, PsiBins

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
    bins: list[PsiBins]             # per feature, over its finite reference values
    prediction_bins: PsiBins        # over the finite reference predictions


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
        t = self.thresholds
        bins = [PsiBins(reference[:, j], t.bins, t.epsilon) for j in range(len(columns))]
        self.variants[name] = VariantWindow(
            columns, reference, reference_predictions, Ring(self.window, len(columns)),
            Ring(self.window, 0), bins, PsiBins(reference_predictions, t.bins, t.epsilon))

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
            enough = self.thresholds.min_samples
            finite = np.isfinite(live).sum(axis=0)
            scored = sorted(((col, b.psi(live[:, j])) for j, (col, b) in
                             enumerate(zip(w.columns, w.bins, strict=True))
                             if b.size >= enough and finite[j] >= enough),
                            key=lambda item: -item[1])
            result["topFeatures"] = [{"feature": col, "psi": round(value, 6)}
                                     for col, value in scored[:self.top]]
            result["drifted"] = [col for col, value in scored
                                 if value > self.thresholds.psi_drift]
            preds = w.predictions.values()
            live_preds = int(np.isfinite(preds).sum())
            if live_preds >= enough and w.prediction_bins.size:
                result["predictionPsi"] = round(w.prediction_bins.psi(preds), 6)
        return out
