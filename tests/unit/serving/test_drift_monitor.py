"""The drift monitor: PSI on reference bins made once gives what the drift module's report gives."""

from __future__ import annotations

import numpy as np
import pytest

from mlta.errors import DataError
from mlta.features.drift import DriftThresholds, PsiBins, feature_drift, psi
from mlta.serving.monitor import DriftMonitor


def test_psi_bins_made_once_equal_psi_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=3000)
    reference[::17] = np.nan
    bins = PsiBins(reference, 10, 1e-4)
    for shift in (0.0, 0.3, 2.0):
        current = rng.normal(shift, 1.2, size=700)
        assert bins.psi(current) == psi(reference, current)
    with pytest.raises(DataError, match="finite value"):
        PsiBins(np.full(5, np.nan)).psi(np.ones(3))
    with pytest.raises(DataError, match="finite value"):
        bins.psi(np.full(4, np.inf))


def _old_compute(reference: np.ndarray, ref_preds: np.ndarray, live: np.ndarray,
                 preds: np.ndarray, columns: list[str], t: DriftThresholds,
                 top: int) -> dict[str, object]:
    """What the monitor reported when it ran the drift module's full per-feature report."""
    reports = [feature_drift(c, reference[:, j], live[:, j], t) for j, c in enumerate(columns)]
    scored = sorted((r for r in reports if r.psi is not None), key=lambda r: -(r.psi or 0.0))
    return {"topFeatures": [{"feature": r.feature, "psi": round(float(r.psi or 0.0), 6)}
                            for r in scored[:top]],
            "drifted": [r.feature for r in scored if (r.psi or 0.0) > t.psi_drift],
            "predictionPsi": round(psi(ref_preds[np.isfinite(ref_preds)], preds, t.bins,
                                       t.epsilon), 6)}


def test_monitor_reports_what_the_full_drift_report_gives() -> None:
    rng = np.random.default_rng(7)
    columns = [f"f_{i}" for i in range(12)]
    reference = rng.normal(size=(1500, len(columns)))
    reference[:, 3] = np.nan           # a feature without reference values: never scored
    reference[::5, 4] = np.nan         # sparse, still scored
    ref_preds = rng.uniform(size=1500)
    monitor = DriftMonitor(window=400, min_samples=50, psi_threshold=0.25, top=5)
    monitor.add_variant("champion", columns, reference, ref_preds)
    shift = np.linspace(0.0, 1.5, len(columns))
    first = monitor.compute()["champion"]
    assert first == {"samples": 0, "topFeatures": [], "drifted": [], "predictionPsi": None}
    for _ in range(3):  # the ring wraps: the window is the last 400 rows
        live = rng.normal(shift, 1.0, size=(300, len(columns)))
        monitor.observe("champion", live, rng.uniform(0.2, 0.9, size=300))
    window = monitor.variants["champion"]
    result = monitor.compute()["champion"]
    expected = _old_compute(reference, ref_preds, window.rows.values(),
                            window.predictions.values(), columns, monitor.thresholds, 5)
    assert result == {"samples": 400, **expected}
    assert result["drifted"] and "f_3" not in [f["feature"] for f in result["topFeatures"]]
    monitor.observe("unknown", live, live[:, 0])  # a variant the monitor does not watch
    assert set(monitor.compute()) == {"champion"}
