"""LightGBM adapter: parameter mapping, errors that name the key, determinism, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlta.errors import SpecError
from mlta.specs.trainingjob import ModelSpec, TargetSpec
from mlta.training.adapters import get_adapter
from mlta.training.adapters.base import ModelAdapter
from mlta.training.adapters.lightgbm import LightGBMAdapter, map_params, snake_case


def test_camel_case_keys_map_to_lightgbm_names_with_int_casts() -> None:
    mapped = map_params({"numLeaves": 31.0, "learningRate": 0.05, "minDataInLeaf": 20,
                         "lambdaL2": 1.0, "featureFraction": 0.8, "extraTrees": 1})
    assert mapped == {"num_leaves": 31, "learning_rate": 0.05, "min_data_in_leaf": 20,
                      "lambda_l2": 1.0, "feature_fraction": 0.8, "extra_trees": True}
    assert isinstance(mapped["num_leaves"], int)
    assert isinstance(mapped["learning_rate"], float)


def test_sklearn_style_aliases_and_snake_case_are_accepted() -> None:
    assert map_params({"minChildSamples": 5, "colsampleBytree": 0.5, "num_leaves": 7}) == {
        "min_data_in_leaf": 5, "feature_fraction": 0.5, "num_leaves": 7}
    assert snake_case("lambdaL1") == "lambda_l1"


def test_unknown_param_is_a_spec_error_naming_it() -> None:
    with pytest.raises(SpecError, match=r"model\.params\.numLeafs is not a known") as info:
        map_params({"numLeafs": 31})
    assert "numLeaves" in str(info.value)  # the hint lists what is accepted


@pytest.mark.parametrize("key", ["objective", "seed", "numThreads", "numIterations"])
def test_reserved_params_are_refused(key: str) -> None:
    with pytest.raises(SpecError, match=f"model.params.{key} cannot be set"):
        map_params({key: 1})


def test_fractional_value_for_an_integer_param_is_refused() -> None:
    with pytest.raises(SpecError, match="whole number"):
        map_params({"numLeaves": 31.5})


def test_objective_follows_the_target_and_training_is_deterministic_config() -> None:
    direction = LightGBMAdapter(ModelSpec(), TargetSpec(kind="direction"), num_threads=1)
    regression = LightGBMAdapter(ModelSpec(), TargetSpec(kind="return"), num_threads=2)
    assert direction.params["objective"] == "binary"
    assert regression.params["objective"] == "regression"
    assert direction.params["deterministic"] is True and direction.params["num_threads"] == 1
    assert isinstance(get_adapter("lightgbm"), ModelAdapter)


def test_unknown_model_type_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="xgboost"):
        get_adapter("xgboost")


def _data(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"f_a": rng.normal(size=400), "f_b": rng.normal(size=400)})
    y = (X["f_a"] + 0.5 * rng.normal(size=400) > 0).astype(float).to_numpy()
    return X, y


def test_fit_is_reproducible_and_save_load_predicts_identically(tmp_path: Path) -> None:
    X, y = _data()
    spec = ModelSpec(params={"numLeaves": 7, "featureFraction": 0.7, "baggingFraction": 0.8,
                             "baggingFreq": 1}, num_boost_round=30)
    adapter = get_adapter("lightgbm", spec, TargetSpec(kind="direction"), num_threads=2)
    first = adapter.fit(X, y, X.iloc[:50], y[:50])
    second = adapter.fit(X, y)
    p1, p2 = adapter.predict(first, X), adapter.predict(second, X)
    np.testing.assert_array_equal(p1, p2)
    assert ((p1 > 0.5) == (y > 0.5)).mean() > 0.7  # it learned f_a
    name = adapter.save(first, f"file://{tmp_path}")
    assert (tmp_path / name).exists() and not list(tmp_path.glob(".tmp-*"))
    loaded = get_adapter("lightgbm").load(f"file://{tmp_path}/{name}")
    # columns in another order: predict selects by the model's feature names
    np.testing.assert_array_equal(adapter.predict(loaded, X[["f_b", "f_a"]]), p1)


def test_thread_count_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlta.training.adapters.lightgbm import default_threads

    monkeypatch.delenv("MLTA_TRAIN_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("MLTA_TRAIN_THREADS", "2")
    assert LightGBMAdapter().params["num_threads"] == 2
    monkeypatch.setenv("MLTA_TRAIN_THREADS", "many")
    with pytest.raises(SpecError, match="MLTA_TRAIN_THREADS"):
        default_threads()
