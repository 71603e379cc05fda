"""The learner adapters, every rule parametrised over ModelType (the one list of learners)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlta.errors import SpecError, TrainingError
from mlta.specs.learners import LEARNER_PARAMS, CatBoostParams, LightGBMParams, ModelType, XGBoostParams
from mlta.training.adapters import ADAPTER_CLASSES, ModelAdapter, Objective, get_adapter
from mlta.training.adapters.base import TrainingRun, default_threads, fit

LEARNERS = list(ModelType)
NAMES = ["f_a", "f_b", "f_c"]

#: Small, fast, non-default settings per learner (sampling on, so seeding matters).
PARAMS = {
    ModelType.LIGHTGBM: LightGBMParams(num_leaves=7, feature_fraction=0.7, bagging_fraction=0.8,
                                       bagging_freq=1, min_data_in_leaf=10),
    ModelType.XGBOOST: XGBoostParams(max_depth=3, subsample=0.8, colsample_bytree=0.7,
                                     learning_rate=0.2),
    ModelType.CATBOOST: CatBoostParams(depth=4, rsm=0.7, learning_rate=0.2),
}


def _data(n: int = 600, seed: int = 0, objective: Objective = Objective.BINARY
          ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES)))
    X[rng.random(size=X.shape) < 0.05] = np.nan  # missing values are native to every learner
    signal = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) ** 2
    if objective is Objective.BINARY:
        return X, (signal + 0.5 * rng.normal(size=n) > 0.4).astype(np.float64)
    return X, signal + 0.1 * rng.normal(size=n)


def test_every_learner_has_params_and_an_adapter() -> None:
    assert set(ADAPTER_CLASSES) == set(ModelType) == set(LEARNER_PARAMS)


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("objective", list(Objective))
def test_blocks_equal_one_call_and_seeded_runs_repeat(learner: ModelType, objective: Objective) -> None:
    X, y = _data(objective=objective)
    adapter = get_adapter(learner, PARAMS[learner], objective=objective, num_threads=1)
    assert isinstance(adapter, ModelAdapter)
    whole = fit(adapter, X, y, NAMES, 30)
    run = adapter.start(X, y, NAMES)
    for block in (10, 0, 5, 15):
        run.advance(block)
    assert isinstance(run, TrainingRun)
    assert run.rounds == 30
    np.testing.assert_array_equal(adapter.predict(run.model, X), adapter.predict(whole, X))
    again = fit(get_adapter(learner, PARAMS[learner], objective=objective, num_threads=1), X, y, NAMES, 30)
    np.testing.assert_array_equal(adapter.predict(again, X), adapter.predict(whole, X))


@pytest.mark.parametrize("learner", LEARNERS)
def test_a_classifier_learns_and_predicts_probabilities(learner: ModelType) -> None:
    X, y = _data()
    adapter = get_adapter(learner, PARAMS[learner], objective=Objective.BINARY)
    model = fit(adapter, X[:400], y[:400], NAMES, 40)
    p = adapter.predict(model, X[400:])
    assert p.dtype == np.float64 and p.shape == (200,)
    assert ((p >= 0) & (p <= 1)).all()
    assert ((p > 0.5) == (y[400:] > 0.5)).mean() > 0.7
    assert adapter.feature_names(model) == NAMES
    assert adapter.predict(model, X[:0]).shape == (0,)


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("objective", list(Objective))
def test_contributions_sum_to_the_raw_margin_and_match_shap(learner: ModelType, objective: Objective) -> None:
    shap = pytest.importorskip("shap")
    X, y = _data(objective=objective)
    adapter = get_adapter(learner, PARAMS[learner], objective=objective)
    model = fit(adapter, X, y, NAMES, 25)
    contrib = adapter.contributions(model, X[:100])
    assert contrib.shape == (100, len(NAMES) + 1)
    margin = contrib.sum(axis=1)
    pred = adapter.predict(model, X[:100])
    expected = np.log(pred / (1 - pred)) if objective is Objective.BINARY else pred
    # XGBoost predicts in float32, so the margin agrees to float32 precision only.
    np.testing.assert_allclose(margin, expected, rtol=1e-5, atol=1e-5)
    reference = np.asarray(shap.TreeExplainer(model).shap_values(X[:100]), dtype=np.float64)
    np.testing.assert_allclose(contrib[:, :-1], reference.reshape(100, -1), rtol=0, atol=1e-6)


@pytest.mark.parametrize("learner", LEARNERS)
def test_save_load_predicts_identically(learner: ModelType, tmp_path: Path) -> None:
    X, y = _data()
    adapter = get_adapter(learner, PARAMS[learner])
    model = fit(adapter, X, y, NAMES, 20)
    name = adapter.save(model, f"file://{tmp_path}")
    assert (tmp_path / name).exists() and not list(tmp_path.glob(".tmp-*"))
    loaded = get_adapter(learner).load(f"file://{tmp_path}/{name}")
    np.testing.assert_array_equal(adapter.predict(loaded, X), adapter.predict(model, X))
    np.testing.assert_allclose(adapter.contributions(loaded, X[:20]), adapter.contributions(model, X[:20]))
    (tmp_path / "junk").write_bytes(b"not a model")
    with pytest.raises(TrainingError) as info:
        adapter.load(f"file://{tmp_path}/junk")
    assert info.value.reason == "CorruptModel"


@pytest.mark.parametrize("learner", LEARNERS)
def test_no_rows_and_bad_rounds_are_clear_errors(learner: ModelType) -> None:
    adapter = get_adapter(learner)
    with pytest.raises(TrainingError, match="no training rows"):
        adapter.start(np.zeros((0, 3)), np.zeros(0), NAMES)
    X, y = _data(n=100)
    run = adapter.start(X, y, NAMES)
    with pytest.raises(ValueError, match="non-negative"):
        run.advance(-1)


def test_unknown_learner_and_wrong_params_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="sklearn") as info:
        get_adapter("sklearn")
    assert "lightgbm, xgboost, catboost" in (info.value.hint or "")
    with pytest.raises(SpecError, match="XGBoostParams"):
        get_adapter(ModelType.XGBOOST, LightGBMParams())


def test_catboost_model_before_any_round_is_a_clear_error() -> None:
    X, y = _data(n=100)
    run = get_adapter(ModelType.CATBOOST).start(X, y, NAMES)
    with pytest.raises(TrainingError, match="no trees yet"):
        _ = run.model


def test_thread_count_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLTA_TRAIN_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("MLTA_TRAIN_THREADS", "2")
    assert get_adapter("lightgbm").params["num_threads"] == 2  # type: ignore[attr-defined]
    monkeypatch.setenv("MLTA_TRAIN_THREADS", "many")
    with pytest.raises(SpecError, match="MLTA_TRAIN_THREADS"):
        default_threads()


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("objective", list(Objective))
def test_gain_importance_ranks_the_informative_features_first(learner: ModelType,
                                                              objective: Objective,
                                                              tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 4))
    names = [*NAMES, "f_unused"]
    X[:, 3] = 0.0  # constant: no split can use it
    signal = 2.0 * X[:, 0] + X[:, 1]
    y = (signal + 0.3 * rng.normal(size=600) > 0).astype(float) if objective is Objective.BINARY \
        else signal + 0.1 * rng.normal(size=600)
    adapter = get_adapter(learner, PARAMS[learner], objective=objective, num_threads=1)
    model = fit(adapter, X, y, names, 30)
    gain = adapter.gain_importance(model)
    assert gain.shape == (4,) and gain.dtype == np.float64 and (gain >= 0).all()
    assert gain[0] > gain[1] > gain[2] and gain[3] == 0.0
    loaded = adapter.load(f"file://{tmp_path}/{adapter.save(model, f'file://{tmp_path}')}")
    # text formats store gains rounded (LightGBM to ~7 digits)
    np.testing.assert_allclose(adapter.gain_importance(loaded), gain, rtol=1e-5)


LEARNER_MODULES = ("lightgbm", "xgboost", "catboost")


def test_learner_libraries_are_imported_only_in_the_adapters() -> None:
    """DESIGN.md: training/adapters/ is the only place a learner library is imported."""
    import re

    repo = Path(__file__).resolve().parents[3]
    adapters = repo / "workloads" / "mlta" / "training" / "adapters"
    pattern = re.compile(rf"^\s*(import|from)\s+({'|'.join(LEARNER_MODULES)})\b", re.M)
    sources = [*(repo / "workloads").rglob("*.py"), *(repo / "operator").rglob("*.py")]
    offenders = [str(path.relative_to(repo)) for path in sorted(sources)
                 if not path.is_relative_to(adapters) and pattern.search(path.read_text())]
    assert offenders == []
    assert len(sources) > 50  # the scan saw the packages


def test_catboost_refusals_are_training_errors() -> None:
    X, y = _data(n=100)
    adapter = get_adapter(ModelType.CATBOOST)
    with pytest.raises(TrainingError, match="CatBoost failed: Invalid length of feature_names"):
        adapter.start(X, y, NAMES[:2])
    run = adapter.start(X, np.ones(100), NAMES)
    with pytest.raises(TrainingError, match="only one unique value") as info:
        run.advance(2)
    assert "model.catboost" in str(info.value)


def test_a_learner_refusing_its_labels_while_growing_is_a_training_error() -> None:
    # binary labels outside {0, 1}: XGBoost refuses them at its first update
    X, _ = _data(n=80)
    run = get_adapter(ModelType.XGBOOST, objective=Objective.BINARY).start(X, np.full(80, 2.0), NAMES)
    with pytest.raises(TrainingError, match="XGBoost failed"):
        run.advance(2)
