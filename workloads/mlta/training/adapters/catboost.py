"""CatBoost behind :class:`~mlta.training.adapters.base.ModelAdapter`.

CatBoost has no public one-round update, so a model grows by continued training: each block
fits ``rounds`` more trees with ``init_model`` set to the model so far, on a Pool quantized
once. Two settings make blocks equal one call (tested): a fixed learning rate (CatBoost's
automatic rate depends on the number of iterations of the call, so mlta uses 0.1 unless
``model.catboost.learningRate`` is set) and the same seed for every block. Artifacts are
CatBoost's binary model format (``model.cbm``).
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import TrainingError
from ...specs.learners import CatBoostParams, ModelType
from .base import FitSettings, Objective, as_matrix, check_rounds

if TYPE_CHECKING:  # pragma: no cover
    import catboost as cb
    import numpy as np

ARTIFACT = "model.cbm"
#: The learning rate when the spec sets none (see the module docstring).
DEFAULT_LEARNING_RATE = 0.1


def catboost_params(params: CatBoostParams, settings: FitSettings) -> dict[str, Any]:
    """The full CatBoost parameter dict: the user's, then what mlta fixes."""
    user = params.model_dump(exclude_none=True)
    user.setdefault("learning_rate", DEFAULT_LEARNING_RATE)
    return {
        **user,
        "loss_function": "Logloss" if settings.objective is Objective.BINARY else "RMSE",
        "random_seed": settings.seed,
        "thread_count": settings.num_threads,
        "verbose": False,
        "allow_writing_files": False,
    }


class CatBoostRun:
    """A model grown block by block by continued training on one quantized Pool."""

    def __init__(self, params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                 feature_names: list[str]) -> None:
        import catboost as cb

        if len(X) == 0:
            raise TrainingError("no training rows", hint="check the dataset and the validation layout")
        self._params = params
        try:
            self._pool = cb.Pool(as_matrix(X), label=y, feature_names=list(feature_names),
                                 thread_count=params["thread_count"])
            self._pool.quantize(border_count=params.get("border_count", 254))
        except cb.CatBoostError as exc:
            raise TrainingError(f"CatBoost failed: {exc}", hint="check model.catboost") from exc
        self._model: cb.CatBoost | None = None
        self._names = list(feature_names)
        self.rounds = 0

    def advance(self, rounds: int) -> None:
        import catboost as cb

        check_rounds(rounds)
        if rounds == 0:
            return
        model = cb.CatBoost({**self._params, "iterations": rounds})
        try:
            model.fit(self._pool, init_model=self._model)
        except cb.CatBoostError as exc:
            raise TrainingError(f"CatBoost failed: {exc}", hint="check model.catboost") from exc
        self._model = model
        self.rounds += rounds

    @property
    def model(self) -> cb.CatBoost:
        if self._model is None:
            raise TrainingError("the CatBoost model has no trees yet", hint="advance it first")
        return self._model


class CatBoostAdapter:
    """Gradient boosted symmetric trees with CatBoost."""

    model_type = ModelType.CATBOOST

    def __init__(self, params: CatBoostParams | None, settings: FitSettings) -> None:
        self.settings = settings
        self.params = catboost_params(params or CatBoostParams(), settings)

    def start(self, X: np.ndarray, y: np.ndarray, feature_names: list[str]) -> CatBoostRun:
        return CatBoostRun(self.params, X, y, feature_names)

    def predict(self, model: cb.CatBoost, X: np.ndarray) -> np.ndarray:
        import numpy as np

        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        threads = self.settings.num_threads
        if self.settings.objective is Objective.BINARY:
            out = model.predict(as_matrix(X), prediction_type="Probability", thread_count=threads)[:, 1]
        else:
            out = model.predict(as_matrix(X), prediction_type="RawFormulaVal", thread_count=threads)
        return np.asarray(out, dtype=np.float64)

    def contributions(self, model: cb.CatBoost, X: np.ndarray) -> np.ndarray:
        import catboost as cb
        import numpy as np

        pool = cb.Pool(as_matrix(X), feature_names=list(model.feature_names_))
        out = model.get_feature_importance(pool, type="ShapValues",
                                           thread_count=self.settings.num_threads)
        return np.asarray(out, dtype=np.float64)

    def gain_importance(self, model: cb.CatBoost) -> np.ndarray:
        """CatBoost's ``PredictionValuesChange``: per split, the training-weighted squared
        deviation of the two children's leaf values from their mean, summed per feature (and
        normalised to 100). That is the loss reduction of the split under squared loss, the
        same idea as LightGBM's and XGBoost's gain, and it is computed from the model alone;
        ``LossFunctionChange`` needs a dataset and measures the loss without the feature."""
        import numpy as np

        out = model.get_feature_importance(type="PredictionValuesChange",
                                           thread_count=self.settings.num_threads)
        return np.asarray(out, dtype=np.float64)

    def feature_names(self, model: cb.CatBoost) -> list[str]:
        return list(model.feature_names_)

    def save(self, model: cb.CatBoost, uri: str) -> str:
        fd, path = tempfile.mkstemp(suffix=".cbm")
        os.close(fd)
        try:
            model.save_model(path, format="cbm")
            with open(path, "rb") as fh:
                data = fh.read()
        finally:
            os.unlink(path)
        storage.write_bytes_atomic(storage.join(uri, ARTIFACT), data)
        return ARTIFACT

    def load(self, uri: str) -> cb.CatBoost:
        import catboost as cb

        model = cb.CatBoost()
        try:
            model.load_model(blob=storage.read_bytes(uri))
        except cb.CatBoostError as exc:
            raise TrainingError(f"{uri} is not a CatBoost model: {exc}",
                                reason="CorruptModel") from exc
        return model
