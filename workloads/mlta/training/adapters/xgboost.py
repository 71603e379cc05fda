"""XGBoost behind :class:`~mlta.training.adapters.base.ModelAdapter`.

The ``hist`` tree method on CPU. The params model's names are XGBoost's own except the two
Python keywords XGBoost spells ``lambda`` and ``alpha`` (``regLambda`` / ``regAlpha`` here, the
names of XGBoost's scikit-learn API). A model grows one round per ``Booster.update(dtrain, i)``
call, the loop ``xgboost.train`` runs, so blocks equal one call. Artifacts are XGBoost's JSON
model format (``model.json``), readable by any XGBoost >= 1.0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import TrainingError
from ...specs.learners import ModelType, XGBoostParams
from .base import FitSettings, Objective, as_matrix, check_rounds

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import xgboost as xgb

ARTIFACT = "model.json"
_RENAMED = {"reg_lambda": "lambda", "reg_alpha": "alpha"}


def xgboost_params(params: XGBoostParams, settings: FitSettings) -> dict[str, Any]:
    """The full XGBoost parameter dict: the user's, then what mlta fixes."""
    user = {_RENAMED.get(k, k): v for k, v in params.model_dump(mode="json", exclude_none=True).items()}
    return {
        **user,
        "objective": ("binary:logistic" if settings.objective is Objective.BINARY
                      else "reg:squarederror"),
        "tree_method": "hist",
        "seed": settings.seed,
        "nthread": settings.num_threads,
        "verbosity": 0,
    }


class XGBoostRun:
    """A booster grown round by round on one DMatrix."""

    def __init__(self, params: dict[str, Any], X: np.ndarray, y: np.ndarray,
                 feature_names: list[str]) -> None:
        import xgboost as xgb

        if len(X) == 0:
            raise TrainingError("no training rows", hint="check the dataset and the validation layout")
        try:
            self._dtrain = xgb.DMatrix(as_matrix(X), label=y, feature_names=list(feature_names),
                                       nthread=params["nthread"])
            self._booster = xgb.Booster(params, [self._dtrain])
        except xgb.core.XGBoostError as exc:
            raise TrainingError(f"XGBoost failed: {exc}", hint="check model.xgboost") from exc
        self.rounds = 0

    def advance(self, rounds: int) -> None:
        import xgboost as xgb

        check_rounds(rounds)
        try:
            for _ in range(rounds):
                self._booster.update(self._dtrain, self.rounds)
                self.rounds += 1
        except xgb.core.XGBoostError as exc:
            raise TrainingError(f"XGBoost failed: {str(exc)[:2000]}",
                                hint="check model.xgboost and the labels") from exc

    @property
    def model(self) -> xgb.Booster:
        return self._booster


class XGBoostAdapter:
    """Gradient boosted trees with XGBoost."""

    model_type = ModelType.XGBOOST

    def __init__(self, params: XGBoostParams | None, settings: FitSettings) -> None:
        self.settings = settings
        self.params = xgboost_params(params or XGBoostParams(), settings)

    def start(self, X: np.ndarray, y: np.ndarray, feature_names: list[str]) -> XGBoostRun:
        return XGBoostRun(self.params, X, y, feature_names)

    def _dmatrix(self, model: xgb.Booster, X: np.ndarray) -> xgb.DMatrix:
        import xgboost as xgb

        return xgb.DMatrix(as_matrix(X), feature_names=model.feature_names,
                           nthread=self.settings.num_threads)

    def predict(self, model: xgb.Booster, X: np.ndarray) -> np.ndarray:
        import numpy as np

        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        # DMatrix prediction, not inplace_predict: XGBoost documents both as equal, and the
        # DMatrix path is the one contributions use, so predictions and explanations agree.
        out = model.predict(self._dmatrix(model, X))
        return np.asarray(out, dtype=np.float64)

    def contributions(self, model: xgb.Booster, X: np.ndarray) -> np.ndarray:
        import numpy as np

        out = model.predict(self._dmatrix(model, X), pred_contribs=True)
        return np.asarray(out, dtype=np.float64)

    def gain_importance(self, model: xgb.Booster) -> np.ndarray:
        """Total gain of each feature's splits (``get_score(importance_type="total_gain")``,
        which leaves out features no split uses: they score 0)."""
        import numpy as np

        names = model.feature_names or [f"f{i}" for i in range(model.num_features())]
        scores = model.get_score(importance_type="total_gain")
        return np.array([scores.get(name, 0.0) for name in names], dtype=np.float64)

    def feature_names(self, model: xgb.Booster) -> list[str]:
        return list(model.feature_names or [])

    def save(self, model: xgb.Booster, uri: str) -> str:
        storage.write_bytes_atomic(storage.join(uri, ARTIFACT), bytes(model.save_raw("json")))
        return ARTIFACT

    def load(self, uri: str) -> xgb.Booster:
        import xgboost as xgb

        raw = storage.read_bytes(uri)
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgb.core.XGBoostError as exc:
            raise TrainingError(f"{uri} is not an XGBoost model: {exc}",
                                reason="CorruptModel") from exc
        booster.set_param({"nthread": self.settings.num_threads})
        return booster
