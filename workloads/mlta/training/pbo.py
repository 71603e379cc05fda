"""Probability of Backtest Overfitting by Combinatorially Symmetric Cross-Validation.

Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting" (Journal of
Computational Finance, 2017). A search picks the trial that did best on the data it saw;
CSCV asks how that choice fares on data it did not see, using only the trials' returns: cut
time into S blocks, let every half of the blocks play in-sample and the other half
out-of-sample, and see where the in-sample winner ranks out of sample. If selection picks up
skill, the winner stays in the top half; if it picks up noise, it lands below the median
about half the time (PBO near 0.5).

Every split's metrics come from per-block sums (count, centred sums and squares, downside
squares, log growth), so a split costs one small matrix product instead of a pass over the
rows; numpy only.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any

from ..errors import TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: CSCV enumerates every split up to this many (16 blocks: 12,870) and samples beyond it.
DEFAULT_MAX_COMBINATIONS = 20_000
PBO_METRICS = ("sharpe", "sortino", "mean", "total_return")
_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class PBOResult:
    """CSCV's verdict on a search: PBO, the logits behind it and the degradation.

    ``logits`` has one value per split: ``log(w / (1 - w))`` with ``w`` the relative rank
    out of sample (rank / (N + 1)) of the trial that was best in sample; ``pbo`` is the share
    of logits <= 0. ``degradation_slope`` regresses the in-sample best's out-of-sample metric
    on its in-sample metric (negative: in-sample excellence predicts nothing or worse);
    ``prob_oos_loss`` is the share of splits where that trial loses out of sample.
    """

    pbo: float
    metric: str
    n_trials: int
    n_obs: int
    n_splits: int
    n_combinations: int
    exhaustive: bool
    logits: np.ndarray
    logit_mean: float
    logit_std: float
    logit_quantiles: dict[str, float] = field(default_factory=dict)
    degradation_slope: float = math.nan
    degradation_intercept: float = math.nan
    prob_oos_loss: float = math.nan
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """camelCase summary (without the logits array) for the registry and status."""
        return {"pbo": self.pbo, "metric": self.metric, "nTrials": self.n_trials,
                "nObs": self.n_obs, "nSplits": self.n_splits,
                "nCombinations": self.n_combinations, "exhaustive": self.exhaustive,
                "logitMean": self.logit_mean, "logitStd": self.logit_std,
                "logitQuantiles": dict(self.logit_quantiles),
                "degradationSlope": self.degradation_slope,
                "degradationIntercept": self.degradation_intercept,
                "probOosLoss": self.prob_oos_loss, "reason": self.reason}


def pbo_cscv(
    performance: Any,
    n_splits: int = 16,
    metric: str = "sharpe",
    *,
    max_combinations: int = DEFAULT_MAX_COMBINATIONS,
    seed: int = 0,
) -> PBOResult:
    """Probability of Backtest Overfitting by Combinatorially Symmetric Cross-Validation.

    ``performance`` is T x N: rows are time periods in order, columns the trials' per-period
    net returns on the same bars (NaN where a trial has no return; NaN entries are left out
    of each metric, a column without any value is dropped). The rows are cut into
    ``n_splits`` (S, even) contiguous blocks of equal size, dropping the oldest ``T mod S``
    rows. Each choice of S/2 blocks is an in-sample set and its complement the out-of-sample
    set; the trial with the best in-sample ``metric`` (sharpe, sortino, mean or
    total_return; ties go to the first) is ranked among all trials out of sample.

    There are C(S, S/2) splits (12,870 for S = 16). Beyond ``max_combinations`` they are
    sampled, deterministically from ``seed``, in complementary pairs so the sample stays
    symmetric; ``exhaustive`` says which happened. Fewer than two trials or fewer rows than
    blocks give a result with NaN figures and a ``reason``, not an exception.
    """
    import numpy as np

    matrix = np.asarray(performance, dtype="float64")
    _check_pbo_arguments(matrix, n_splits, metric, max_combinations)
    n_splits = int(n_splits)
    matrix = matrix[:, np.isfinite(matrix).any(axis=0)]
    n_obs, n_trials = matrix.shape
    if n_trials < 2:
        return _undefined(metric, n_trials, n_obs, n_splits,
                          f"PBO needs at least 2 trials with returns, got {n_trials}")
    if n_obs < n_splits:
        return _undefined(metric, n_trials, n_obs, n_splits,
                          f"PBO needs at least {n_splits} periods (one per block), got {n_obs}")
    sums, centre = _block_sums(matrix[n_obs % n_splits:], n_splits)
    stacked = sums.transpose(1, 0, 2).reshape(n_splits, -1)
    whole = stacked.sum(axis=0)
    membership, exhaustive = _splits(n_splits, max_combinations, seed)
    best_in, best_out, logits = [], [], []
    for start in range(0, len(membership), _CHUNK):
        ins = membership[start:start + _CHUNK].astype("float64") @ stacked
        outs = whole - ins  # the out-of-sample blocks are the complement
        shape = (len(ins), len(sums), n_trials)
        a, b, lam = _rank_logits(_metric(metric, ins.reshape(shape), centre),
                                 _metric(metric, outs.reshape(shape), centre))
        best_in.append(a)
        best_out.append(b)
        logits.append(lam)
    return _summarise(metric, n_trials, n_obs, n_splits, exhaustive,
                      np.concatenate(best_in), np.concatenate(best_out), np.concatenate(logits))


def _check_pbo_arguments(matrix: np.ndarray, n_splits: int, metric: str,
                         max_combinations: int) -> None:
    if matrix.ndim != 2:
        raise TrainingError(f"performance must be a T x N matrix, got {matrix.ndim} dimension(s)",
                            hint="rows are periods, columns are the trials' returns")
    if (isinstance(n_splits, bool) or not isinstance(n_splits, Integral) or n_splits < 2
            or n_splits % 2):
        raise TrainingError(f"n_splits must be an even whole number >= 2, got {n_splits!r}",
                            hint="CSCV splits time into S even blocks, half in sample; 16 is usual")
    if metric not in PBO_METRICS:
        raise TrainingError(f"unknown PBO metric {metric!r}", hint=f"use one of {PBO_METRICS}")
    if max_combinations < 2:
        raise TrainingError(f"max_combinations must be >= 2, got {max_combinations}")


def _block_sums(matrix: np.ndarray, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """Additive statistics per block and trial, so any union of blocks is a sum of rows.

    Returns (6 x S x N: count, centred sum, centred square sum, downside squares, log growth
    of the surviving returns, number of total losses) and the column means the centring
    removed (centring keeps the variance from cancelling catastrophically).
    """
    import numpy as np

    finite = np.isfinite(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.nanmean(matrix, axis=0)
    raw = np.where(finite, matrix, 0.0)
    centred = np.where(finite, matrix - centre, 0.0)
    ruin = raw <= -1.0
    growth = np.log1p(np.where(ruin, 0.0, raw))
    parts = (finite, centred, centred**2, np.minimum(raw, 0.0) ** 2, growth, ruin)
    shape = (n_splits, matrix.shape[0] // n_splits, matrix.shape[1])
    sums = np.stack([np.asarray(p, dtype="float64").reshape(shape).sum(axis=1) for p in parts])
    return sums, centre


def _splits(n_splits: int, max_combinations: int, seed: int) -> tuple[np.ndarray, bool]:
    """Boolean membership (C x S) of the in-sample blocks of every split used."""
    import numpy as np

    half = n_splits // 2
    if math.comb(n_splits, half) <= max_combinations:
        picks = list(itertools.combinations(range(n_splits), half))
        exhaustive = True
    else:
        rng = np.random.default_rng(seed)
        target = max_combinations - max_combinations % 2
        seen: set[tuple[int, ...]] = set()
        while len(seen) < target:
            for row in np.sort(rng.random((target, n_splits)).argsort(axis=1)[:, :half], axis=1):
                pick = tuple(int(v) for v in row)
                if pick not in seen and len(seen) < target:
                    seen.add(pick)
                    seen.add(tuple(sorted(set(range(n_splits)) - set(pick))))
        picks = sorted(seen)
        exhaustive = False
    membership = np.zeros((len(picks), n_splits), dtype=bool)
    for row, pick in enumerate(picks):
        membership[row, list(pick)] = True
    return membership, exhaustive


def _metric(metric: str, sums: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The metric of every (split, trial) from its summed block statistics; NaN if undefined."""
    import numpy as np

    count, s1, s2, down, growth, ruin = (sums[:, k] for k in range(sums.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        centred_mean = s1 / count
        mean = centred_mean + centre
        if metric == "mean":
            out = mean
        elif metric == "total_return":
            out = np.where(ruin > 0.5, -1.0, np.expm1(growth))
        elif metric == "sharpe":
            variance = (s2 - s1 * centred_mean) / (count - 1.0)
            ok = (count >= 2) & (variance > 1e-20 * mean**2) & (variance > 0)
            out = np.where(ok, mean / np.sqrt(np.where(ok, variance, 1.0)), np.nan)
        else:
            deviation = np.sqrt(down / count)
            out = np.where(deviation > 0, mean / np.where(deviation > 0, deviation, 1.0), np.nan)
    return np.where(count > 0.5, out, np.nan)


def _rank_logits(ins: np.ndarray, outs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-sample best's (IS metric, OOS metric, logit of OOS relative rank) per split.

    Undefined metrics rank last; ties share their average rank. Splits where no trial has
    an in-sample metric are left out.
    """
    import numpy as np

    valid = np.isfinite(ins).any(axis=1)
    ins, outs = ins[valid], outs[valid]
    best = np.argmax(np.where(np.isfinite(ins), ins, -np.inf), axis=1)
    rows = np.arange(len(best))
    ranked = np.where(np.isfinite(outs), outs, -np.inf)
    target = ranked[rows, best][:, None]
    rank = (ranked < target).sum(axis=1) + ((ranked == target).sum(axis=1) + 1) / 2.0
    omega = rank / (outs.shape[1] + 1.0)
    return ins[rows, best], outs[rows, best], np.log(omega / (1.0 - omega))


def _summarise(metric: str, n_trials: int, n_obs: int, n_splits: int, exhaustive: bool,
               best_in: np.ndarray, best_out: np.ndarray, logits: np.ndarray) -> PBOResult:
    import numpy as np

    if logits.size == 0:
        return _undefined(metric, n_trials, n_obs, n_splits,
                          f"no trial has a defined in-sample {metric} in any split")
    pairs = np.isfinite(best_in) & np.isfinite(best_out)
    slope = intercept = math.nan
    if pairs.sum() >= 2 and np.ptp(best_in[pairs]) > 0:
        slope, intercept = (float(v) for v in np.polyfit(best_in[pairs], best_out[pairs], 1))
    finite_out = best_out[np.isfinite(best_out)]
    levels = {"q05": 0.05, "q25": 0.25, "q50": 0.5, "q75": 0.75, "q95": 0.95}
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)), metric=metric, n_trials=n_trials, n_obs=n_obs,
        n_splits=n_splits, n_combinations=int(logits.size), exhaustive=exhaustive,
        logits=logits, logit_mean=float(logits.mean()),
        logit_std=float(logits.std(ddof=1)) if logits.size > 1 else math.nan,
        logit_quantiles={k: float(np.quantile(logits, q)) for k, q in levels.items()},
        degradation_slope=slope, degradation_intercept=intercept,
        prob_oos_loss=float(np.mean(finite_out < 0.0)) if finite_out.size else math.nan,
    )


def _undefined(metric: str, n_trials: int, n_obs: int, n_splits: int, reason: str) -> PBOResult:
    import numpy as np

    return PBOResult(pbo=math.nan, metric=metric, n_trials=n_trials, n_obs=n_obs,
                     n_splits=n_splits, n_combinations=0, exhaustive=False,
                     logits=np.empty(0), logit_mean=math.nan, logit_std=math.nan,
                     reason=reason)
