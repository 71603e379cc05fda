"""Ensembles of the best trials: mean, rank average and stacking.

Members are combined in the margin space (log-odds for a classifier, the value for a
regression), so an ensemble's output is a probability or a value like any single model's:

- ``mean``: the average margin. Linear, so SHAP contributions average exactly.
- ``rankAverage``: each member's prediction mapped to its rank among that member's own
  out-of-fold predictions (an empirical CDF kept with the model, so one row can be ranked in
  serving), averaged; the result is a score in [0, 1] (0.5 = the members' median call). Not
  additive: no per-feature contributions.
- ``stacking``: a linear meta-learner on the members' margins (L2 logistic regression for a
  classifier, ridge regression otherwise) fitted on out-of-fold predictions only. Its own
  walk-forward estimate fits the meta-learner on the folds before each fold (the first fold,
  which has none before it, uses the mean); the final meta-learner is fitted on all of them.
  Linear in the margins, so contributions are exact (weighted sums of the members').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import TrainingError
from ..specs.trainingjob import EnsembleMethod
from .adapters import Objective

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: Points of each member's out-of-fold distribution kept for rank averaging.
REFERENCE_POINTS = 2001
#: L2 penalty of the stacking meta-learner (on standardised margins it is mild).
META_L2 = 1.0
_EPS = 1e-12


def to_margin(pred: np.ndarray, objective: Objective) -> np.ndarray:
    """Probability -> log-odds for a classifier; the value itself for a regression."""
    import numpy as np

    pred = np.asarray(pred, dtype=np.float64)
    if Objective(objective) is Objective.BINARY:
        p = np.clip(pred, _EPS, 1 - _EPS)
        return np.log(p / (1 - p))
    return pred


def from_margin(margin: np.ndarray, objective: Objective) -> np.ndarray:
    import numpy as np

    if Objective(objective) is Objective.BINARY:
        return 1.0 / (1.0 + np.exp(-margin))
    return margin


@dataclass
class Combiner:
    """How member predictions become the ensemble's (its state is JSON-serialisable)."""

    method: EnsembleMethod
    objective: Objective
    weights: list[float] = field(default_factory=list)  # per member (mean, stacking)
    intercept: float = 0.0                                # stacking
    references: list[list[float]] = field(default_factory=list)  # rankAverage: sorted OOF

    def combine(self, members: list[np.ndarray]) -> np.ndarray:
        """The ensemble's prediction from each member's prediction (same rows)."""
        import numpy as np

        if not members:
            raise TrainingError("an ensemble needs at least one member prediction")
        method = EnsembleMethod(self.method)
        if method is EnsembleMethod.RANK_AVERAGE:
            ranks = [np.searchsorted(np.asarray(ref), p, side="right") / max(len(ref), 1)
                     for ref, p in zip(self.references, members, strict=True)]
            return np.mean(ranks, axis=0)
        margins = np.column_stack([to_margin(p, self.objective) for p in members])
        combined = margins @ np.asarray(self.weights) + self.intercept
        return from_margin(combined, self.objective)

    @property
    def additive(self) -> bool:
        """Whether per-feature contributions combine exactly (mean and stacking)."""
        return EnsembleMethod(self.method) is not EnsembleMethod.RANK_AVERAGE

    def to_json(self) -> dict[str, Any]:
        return {"method": EnsembleMethod(self.method).value, "objective": Objective(self.objective).value,
                "weights": self.weights, "intercept": self.intercept, "references": self.references}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Combiner:
        return cls(method=EnsembleMethod(raw["method"]), objective=Objective(raw["objective"]),
                   weights=list(raw.get("weights", [])), intercept=float(raw.get("intercept", 0.0)),
                   references=[list(r) for r in raw.get("references", [])])


def _reference(oof: np.ndarray) -> list[float]:
    import numpy as np

    values = np.sort(oof[np.isfinite(oof)])
    if values.size > REFERENCE_POINTS:
        values = np.quantile(values, np.linspace(0, 1, REFERENCE_POINTS))
    return [float(v) for v in values]


def fit_meta(margins: np.ndarray, y: np.ndarray, objective: Objective) -> tuple[list[float], float]:
    """Linear meta-learner on member margins: weights and intercept."""
    import numpy as np

    Z = np.asarray(margins, dtype=np.float64)
    n, k = Z.shape
    A = np.column_stack([np.ones(n), Z])
    penalty = META_L2 * np.eye(k + 1)
    penalty[0, 0] = 0.0
    if Objective(objective) is Objective.REGRESSION:
        beta = np.linalg.solve(A.T @ A + penalty, A.T @ y)
    else:
        beta = np.zeros(k + 1)
        for _ in range(50):  # Newton steps (IRLS) on the penalised log-likelihood
            p = 1.0 / (1.0 + np.exp(-(A @ beta)))
            w = np.maximum(p * (1 - p), 1e-9)
            grad = A.T @ (p - y) + penalty @ beta
            hess = (A * w[:, None]).T @ A + penalty
            step = np.linalg.solve(hess, grad)
            beta -= step
            if np.max(np.abs(step)) < 1e-10:
                break
    return [float(b) for b in beta[1:]], float(beta[0])


def fit_combiner(method: EnsembleMethod, objective: Objective, oof: list[np.ndarray],
                 y: np.ndarray) -> Combiner:
    """The final combiner from each member's out-of-fold predictions (aligned rows) and labels."""
    import numpy as np

    k = len(oof)
    method = EnsembleMethod(method)
    if method is EnsembleMethod.MEAN:
        return Combiner(method, objective, weights=[1.0 / k] * k)
    if method is EnsembleMethod.RANK_AVERAGE:
        return Combiner(method, objective, references=[_reference(o) for o in oof])
    labelled = ~np.isnan(y)
    margins = np.column_stack([to_margin(o, objective) for o in oof])[labelled]
    if labelled.sum() < k + 2:
        raise TrainingError("too few labelled out-of-fold rows to fit the stacking meta-learner",
                            hint="use ensemble.method mean, or train on a longer period")
    weights, intercept = fit_meta(margins, y[labelled], objective)
    return Combiner(method, objective, weights=weights, intercept=intercept)


def out_of_fold(method: EnsembleMethod, objective: Objective, folds: list[list[np.ndarray]],
                labels: list[np.ndarray]) -> list[np.ndarray]:
    """The ensemble's own out-of-fold predictions, per fold (see the module docstring).

    ``folds[i][m]`` is member m's prediction on fold i's test rows; ``labels[i]`` their labels.
    """
    import numpy as np

    method = EnsembleMethod(method)
    if method is not EnsembleMethod.STACKING:
        members = [np.concatenate([fold[m] for fold in folds]) for m in range(len(folds[0]))]
        combiner = fit_combiner(method, objective, members, np.concatenate(labels))
        return [combiner.combine(fold) for fold in folds]
    mean = Combiner(EnsembleMethod.MEAN, objective, weights=[1.0 / len(folds[0])] * len(folds[0]))
    out = [mean.combine(folds[0])]
    for i in range(1, len(folds)):
        before = [np.concatenate([folds[j][m] for j in range(i)]) for m in range(len(folds[0]))]
        y = np.concatenate(labels[:i])
        if (~np.isnan(y)).sum() < len(before) + 2:
            out.append(mean.combine(folds[i]))
            continue
        out.append(fit_combiner(method, objective, before, y).combine(folds[i]))
    return out
