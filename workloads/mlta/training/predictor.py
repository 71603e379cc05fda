"""A model version as one predictor: the job scores the lockbox with it, serving loads it.

:class:`Predictor` takes rows over the version's ``feature_columns`` (every member's inputs),
hands each member its own columns, and combines members with the version's combiner. The
job builds it from the members it just fitted and the same class reloads a version from the
registry (:func:`load_predictor`), so the lockbox is scored exactly the way serving predicts.

``contributions`` are SHAP values in the margin space (log-odds for a classifier), one column
per feature of ``feature_columns`` plus the bias last, from each learner's own TreeSHAP; for
a mean or stacking ensemble they are the members' contributions weighted by the combiner
(exact, since those combine margins linearly); a rank-average ensemble has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import registry, storage
from ..errors import ServingError, StorageError, TrainingError
from ..specs.learners import ModelType
from .adapters import ModelAdapter, Objective, get_adapter
from .ensembles import Combiner, to_margin

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

CLASSIFICATION_KINDS = ("direction", "tripleBarrier")


@dataclass
class Member:
    """A fitted learner and where its columns sit in the version's feature columns."""

    info: registry.MemberInfo
    adapter: ModelAdapter
    model: Any
    index: np.ndarray


def objective_for(target: dict[str, Any]) -> Objective:
    return Objective.BINARY if target.get("kind") in CLASSIFICATION_KINDS else Objective.REGRESSION


def column_index(feature_columns: list[str], member_columns: list[str]) -> np.ndarray:
    import numpy as np

    position = {name: i for i, name in enumerate(feature_columns)}
    missing = [c for c in member_columns if c not in position]
    if missing:
        raise TrainingError(f"member columns {missing[:5]} are not among the version's features")
    return np.array([position[c] for c in member_columns], dtype=np.int64)


class Predictor:
    """Predictions and explanations of one model version."""

    def __init__(self, metadata: registry.ModelVersionMetadata, members: list[Member],
                 combiner: Combiner | None) -> None:
        if not members:
            raise TrainingError(f"{metadata.name}/{metadata.version} has no members")
        if len(members) > 1 and combiner is None:
            raise TrainingError(f"{metadata.name}/{metadata.version} has several members but no "
                                "combiner")
        self.metadata = metadata
        self.members = members
        self.combiner = combiner
        self.feature_columns = list(metadata.feature_columns)
        self.objective = objective_for(metadata.target)

    @property
    def explainable(self) -> bool:
        return self.combiner is None or self.combiner.additive

    def _check(self, X: np.ndarray) -> np.ndarray:
        import numpy as np

        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_columns):
            raise TrainingError(f"expected rows of {len(self.feature_columns)} features, got shape "
                                f"{X.shape}")
        return X

    def member_predictions(self, X: np.ndarray) -> list[np.ndarray]:
        X = self._check(X)
        return [m.adapter.predict(m.model, X[:, m.index]) for m in self.members]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) (classification targets) or the forecast, one per row."""
        outputs = self.member_predictions(X)
        if self.combiner is None:
            return outputs[0]
        return self.combiner.combine(outputs)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(n, features + 1) margin-space SHAP values, bias last."""
        import numpy as np

        if not self.explainable:
            raise TrainingError("a rank-average ensemble is not additive: it has no per-feature "
                                "contributions", hint="explain a single model or a mean or "
                                "stacking ensemble")
        X = self._check(X)
        weights = self.combiner.weights if self.combiner is not None else [1.0]
        out = np.zeros((X.shape[0], len(self.feature_columns) + 1))
        for member, weight in zip(self.members, weights, strict=True):
            contrib = member.adapter.contributions(member.model, X[:, member.index])
            out[:, member.index] += weight * contrib[:, :-1]
            out[:, -1] += weight * contrib[:, -1]
        if self.combiner is not None:
            out[:, -1] += self.combiner.intercept
        return out

    def margin(self, X: np.ndarray) -> np.ndarray:
        return to_margin(self.predict(X), self.objective)


def load_predictor(model_uri: str, expected_version: str | None = None) -> Predictor:
    """A registered version, ready to predict; ServingError says what is wrong with it."""
    from pydantic import ValidationError

    try:
        metadata = registry.read_metadata(model_uri)
    except ValidationError as exc:
        raise ServingError(f"{model_uri}: metadata.json does not validate: {exc}",
                           hint="re-register the model version") from exc
    if expected_version is not None and metadata.version != expected_version:
        raise ServingError(f"{model_uri} holds model version {metadata.version!r}, the deployment "
                           f"asked for {expected_version!r}",
                           hint="resolve the variant's model URI again from the TrainingJob status")
    if not metadata.feature_columns:
        raise ServingError(f"{metadata.name}/{metadata.version} lists no feature columns",
                           hint="re-register the model with its feature columns")
    objective = objective_for(metadata.target)
    members = []
    for number, info in enumerate(metadata.member_list()):
        try:
            learner = ModelType(info.learner)
        except ValueError as exc:
            raise ServingError(f"{metadata.name}/{metadata.version}: learner {info.learner!r} is "
                               f"not one of {[t.value for t in ModelType]}") from exc
        adapter = get_adapter(learner, objective=objective, num_threads=1)
        try:
            model = adapter.load(storage.join(model_uri, info.artifact))
        except (TrainingError, StorageError) as exc:  # corrupt, or missing
            raise ServingError(f"{metadata.name}/{metadata.version}: member {number} "
                               f"({learner.value}, {info.artifact}) cannot be loaded: {exc}",
                               hint="re-register the model version") from exc
        members.append(Member(info, adapter, model, column_index(metadata.feature_columns,
                                                                 info.feature_columns)))
    combiner = Combiner.from_json(metadata.ensemble) if metadata.ensemble else None
    return Predictor(metadata, members, combiner)
