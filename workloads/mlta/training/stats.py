"""Selection-bias statistics over a whole search: PSR, the Deflated Sharpe Ratio and PBO.

A search that tries many models and keeps the best one reports an inflated Sharpe ratio:
the best of N noise strategies looks skilled. These statistics say how much of the chosen
model's backtest survives that selection:

- :func:`probabilistic_sharpe_ratio` (Bailey & López de Prado, "The Sharpe Ratio Efficient
  Frontier", 2012): the probability that the true Sharpe ratio exceeds a benchmark, given
  the sample's length, skewness and kurtosis.
- :func:`deflated_sharpe_ratio` (Bailey & López de Prado, "The Deflated Sharpe Ratio",
  2014): the PSR against the Sharpe ratio the best of N independent skill-less trials is
  expected to reach (:func:`expected_max_sharpe`, the False Strategy theorem).
- :func:`~mlta.training.pbo.pbo_cscv` (Bailey, Borwein, López de Prado & Zhu, "The
  Probability of Backtest Overfitting", 2017): how often the in-sample best of the trials
  falls below the median of the trials out of sample, over combinatorially symmetric splits
  of time. It lives in :mod:`mlta.training.pbo` and is importable from here.

Every Sharpe ratio here is per period (not annualised): the formulas count observations.
Only numpy and the standard library's normal distribution are used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from ..errors import TrainingError
from .pbo import DEFAULT_MAX_COMBINATIONS, PBO_METRICS, PBOResult, pbo_cscv

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

EULER_MASCHERONI = 0.5772156649015329
#: Fewest returns for which skewness and kurtosis (and so the PSR) are computed.
MIN_DSR_OBSERVATIONS = 4
_NORMAL = NormalDist()

__all__ = [
    "DEFAULT_MAX_COMBINATIONS", "EULER_MASCHERONI", "MIN_DSR_OBSERVATIONS", "PBO_METRICS",
    "DeflatedSharpe", "PBOResult", "deflated_sharpe_ratio", "expected_max_sharpe", "pbo_cscv",
    "probabilistic_sharpe_ratio", "sharpe_ratio", "trial_sharpes",
]


def sharpe_ratio(returns: Any) -> float:
    """Per-period Sharpe ratio (mean over sample standard deviation) of the finite values."""
    import numpy as np

    values = np.asarray(returns, dtype="float64").ravel()
    values = values[np.isfinite(values)]
    if values.size < 2 or np.ptp(values) == 0.0:
        return math.nan
    return float(values.mean() / values.std(ddof=1))


def trial_sharpes(performance: Any) -> np.ndarray:
    """Per-period Sharpe ratio of every column of a T x N matrix of trial returns."""
    import numpy as np

    matrix = np.asarray(performance, dtype="float64")
    if matrix.ndim != 2:
        raise TrainingError(f"trial returns must be a T x N matrix, got {matrix.ndim} dimension(s)")
    return np.array([sharpe_ratio(matrix[:, n]) for n in range(matrix.shape[1])])


def probabilistic_sharpe_ratio(
    sr: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0, sr_benchmark: float = 0.0
) -> float:
    """P(true SR > ``sr_benchmark``) for an observed per-period ``sr`` over ``n_obs`` returns.

    ``Z[(sr - sr*) sqrt(n - 1) / sqrt(1 - skew sr + (kurtosis - 1) / 4 sr^2)]`` with Z the
    standard normal CDF and ``kurtosis`` the raw (Pearson) kurtosis, 3 for normal returns.
    Negative skew and fat tails widen the Sharpe ratio's error and so lower the PSR. NaN
    when undefined (fewer than two observations, non-finite inputs, a degenerate variance).
    """
    values = (sr, skew, kurtosis, sr_benchmark)
    if n_obs < 2 or not all(math.isfinite(v) for v in values):
        return math.nan
    variance = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if variance <= 0.0:
        return math.nan
    return _NORMAL.cdf((sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(variance))


def expected_max_sharpe(n_trials: int, sr_variance: float) -> float:
    """Expected maximum per-period Sharpe ratio of ``n_trials`` independent skill-less trials.

    The False Strategy theorem: ``sqrt(V) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e)))``
    with ``V`` the variance of the trials' Sharpe ratios and ``g`` the Euler-Mascheroni
    constant. One trial (or trials that all agree) has nothing to select from: 0.
    The theorem counts independent trials; a search whose trials are strongly correlated
    has fewer effective trials than ``n_trials``, so counting them all errs on the strict side.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, Integral) or n_trials < 1:
        raise TrainingError(f"n_trials must be a whole number >= 1, got {n_trials!r}",
                            hint="count every trial the search ran, the chosen one included")
    if not math.isfinite(sr_variance) or sr_variance < 0:
        raise TrainingError(f"sr_variance must be a finite number >= 0, got {sr_variance}")
    n_trials = int(n_trials)
    if n_trials == 1 or sr_variance == 0.0:
        return 0.0
    quantiles = ((1.0 - EULER_MASCHERONI) * _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
                 + EULER_MASCHERONI * _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e)))
    return math.sqrt(sr_variance) * quantiles


@dataclass(frozen=True)
class DeflatedSharpe:
    """The DSR of the chosen strategy with what it was computed from (per-period figures).

    ``reason`` says why the figures are NaN when they are (too short, no variance).
    """

    dsr: float
    psr: float
    sr: float
    sr0: float
    n_trials: int
    n_obs: int
    skew: float
    kurtosis: float
    sr_variance: float
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """camelCase figures for the registry and the TrainingJob status."""
        return {"dsr": self.dsr, "psr": self.psr, "sr": self.sr, "sr0": self.sr0,
                "nTrials": self.n_trials, "nObs": self.n_obs, "skew": self.skew,
                "kurtosis": self.kurtosis, "srVariance": self.sr_variance,
                "reason": self.reason}


def deflated_sharpe_ratio(
    returns_of_chosen: Any, trial_sharpes: Any, *, n_trials: int | None = None
) -> DeflatedSharpe:
    """The Deflated Sharpe Ratio of the chosen strategy's per-period net returns.

    ``trial_sharpes`` are the per-period Sharpe ratios of every trial of the search, the
    chosen one included, on the same bars (see :func:`trial_sharpes`); their sample
    variance (ddof 1) sets the benchmark :func:`expected_max_sharpe`. ``n_trials`` defaults
    to the number of finite trial Sharpe ratios (at least 1); pass it to also count trials
    whose Sharpe is undefined. With one trial the DSR is the PSR against 0. Skewness and
    kurtosis are the sample's population moments; NaN returns are left out.
    """
    import numpy as np

    values = np.asarray(returns_of_chosen, dtype="float64").ravel()
    values = values[np.isfinite(values)]
    sharpes = np.asarray(trial_sharpes, dtype="float64").ravel()
    sharpes = sharpes[np.isfinite(sharpes)]
    trials = n_trials if n_trials is not None else max(1, int(sharpes.size))
    spread = sharpes.size >= 2 and np.ptp(sharpes) > 0  # identical trials: exactly no spread
    variance = float(np.var(sharpes, ddof=1)) if spread else 0.0
    sr0 = expected_max_sharpe(trials, variance)
    trials = int(trials)
    nan = math.nan
    if values.size < MIN_DSR_OBSERVATIONS:
        return DeflatedSharpe(nan, nan, nan, sr0, trials, int(values.size), nan, nan, variance,
                              reason=f"the chosen strategy has {values.size} returns "
                                     f"(need {MIN_DSR_OBSERVATIONS})")
    if np.ptp(values) == 0.0:
        return DeflatedSharpe(nan, nan, nan, sr0, trials, int(values.size), nan, nan, variance,
                              reason="the chosen strategy's returns have no variance")
    deviation = values - values.mean()
    m2 = float(np.mean(deviation**2))
    skew = float(np.mean(deviation**3)) / m2**1.5
    kurtosis = float(np.mean(deviation**4)) / m2**2
    sr = float(values.mean() / values.std(ddof=1))
    n_obs = int(values.size)
    return DeflatedSharpe(
        dsr=probabilistic_sharpe_ratio(sr, n_obs, skew, kurtosis, sr0),
        psr=probabilistic_sharpe_ratio(sr, n_obs, skew, kurtosis, 0.0),
        sr=sr, sr0=sr0, n_trials=trials, n_obs=n_obs, skew=skew, kurtosis=kurtosis,
        sr_variance=variance,
    )
