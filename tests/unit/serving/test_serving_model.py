"""Loading registered model versions and what their predictions mean."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from tests.unit.serving.tinymodels import ALL_FEATURES, candle_features, register_tiny_model

from mlta import registry, storage
from mlta.errors import ServingError
from mlta.serving.model import LoadedModel
from mlta.serving.validation import RequestRejected


@pytest.fixture
def candles(candles_dir: Path) -> Path:
    return candles_dir / "ETH_BTC-5m.feather"


def _rows(candles: Path, n: int) -> list[dict[str, float]]:
    frame = candle_features(candles)
    return frame[ALL_FEATURES].iloc[-n:].to_dict("records")


def test_direction_model_gives_probability_and_label(tmp_path: Path, candles: Path) -> None:
    tiny = register_tiny_model(tmp_path.as_uri(), candles, name="dir", version="v1",
                               kind="direction", features=["ret_1", "ret_3", "range_hl"])
    model = LoadedModel.load(tiny.uri, "v1")
    rows = _rows(candles, 50)
    out = model.predict_rows(rows)
    expected = tiny.booster.predict(np.array([[r[c] for c in tiny.features] for r in rows]))
    assert [o["prediction"] for o in out] == pytest.approx(list(expected))
    assert all(0.0 < o["prediction"] < 1.0 for o in out)
    assert all(o["label"] == ("up" if o["prediction"] >= 0.5 else "down") for o in out)
    assert len({round(o["prediction"], 9) for o in out}) > 1  # the inputs matter


def test_return_model_gives_forecast_without_label(tmp_path: Path, candles: Path) -> None:
    tiny = register_tiny_model(str(tmp_path), candles, name="ret", version="v3",
                               kind="return", features=["ret_1", "ret_6", "vol_6"])
    model = LoadedModel.load(tiny.uri)
    out = model.predict_rows([{"ret_1": 0.001, "ret_6": None, "vol_6": math.nan, "x": 1}])
    assert set(out[0]) == {"prediction"}
    assert out[0]["prediction"] == pytest.approx(
        float(tiny.booster.predict(np.array([[0.001, np.nan, np.nan]]))[0]))
    with pytest.raises(RequestRejected, match="missing feature columns: ret_6"):
        model.predict_rows([{"ret_1": 0.0, "vol_6": 0.0}])


def test_version_mismatch_and_unknown_types_fail_at_load(tmp_path: Path, candles: Path) -> None:
    tiny = register_tiny_model(tmp_path.as_uri(), candles, name="m", version="v1",
                               kind="direction", features=["ret_1"])
    with pytest.raises(ServingError, match="holds model version 'v1'"):
        LoadedModel.load(tiny.uri, "v2")
    meta = registry.read_metadata(tiny.uri)
    registry.write_metadata(tiny.uri, meta.model_copy(update={"model_type": "sklearn"}))
    with pytest.raises(ServingError, match="'sklearn' of m/v1 cannot be served"):
        LoadedModel.load(tiny.uri)
    registry.write_metadata(tiny.uri, meta.model_copy(update={"target": {"kind": "sentiment"}}))
    with pytest.raises(ServingError, match="target kind 'sentiment'"):
        LoadedModel.load(tiny.uri)
    registry.write_metadata(tiny.uri, meta.model_copy(update={"feature_columns": ["a", "b"]}))
    with pytest.raises(ServingError, match="the lightgbm model has 1 features, the metadata lists 2"):
        LoadedModel.load(tiny.uri)


def test_corrupt_artifact_is_a_serving_error(tmp_path: Path, candles: Path) -> None:
    tiny = register_tiny_model(tmp_path.as_uri(), candles, name="m", version="v1",
                               kind="direction", features=["ret_1"])
    storage.write_bytes_atomic(storage.join(tiny.uri, "model.txt"), b"not a model")
    with pytest.raises(ServingError,
                       match=r"m/v1: member 0 \(lightgbm, model\.txt\) cannot be loaded: .*not a LightGBM"):
        LoadedModel.load(tiny.uri)
