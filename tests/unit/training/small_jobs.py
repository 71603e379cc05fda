"""Small, fast TrainingJob specs and prepared data for the model-search unit tests.

Every spec here trains on :func:`gold_frames.make_gold_frame` (two symbols, 600 hourly bars,
three features) with two walk-forward folds, a lockbox and a few boosting rounds, so a whole
job runs in about a second without Ray.
"""

from __future__ import annotations

from typing import Any

from gold_frames import FEATURES, make_gold_frame

from mlta.specs import TrainingJobSpec
from mlta.training.dataset import Prepared, prepare

#: Small settings per learner (few leaves, a quick learning rate).
SMALL_PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {"numLeaves": 7, "minDataInLeaf": 20, "learningRate": 0.1},
    "xgboost": {"maxDepth": 3, "learningRate": 0.1},
    "catboost": {"depth": 3, "learningRate": 0.1},
}


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``extra``, nested dicts merged (not replaced)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def small_wire(**extra: Any) -> dict[str, Any]:
    """The wire form of a small job (camelCase keys), ``extra`` merged in."""
    base: dict[str, Any] = {
        "dataPipeline": "dp",
        "model": {"numBoostRound": 20, **SMALL_PARAMS},
        "target": {"kind": "direction", "horizon": 3},
        "validation": {"folds": 2, "testFraction": 0.2, "lockboxFraction": 0.15,
                       "minTrainRows": 50},
        "gate": {"beatBaselines": False},
    }
    return merge(base, extra)


def small_spec(**extra: Any) -> TrainingJobSpec:
    return TrainingJobSpec.model_validate(small_wire(**extra))


def small_prepared(spec: TrainingJobSpec | None = None, **frame: Any) -> Prepared:
    """``spec``'s Prepared data on a generated Gold frame (``frame`` goes to the generator)."""
    return prepare(make_gold_frame(**frame), FEATURES, spec or small_spec())
