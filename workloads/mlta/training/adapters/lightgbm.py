"""LightGBM behind the :class:`~mlta.training.adapters.base.ModelAdapter` interface.

Hyperparameters come from the CR as camelCase keys with float values (``numLeaves: 31``),
because a CRD field cannot be an opaque map of mixed types. They are mapped onto LightGBM's
snake_case names through an explicit table: an unknown key is a SpecError naming it (a typo
must not be silently ignored, as LightGBM itself would do), integral floats become ints.
Training is reproducible: fixed seed, fixed thread count, ``deterministic=True``.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import SpecError, TrainingError
from ...specs.trainingjob import ModelSpec, TargetKind, TargetSpec

if TYPE_CHECKING:  # pragma: no cover
    import lightgbm as lgb
    import numpy as np
    import pandas as pd

ARTIFACT = "model.txt"
SEED = 42

_INT = {"num_leaves", "max_depth", "min_data_in_leaf", "bagging_freq", "max_bin",
        "min_data_per_group", "max_cat_threshold", "top_k"}
_FLOAT = {"learning_rate", "feature_fraction", "feature_fraction_bynode", "bagging_fraction",
          "lambda_l1", "lambda_l2", "min_gain_to_split", "min_sum_hessian_in_leaf",
          "path_smooth", "max_delta_step", "scale_pos_weight", "cat_smooth", "cat_l2"}
_BOOL = {"extra_trees"}
#: Common scikit-learn style names, accepted as aliases of LightGBM's own.
_ALIASES = {
    "min_child_samples": "min_data_in_leaf", "subsample": "bagging_fraction",
    "subsample_freq": "bagging_freq", "colsample_bytree": "feature_fraction",
    "reg_alpha": "lambda_l1", "reg_lambda": "lambda_l2", "min_split_gain": "min_gain_to_split",
    "min_child_weight": "min_sum_hessian_in_leaf",
}
#: Set by mlta itself; a CR must not override them.
_RESERVED = {
    "objective": "it follows target.kind", "seed": "training is seeded for reproducibility",
    "random_state": "training is seeded for reproducibility",
    "num_threads": "the thread count comes from the job's settings",
    "deterministic": "training is always deterministic",
    "num_iterations": "use model.numBoostRound", "num_boost_round": "use model.numBoostRound",
    "n_estimators": "use model.numBoostRound", "metric": "metrics are computed by mlta",
    "verbosity": "logging is managed by mlta",
}


def snake_case(key: str) -> str:
    """``numLeaves`` -> ``num_leaves``; ``lambdaL1`` -> ``lambda_l1``; snake stays snake."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def map_params(params: dict[str, float]) -> dict[str, Any]:
    """CR hyperparameters -> LightGBM parameters; SpecError names any key it cannot take."""
    out: dict[str, Any] = {}
    known = sorted(_INT | _FLOAT | _BOOL)
    for key, value in params.items():
        name = snake_case(key)
        name = _ALIASES.get(name, name)
        if name in _RESERVED:
            raise SpecError(f"model.params.{key} cannot be set: {_RESERVED[name]}",
                            hint=f"remove model.params.{key}")
        if name in _INT:
            if float(value) != int(value):
                raise SpecError(f"model.params.{key} must be a whole number, got {value}",
                                hint=f"set model.params.{key} to an integer")
            out[name] = int(value)
        elif name in _FLOAT:
            out[name] = float(value)
        elif name in _BOOL:
            if value not in (0, 1):
                raise SpecError(f"model.params.{key} is a switch: use 0 or 1, got {value}")
            out[name] = bool(value)
        else:
            camel = [re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), k) for k in known]
            raise SpecError(f"model.params.{key} is not a known LightGBM parameter",
                            hint=f"use one of {', '.join(camel)}")
    return out


def default_threads() -> int:
    """MLTA_TRAIN_THREADS, else OMP_NUM_THREADS (Ray sets it to a task's CPUs), else 1.

    One thread by default: on a small shared machine (the embedded default runs everything
    on one laptop) OpenMP threads that outnumber free cores spin and slow training down by
    an order of magnitude; a cluster job sets MLTA_TRAIN_THREADS to the CPUs it reserved.
    """
    for var in ("MLTA_TRAIN_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            threads = int(raw)
        except ValueError as exc:
            raise SpecError(f"{var}={raw!r} is not an integer",
                            hint=f"set {var} to a positive whole number") from exc
        if threads >= 1:
            return threads
    return 1


class LightGBMAdapter:
    """Gradient boosted trees with LightGBM; artifacts are LightGBM's text model format."""

    model_type = "lightgbm"

    def __init__(
        self,
        model: ModelSpec | None = None,
        target: TargetSpec | None = None,
        *,
        num_threads: int | None = None,
    ) -> None:
        model = model or ModelSpec()
        target = target or TargetSpec()
        self.num_boost_round = model.num_boost_round
        direction = TargetKind(target.kind) is TargetKind.DIRECTION
        self.params: dict[str, Any] = {
            "objective": "binary" if direction else "regression",
            "seed": SEED,
            "num_threads": num_threads or default_threads(),
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            **map_params(model.params),
        }

    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_valid: pd.DataFrame | None = None,
        y_valid: np.ndarray | None = None,
    ) -> lgb.Booster:
        """Train for exactly ``num_boost_round`` rounds.

        The validation set, when given, is only evaluated (its loss is kept in the booster's
        ``best_score``), never used to stop early: it is the walk-forward test fold, and
        choosing the round count on it would leak the test period into the fold's metrics.
        """
        import lightgbm as lgb

        if len(X) == 0:
            raise TrainingError("no training rows", hint="check the dataset and the validation layout")
        train_set = lgb.Dataset(X, label=y, params=self.params, free_raw_data=True)
        valid_sets = []
        if X_valid is not None and y_valid is not None and len(X_valid):
            valid_sets = [lgb.Dataset(X_valid, label=y_valid, reference=train_set)]
        try:
            return lgb.train(self.params, train_set, num_boost_round=self.num_boost_round,
                             valid_sets=valid_sets, valid_names=["valid"] * len(valid_sets))
        except lgb.basic.LightGBMError as exc:
            raise TrainingError(f"LightGBM failed: {exc}", hint="check model.params") from exc

    def predict(self, model: lgb.Booster, X: pd.DataFrame) -> np.ndarray:
        import numpy as np

        names = model.feature_name()
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise TrainingError(f"input lacks the model's feature(s) {missing}")
        return np.asarray(model.predict(X[names]), dtype="float64")

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
