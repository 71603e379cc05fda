"""Model adapters: one Protocol (:mod:`.base`), one module per library."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import SpecError

if TYPE_CHECKING:  # pragma: no cover
    from ...specs.trainingjob import ModelSpec, TargetSpec
    from .base import ModelAdapter

MODEL_TYPES = ("lightgbm",)


def get_adapter(
    model_type: str,
    model: ModelSpec | None = None,
    target: TargetSpec | None = None,
    *,
    num_threads: int | None = None,
) -> ModelAdapter:
    """The adapter for ``model_type``; ``model``/``target`` are needed to fit, not to load.

    Raises SpecError for an unknown model type or hyperparameter.
    """
    if model_type == "lightgbm":
        from .lightgbm import LightGBMAdapter

        return LightGBMAdapter(model, target, num_threads=num_threads)
    raise SpecError(f"model.type {model_type!r} is not supported",
                    hint=f"use one of {', '.join(MODEL_TYPES)}")
