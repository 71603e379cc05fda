"""A mixture sequential probability ratio test (mSPRT) on paired outcome differences.

For each scored candle both the champion and a challenger made a prediction; the test looks
at d = outcome(challenger) - outcome(champion) (net return after costs, or hit 1/0) and asks
whether their mean is zero. The mixture SPRT (Robbins 1970; Johari, Pekelis and Walsh,
"Always valid inference", 2017) averages the likelihood ratio of N(mu, sigma^2) against
N(0, sigma^2) over a prior mu ~ N(0, tau^2):

    Lambda_n = sqrt(sigma^2 / (sigma^2 + n tau^2))
               * exp(n^2 tau^2 dbar^2 / (2 sigma^2 (sigma^2 + n tau^2)))

Under mu = 0, Lambda_n is a nonnegative martingale with mean 1, so by Ville's inequality
P(Lambda_n >= 1/alpha for some n) <= alpha: the test may be looked at after every outcome
and stop whenever it crosses, with the false-positive rate still at most alpha. The sign of
dbar then says better or worse. sigma^2 is estimated from the data (plug-in) and tau is
``mixture_scale`` * sigma; the plug-in is why the test waits for ``min_samples`` outcomes
(tests/unit/serving/test_sprt.py measures the false-positive rate by simulation).

Outcomes of overlapping horizons are correlated, which would make the plug-in variance too
small; the caller feeds one outcome per symbol per horizon (non-overlapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def log_mixture_ratio(n: int, mean: float, variance: float, scale: float) -> float:
    """log Lambda_n for ``n`` observations with this mean and variance (tau = scale*sigma)."""
    if n <= 0 or variance <= 0.0:
        return 0.0
    r = n * scale * scale  # n tau^2 / sigma^2
    z2 = n * mean * mean / variance
    return -0.5 * math.log1p(r) + 0.5 * z2 * r / (1.0 + r)


@dataclass
class MixtureSPRT:
    """Running sums of one paired comparison and its decision (sticky once made)."""

    alpha: float
    scale: float = 0.5
    min_samples: int = 100
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    decision: str = "undecided"

    @property
    def threshold(self) -> float:
        return 1.0 / self.alpha

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float:
        if self.n < 2:
            return 0.0
        mean = self.total / self.n
        return max(0.0, (self.total_sq - self.n * mean * mean) / (self.n - 1))

    @property
    def log_statistic(self) -> float:
        mean = self.mean
        return 0.0 if mean is None else log_mixture_ratio(self.n, mean, self.variance, self.scale)

    def add(self, difference: float) -> str:
        """One more paired difference; returns the (possibly new) decision."""
        if self.decision != "undecided" or not math.isfinite(difference):
            return self.decision
        self.n += 1
        self.total += difference
        self.total_sq += difference * difference
        if self.n >= self.min_samples and self.log_statistic >= math.log(self.threshold):
            self.decision = "better" if self.total > 0 else "worse"
        return self.decision

    def summary(self, challenger: str) -> dict[str, float | int | str | None]:
        stat = self.log_statistic
        return {"challenger": challenger, "samples": self.n, "meanDifference": self.mean,
                "statistic": math.exp(min(stat, 700.0)), "threshold": self.threshold,
                "decision": self.decision}


def crossings(differences: np.ndarray, alpha: float, scale: float = 0.5,
              min_samples: int = 100) -> np.ndarray:
    """For each row of paired differences, the sample count at which the test first decides
    (0: never), vectorized; the same rule as :meth:`MixtureSPRT.add` (simulations use it)."""
    import numpy as np

    d = np.asarray(differences, dtype=np.float64)
    n = np.arange(1, d.shape[1] + 1, dtype=np.float64)
    total = np.cumsum(d, axis=1)
    total_sq = np.cumsum(d * d, axis=1)
    mean = total / n
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.where(n > 1, (total_sq - n * mean * mean) / np.maximum(n - 1, 1), 0.0)
        r = n * scale * scale
        z2 = np.where(variance > 0, n * mean * mean / variance, 0.0)
        log_stat = np.where(variance > 0, -0.5 * np.log1p(r) + 0.5 * z2 * r / (1.0 + r), 0.0)
    hit = (log_stat >= math.log(1.0 / alpha)) & (n >= min_samples)
    first = hit.argmax(axis=1) + 1
    return np.where(hit.any(axis=1), first, 0)
