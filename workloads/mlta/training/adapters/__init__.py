"""Model adapters: one Protocol (:mod:`.base`), one module per learner of ``ModelType``.

Importing this package imports no learner library: :func:`get_adapter` imports the one module
it needs, so the operator, the CLI and a LightGBM-only job never load XGBoost or CatBoost.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ...errors import SpecError
from ...specs.learners import LEARNER_PARAMS, ModelType
from .base import FitSettings, ModelAdapter, Objective, default_threads

if TYPE_CHECKING:  # pragma: no cover
    from ...specs.base import SpecModel

#: Where each learner's adapter class lives, keyed by the one list of learners.
ADAPTER_CLASSES: dict[ModelType, str] = {
    ModelType.LIGHTGBM: "mlta.training.adapters.lightgbm:LightGBMAdapter",
    ModelType.XGBOOST: "mlta.training.adapters.xgboost:XGBoostAdapter",
    ModelType.CATBOOST: "mlta.training.adapters.catboost:CatBoostAdapter",
}

__all__ = ["ADAPTER_CLASSES", "FitSettings", "ModelAdapter", "Objective", "get_adapter"]


def get_adapter(
    model_type: ModelType | str,
    params: SpecModel | None = None,
    *,
    objective: Objective = Objective.BINARY,
    num_threads: int | None = None,
    seed: int | None = None,
) -> ModelAdapter:
    """The adapter of ``model_type`` with ``params`` (its params model; None = defaults).

    ``objective`` matters to fit and predict; loading a stored model for contributions or to
    re-save it works with any. Raises SpecError for an unknown learner or wrong params type.
    """
    try:
        learner = ModelType(model_type)
    except ValueError as exc:
        known = ", ".join(t.value for t in ModelType)
        raise SpecError(f"model type {model_type!r} is not supported", hint=f"use one of {known}"
                        ) from exc
    expected = LEARNER_PARAMS[learner]
    if params is not None and not isinstance(params, expected):
        raise SpecError(f"{learner.value} takes {expected.__name__}, got {type(params).__name__}")
    module_name, class_name = ADAPTER_CLASSES[learner].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    settings = FitSettings(objective=Objective(objective),
                           num_threads=num_threads or default_threads(),
                           **({"seed": seed} if seed is not None else {}))
    adapter: ModelAdapter = cls(params, settings)
    return adapter
