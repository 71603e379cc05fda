"""Walk-forward training: per-fold out-of-sample metrics, then one final model on all labels.

The core takes a DataFrame and its feature columns (not a dataset URI) so it can be tested
and run on any frame that follows the Gold contract: ``symbol``, ``close_time``, ``close``
and float feature columns, sorted by symbol then time. Rows whose features are not all
present (indicator warm-up) are dropped first; rows without a label (the last ``horizon``
bars of each symbol, the dead band of a direction target) are never trained on.

No scaler or feature selector is fitted here: tree learners need neither. Whatever is added
later must be fitted inside the fold loop on the fold's training rows only.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DataError, TrainingError
from ..specs.trainingjob import ModelType, TargetKind, TrainingJobSpec
from . import metrics as m
from .adapters import get_adapter
from .labels import make_labels, next_bar_return
from .splits import walk_forward_splits

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .adapters.base import ModelAdapter

log = logging.getLogger(__name__)

#: A training fold needs at least this many labelled rows (and both classes for direction).
MIN_TRAIN_ROWS = 20


@dataclass
class FoldResult:
    number: int
    train_rows: int
    test_rows: int
    metrics: dict[str, float]


@dataclass
class TrainingOutcome:
    """What :func:`train` produced: the final model and how it validated."""

    model: Any
    adapter: ModelAdapter
    model_type: str
    feature_columns: list[str]
    target: dict[str, Any]
    folds: list[FoldResult]
    metrics: dict[str, float]
    train_rows: int
    extra: dict[str, Any] = field(default_factory=dict)


def _check_frame(frame: pd.DataFrame, feature_columns: list[str]) -> None:
    import pandas as pd

    if not feature_columns:
        raise DataError("no feature columns to train on",
                        hint="configure features in the DataPipeline")
    missing = [c for c in ("symbol", "close_time", "close", *feature_columns)
               if c not in frame.columns]
    if missing:
        raise DataError(f"dataset lacks column(s) {missing}",
                        hint="train on a Gold dataset produced by a DataPipeline")
    bad = [c for c in feature_columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"feature column(s) {bad} are not numeric")


def _check_train(y: Any, kind: TargetKind, fold: int | str) -> None:
    import numpy as np

    if len(y) < MIN_TRAIN_ROWS:
        raise TrainingError(
            f"fold {fold} has only {len(y)} labelled training rows (need {MIN_TRAIN_ROWS})",
            hint="train on a longer period, lower validation.folds or target.deadBand",
        )
    if kind is TargetKind.DIRECTION and len(np.unique(y)) < 2:
        raise TrainingError(f"fold {fold}: training labels hold one class only",
                            hint="lower target.deadBand or train on a longer period")


def _score_fold(
    kind: TargetKind, y: Any, pred: Any, labelled: Any, test: pd.DataFrame
) -> dict[str, float]:
    import numpy as np

    if kind is TargetKind.DIRECTION:
        out = m.classification_metrics(y[labelled], pred[labelled]) if labelled.any() else {}
        signal = np.where(pred > 0.5, 1.0, -1.0)
    else:
        out = m.regression_metrics(y[labelled], pred[labelled]) if labelled.any() else {}
        signal = np.where(pred > 0.0, 1.0, -1.0)
    trades = test[["symbol", "close_time", "next_return"]].assign(signal=signal)
    out.update(m.backtest(trades))
    return out


def train(
    frame: pd.DataFrame,
    feature_columns: list[str],
    spec: TrainingJobSpec,
    *,
    num_threads: int | None = None,
) -> TrainingOutcome:
    """Validate walk-forward, then refit on every labelled row; see the module docstring."""
    import numpy as np

    _check_frame(frame, feature_columns)
    kind = TargetKind(spec.target.kind)
    adapter = get_adapter(ModelType(spec.model.type).value, spec.model, spec.target, num_threads=num_threads)
    data = frame.reset_index(drop=True)
    data = data.assign(label=make_labels(data, spec.target), next_return=next_bar_return(data))
    data = data[data[feature_columns].notna().all(axis=1)].reset_index(drop=True)
    if data.empty:
        raise DataError("every row has a missing feature",
                        hint="train on a longer period than the indicators' warm-up")
    X = data[feature_columns]
    y = data["label"].to_numpy(dtype="float64", na_value=np.nan)
    has_label = ~np.isnan(y)
    validation = spec.validation
    purge = validation.purge_bars if validation.purge_bars is not None else spec.target.horizon
    splits = walk_forward_splits(data["close_time"], folds=validation.folds,
                                 test_fraction=validation.test_fraction,
                                 purge=purge, embargo=validation.embargo_bars)
    results: list[FoldResult] = []
    for fold in splits:
        train_idx = fold.train[has_label[fold.train]]
        _check_train(y[train_idx], kind, fold.number)
        test_idx = fold.test
        labelled = has_label[test_idx]
        model = adapter.fit(X.iloc[train_idx], y[train_idx],
                            X.iloc[test_idx[labelled]], y[test_idx[labelled]])
        pred = adapter.predict(model, X.iloc[test_idx])
        scores = _score_fold(kind, y[test_idx], pred, labelled, data.iloc[test_idx])
        results.append(FoldResult(fold.number, len(train_idx), len(test_idx), scores))
        log.info("fold %d: %d train rows, %d test rows", fold.number, len(train_idx),
                 len(test_idx), extra={"fold": fold.number, **scores})
    metrics = m.mean_metrics([r.metrics for r in results])
    score_key = "auc" if kind is TargetKind.DIRECTION else "correlation"
    score = metrics.get(score_key, math.nan)
    if not math.isfinite(score):
        raise TrainingError(f"validation {score_key} is undefined in every fold",
                            hint="check that the target varies within the test folds")
    metrics["score"] = score
    all_idx = np.flatnonzero(has_label)
    _check_train(y[all_idx], kind, "final")
    final = adapter.fit(X.iloc[all_idx], y[all_idx])
    log.info("final model fitted on %d rows", len(all_idx), extra={"score": score})
    return TrainingOutcome(
        model=final,
        adapter=adapter,
        model_type=ModelType(spec.model.type).value,
        feature_columns=list(feature_columns),
        target={"kind": kind.value, "horizon": spec.target.horizon,
                "deadBand": spec.target.dead_band},
        folds=results,
        metrics=metrics,
        train_rows=len(all_idx),
    )
