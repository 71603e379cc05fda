"""LightGBM behind :class:`~mlta.training.adapters.base.ModelAdapter`.

The typed params model (:class:`mlta.specs.learners.LightGBMParams`) uses LightGBM's own
parameter names, so mapping is a dump of the set fields. A model grows one round per
``Booster.update()`` call, which is exactly the loop ``lightgbm.train`` runs, so a model grown
in blocks equals a model trained in one call. Runs are reproducible: fixed seed, fixed
threads, ``deterministic=True``, row-wise histograms. Artifacts are LightGBM's text format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import TrainingError
from ...specs.learners import LightGBMParams, ModelType
from .base import FitSettings, Objective, as_matrix, check_rounds

if TYPE_CHECKING:  # pragma: no cover
    import lightgbm as lgb
    import numpy as np

ARTIFACT = "model.txt"


def lightgbm_params(params: LightGBMParams, settings: FitSettings) -> dict[str, Any]:
    """The full LightGBM parameter dict: the user's, then what mlta fixes."""
    return {
        **params.model_dump(exclude_none=True),
        "objective": "binary" if settings.objective is Objective.BINARY else "regression",
        "seed": settings.seed,
        "num_threads": settings.num_threads,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


class LightGBMRun:
    """A booster grown round by round on one training set."""

    def __init__(self, params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                 feature_names: list[str]) -> None:
        import lightgbm as lgb

        if len(X) == 0:
            raise TrainingError("no training rows", hint="check the dataset and the validation layout")
        try:
            train_set = lgb.Dataset(as_matrix(X), label=y, feature_name=list(feature_names),
                                    params=params, free_raw_data=True)
            self._booster = lgb.Booster(params=params, train_set=train_set)
        except lgb.basic.LightGBMError as exc:
            raise TrainingError(f"LightGBM failed: {exc}", hint="check model.lightgbm") from exc
        self.rounds = 0

    def advance(self, rounds: int) -> None:
        import lightgbm as lgb

        check_rounds(rounds)
        try:
            for _ in range(rounds):
                # A True return means no split can improve the loss: later rounds add nothing.
                self._booster.update()
                self.rounds += 1
        except lgb.basic.LightGBMError as exc:
            raise TrainingError(f"LightGBM failed: {exc}", hint="check model.lightgbm") from exc

    @property
    def model(self) -> lgb.Booster:
        return self._booster


class LightGBMAdapter:
    """Gradient boosted trees with LightGBM."""

    model_type = ModelType.LIGHTGBM

    def __init__(self, params: LightGBMParams | None, settings: FitSettings) -> None:
        self.settings = settings
        self.params = lightgbm_params(params or LightGBMParams(), settings)

    def start(self, X: np.ndarray, y: np.ndarray, feature_names: list[str]) -> LightGBMRun:
        return LightGBMRun(self.params, X, y, feature_names)

    def predict(self, model: lgb.Booster, X: np.ndarray) -> np.ndarray:
        import numpy as np

        out = model.predict(as_matrix(X), num_threads=self.settings.num_threads)
        return np.asarray(out, dtype=np.float64)

    def contributions(self, model: lgb.Booster, X: np.ndarray) -> np.ndarray:
        import numpy as np

        out = model.predict(as_matrix(X), pred_contrib=True, num_threads=self.settings.num_threads)
        return np.asarray(out, dtype=np.float64)

    def gain_importance(self, model: lgb.Booster) -> np.ndarray:
        """Total gain of each feature's splits (``feature_importance("gain")``)."""
        import numpy as np

        return np.asarray(model.feature_importance(importance_type="gain"), dtype=np.float64)

    def feature_names(self, model: lgb.Booster) -> list[str]:
        return list(model.feature_name())

    def save(self, model: lgb.Booster, uri: str) -> str:
        storage.write_bytes_atomic(storage.join(uri, ARTIFACT), model.model_to_string().encode())
        return ARTIFACT

    def load(self, uri: str) -> lgb.Booster:
        import lightgbm as lgb

        text = storage.read_bytes(uri).decode()
        try:
            return lgb.Booster(model_str=text)
        except lgb.basic.LightGBMError as exc:
            raise TrainingError(f"{uri} is not a LightGBM model: {exc}",
                                reason="CorruptModel") from exc
