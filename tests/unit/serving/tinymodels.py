"""Tiny real LightGBM models trained on recorded candles and written in the registry format.

Serving tests need registered model versions before the real trainer exists; these are
genuinely trained (a few trees on real returns), so predictions vary with the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from mlta import registry, storage

ALL_FEATURES = ["ret_1", "ret_3", "ret_6", "vol_6", "range_hl"]


def candle_features(candles: Path) -> pd.DataFrame:
    """Past-only features and next-bar targets from one candles file."""
    df = pd.read_feather(candles)
    close = df["close"]
    out = pd.DataFrame({
        "ret_1": close.pct_change(1),
        "ret_3": close.pct_change(3),
        "ret_6": close.pct_change(6),
        "vol_6": close.pct_change(1).rolling(6).std(),
        "range_hl": (df["high"] - df["low"]) / close,
    })
    out["next_ret"] = close.shift(-1) / close - 1.0
    return out.dropna().reset_index(drop=True)


@dataclass(frozen=True)
class TinyModel:
    uri: str
    version: str
    features: list[str]
    kind: str
    booster: lgb.Booster


def register_tiny_model(storage_uri: str, candles: Path, *, name: str, version: str,
                        kind: str, features: list[str], rounds: int = 15) -> TinyModel:
    """Train a few trees on ``features`` and register them as ``name/version``."""
    frame = candle_features(candles)
    x = frame[features].to_numpy(dtype=np.float64)
    params: dict[str, Any]
    if kind == "direction":
        y = (frame["next_ret"] > 0).astype(int).to_numpy()
        params = {"objective": "binary"}
    else:
        y = frame["next_ret"].to_numpy()
        params = {"objective": "regression"}
    params |= {"num_leaves": 7, "min_data_in_leaf": 40, "learning_rate": 0.1,
               "verbose": -1, "num_threads": 1, "seed": 7}
    booster = lgb.train(params, lgb.Dataset(x, y, feature_name=features), num_boost_round=rounds)
    uri = registry.version_uri(storage_uri, name, version)
    storage.write_bytes_atomic(storage.join(uri, "model.txt"), booster.model_to_string().encode())
    registry.write_metadata(uri, registry.ModelVersionMetadata(
        name=name, version=version, model_type="lightgbm", artifact="model.txt",
        feature_columns=features,
        target={"kind": kind, "horizon": 1, "deadBand": 0.0},
        metrics={"trainRows": float(len(frame))},
        lineage={"datasetUri": str(candles), "trainingJob": "tests"},
        created_at=datetime.now(UTC),
    ))
    return TinyModel(uri=uri, version=version, features=features, kind=kind, booster=booster)
