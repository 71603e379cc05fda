"""Drift statistics between a reference window (training data) and a current window (live).

Per feature: the population stability index (PSI) over quantile bins of the reference, and the
two-sample Kolmogorov-Smirnov statistic with its p-value. Serving compares the features it saw
recently against the training window with these; the report names every drifted feature and
the rule that fired, so an alert says what changed.

- PSI = sum((c - r) * ln(c / r)) over bins, r and c the reference and current fractions. Bin
  edges are the reference's interior quantiles (equal-mass bins on the reference); an empty
  bin counts as ``epsilon`` so the logarithm stays finite. Usual reading: < 0.1 stable,
  0.1-0.2 a moderate shift, > 0.2 drift.
- KS: D = max |F_ref(x) - F_cur(x)|. The p-value comes from scipy when it is installed
  (``scipy.stats.ks_2samp``, exact for small samples); otherwise from the asymptotic
  Kolmogorov distribution with Stephens' small-sample correction.
- NaN and infinite values are left out of both statistics and reported as fractions; a
  feature with fewer than ``min_samples`` finite values in a window is "insufficient", not
  "ok".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from mlta.errors import DataError
from mlta.specs.base import SpecModel

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Status = Literal["ok", "warn", "drift", "insufficient"]


class DriftThresholds(SpecModel):
    """When a feature counts as shifted (warn) or drifted."""

    psi_warn: float = Field(default=0.1, ge=0.0, description="PSI above this: warn.")
    psi_drift: float = Field(default=0.2, ge=0.0, description="PSI above this: drift.")
    ks_pvalue: float = Field(default=0.01, gt=0.0, le=1.0,
                             description="KS drift needs a p-value below this ...")
    ks_statistic: float = Field(default=0.1, ge=0.0, le=1.0,
                                description="... and D above this (large windows make tiny "
                                            "shifts significant).")
    nan_fraction_delta: float = Field(default=0.2, ge=0.0, le=1.0,
                                      description="Drift when the NaN fraction moves more.")
    min_samples: int = Field(default=30, ge=2, description="Finite values needed per window.")
    bins: int = Field(default=10, ge=2, le=1000, description="PSI quantile bins.")
    epsilon: float = Field(default=1e-4, gt=0.0, lt=1.0, description="Fraction of empty bins.")


class FeatureDrift(SpecModel):
    feature: str
    status: Status
    reasons: list[str] = Field(default_factory=list)
    psi: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    reference_count: int
    current_count: int
    reference_nan_fraction: float
    current_nan_fraction: float


class DriftReport(SpecModel):
    thresholds: DriftThresholds
    features: list[FeatureDrift]

    @property
    def drifted(self) -> list[str]:
        return [f.feature for f in self.features if f.status == "drift"]

    @property
    def any_drift(self) -> bool:
        return any(f.status == "drift" for f in self.features)

    def get(self, feature: str) -> FeatureDrift:
        for f in self.features:
            if f.feature == feature:
                return f
        raise KeyError(feature)


class PsiBins:
    """A reference's PSI bins, computed once: the edges and the reference's fractions.

    A live monitor compares the same reference with a new window every few seconds; binning
    the reference (a sort for its quantiles) each time cost more than everything else in the
    comparison. :func:`psi` is this class used once, so both give the same value bit for bit.
    """

    def __init__(self, reference: np.ndarray, bins: int = 10, epsilon: float = 1e-4) -> None:
        import numpy as np

        ref = _finite(reference)
        self.size = int(ref.size)
        self.epsilon = epsilon
        if ref.size == 0:
            self.edges = np.empty(0)
            self.fractions = np.empty(0)
            return
        self.edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
        slots = self.edges.size + 1
        r = np.bincount(np.searchsorted(self.edges, ref, side="right"), minlength=slots) / ref.size
        self.fractions = np.where(r > 0.0, r, epsilon)

    def psi(self, current: np.ndarray) -> float:
        """PSI of ``current`` (finite values only) against the reference."""
        import numpy as np

        cur = _finite(current)
        if self.size == 0 or cur.size == 0:
            raise DataError("PSI needs at least one finite value in each window",
                            hint="check the windows for NaN-only features")
        slots = self.edges.size + 1
        c = np.bincount(np.searchsorted(self.edges, cur, side="right"), minlength=slots) / cur.size
        c = np.where(c > 0.0, c, self.epsilon)
        r = self.fractions
        return float(np.sum((c - r) * np.log(c / r)))


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10,
        epsilon: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference`` (finite values only)."""
    return PsiBins(reference, bins, epsilon).psi(current)


def ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """D = sup |F_ref - F_cur| over the pooled values (finite values only)."""
    import numpy as np

    a = np.sort(_finite(reference))
    b = np.sort(_finite(current))
    if a.size == 0 or b.size == 0:
        raise DataError("KS needs at least one finite value in each window",
                        hint="check the windows for NaN-only features")
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def kolmogorov_pvalue(d: float, n1: int, n2: int) -> float:
    """Asymptotic two-sided p-value of D for samples of n1 and n2 (Stephens' correction)."""
    en = math.sqrt(n1 * n2 / (n1 + n2))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 0.2:
        return 1.0
    total = 0.0
    for j in range(1, 101):
        term = 2.0 * (-1.0) ** (j - 1) * math.exp(-2.0 * j * j * lam * lam)
        total += term
        if abs(term) < 1e-16:
            break
    return min(1.0, max(0.0, total))


def ks_2samp(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(D, p-value); scipy's p-value when scipy is installed, the asymptotic one otherwise."""
    d = ks_statistic(reference, current)
    try:
        from scipy import stats
    except ImportError:
        return d, kolmogorov_pvalue(d, _finite(reference).size, _finite(current).size)
    return d, float(stats.ks_2samp(_finite(reference), _finite(current)).pvalue)


def feature_drift(name: str, reference: np.ndarray, current: np.ndarray,
                  thresholds: DriftThresholds | None = None) -> FeatureDrift:
    """PSI, KS and a status for one feature."""
    import numpy as np

    t = thresholds or DriftThresholds()
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref_ok = _finite(ref)
    cur_ok = _finite(cur)
    ref_nan = 1.0 - ref_ok.size / ref.size if ref.size else 0.0
    cur_nan = 1.0 - cur_ok.size / cur.size if cur.size else 0.0
    base = {"feature": name, "reference_count": int(ref_ok.size),
            "current_count": int(cur_ok.size), "reference_nan_fraction": ref_nan,
            "current_nan_fraction": cur_nan}
    reasons: list[str] = []
    if abs(cur_nan - ref_nan) > t.nan_fraction_delta:
        reasons.append(f"NaN fraction {ref_nan:.3f} -> {cur_nan:.3f}")
    if min(ref_ok.size, cur_ok.size) < t.min_samples:
        return FeatureDrift(status="drift" if reasons else "insufficient", reasons=reasons
                            or [f"fewer than {t.min_samples} finite values in a window"], **base)
    value = psi(ref_ok, cur_ok, t.bins, t.epsilon)
    d, p = ks_2samp(ref_ok, cur_ok)
    if value > t.psi_drift:
        reasons.append(f"PSI {value:.3f} > {t.psi_drift:g}")
    if p < t.ks_pvalue and d > t.ks_statistic:
        reasons.append(f"KS D {d:.3f} > {t.ks_statistic:g} with p {p:.2g} < {t.ks_pvalue:g}")
    status: Status = "drift" if reasons else ("warn" if value > t.psi_warn else "ok")
    if status == "warn":
        reasons.append(f"PSI {value:.3f} > {t.psi_warn:g}")
    return FeatureDrift(status=status, reasons=reasons, psi=value, ks_statistic=d, ks_pvalue=p,
                        **base)


def drift_report(reference: pd.DataFrame, current: pd.DataFrame,
                 columns: Sequence[str] | None = None,
                 thresholds: DriftThresholds | None = None) -> DriftReport:
    """Per-feature drift between two windows (default columns: the reference's ``f_*``)."""
    import numpy as np

    from . import FEATURE_PREFIX

    t = thresholds or DriftThresholds()
    names = list(columns) if columns is not None else [
        str(c) for c in reference.columns if str(c).startswith(FEATURE_PREFIX)]
    missing = [c for c in names if c not in reference.columns or c not in current.columns]
    if missing:
        raise DataError(f"drift columns missing from a window: {missing[:5]}",
                        hint="compare windows built with the same feature set")
    features = [
        feature_drift(name,
                      reference[name].to_numpy(dtype=np.float64, na_value=np.nan),
                      current[name].to_numpy(dtype=np.float64, na_value=np.nan), t)
        for name in names
    ]
    return DriftReport(thresholds=t, features=features)


def _finite(values: np.ndarray) -> np.ndarray:
    import numpy as np

    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]
