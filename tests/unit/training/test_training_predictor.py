"""The predictor of a model version (the class serving loads) and SHAP explanations:
contributions equal the margin for single models and mean / stacking ensembles, a rank
average refuses, and load_predictor says what is wrong with a broken version."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlta import registry
from mlta.errors import ServingError, TrainingError
from mlta.specs.learners import ModelType
from mlta.specs.trainingjob import EnsembleMethod
from mlta.training.adapters import Objective, get_adapter
from mlta.training.adapters.base import fit
from mlta.training.ensembles import fit_combiner
from mlta.training.explain import MAX_ROWS, explain, sample_rows
from mlta.training.predictor import (
    Member,
    Predictor,
    column_index,
    load_predictor,
    objective_for,
)

NAMES = ["f_a", "f_b", "f_c", "f_d"]
LEARNERS = list(ModelType)
#: Members' columns: they overlap, and none has them all.
MEMBER_COLUMNS = {ModelType.LIGHTGBM: ["f_a", "f_b", "f_c"], ModelType.XGBOOST: ["f_b", "f_d"],
                  ModelType.CATBOOST: ["f_d", "f_a", "f_c"]}


def _data(objective: Objective, n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, len(NAMES)))
    signal = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 3]
    if objective is Objective.BINARY:
        return X, (signal + 0.7 * rng.normal(size=n) > 0).astype(float)
    return X, signal + 0.2 * rng.normal(size=n)


def _kind(objective: Objective) -> str:
    return "direction" if objective is Objective.BINARY else "return"


def _metadata(objective: Objective, members: list[registry.MemberInfo],
              ensemble: dict[str, Any] | None = None, **extra: Any) -> registry.ModelVersionMetadata:
    return registry.ModelVersionMetadata(
        name="m", version="v1", model_type="ensemble" if ensemble else members[0].learner,
        artifact="x", feature_columns=NAMES, target={"kind": _kind(objective), "horizon": 3},
        metrics={}, lineage={}, created_at=datetime.now(UTC), members=members,
        ensemble=ensemble, **extra)


def _member(learner: ModelType, objective: Objective, X: np.ndarray, y: np.ndarray,
            columns: list[str] | None = None) -> Member:
    columns = columns or MEMBER_COLUMNS[learner]
    index = column_index(NAMES, columns)
    adapter = get_adapter(learner, objective=objective, num_threads=1)
    model = fit(adapter, X[:, index], y, columns, 15)
    info = registry.MemberInfo(learner=learner.value, artifact="", rounds=15, feature_columns=columns)
    return Member(info, adapter, model, index)


def _predictor(objective: Objective, learners: list[ModelType],
               method: EnsembleMethod | None) -> tuple[Predictor, np.ndarray]:
    X, y = _data(objective)
    members = [_member(t, objective, X, y) for t in learners]
    combiner = None
    if method is not None:
        oof = [m.adapter.predict(m.model, X[:, m.index]) for m in members]
        combiner = fit_combiner(method, objective, oof, y)
    meta = _metadata(objective, [m.info for m in members],
                     combiner.to_json() if combiner is not None else None)
    return Predictor(meta, members, combiner), X


def _tolerance(learners: list[ModelType]) -> float:
    # XGBoost predicts in float32, so margins agree with the contributions to float32 precision
    return 2e-5 if ModelType.XGBOOST in learners else 1e-9


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("learner", LEARNERS)
def test_a_single_models_contributions_sum_to_its_margin(learner: ModelType,
                                                         objective: Objective) -> None:
    predictor, X = _predictor(objective, [learner], None)
    contributions = predictor.contributions(X[:50])
    assert contributions.shape == (50, len(NAMES) + 1) and predictor.explainable
    np.testing.assert_allclose(contributions.sum(axis=1), predictor.margin(X[:50]),
                               atol=_tolerance([learner]), rtol=0)
    unused = [NAMES.index(c) for c in NAMES if c not in MEMBER_COLUMNS[learner]]
    assert (contributions[:, unused] == 0).all()  # columns the member does not read
    member = predictor.members[0]
    np.testing.assert_array_equal(predictor.predict(X[:50]),
                                  member.adapter.predict(member.model, X[:50][:, member.index]))


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("method", [EnsembleMethod.MEAN, EnsembleMethod.STACKING])
def test_mean_and_stacking_contributions_sum_to_the_ensembles_margin(
        method: EnsembleMethod, objective: Objective) -> None:
    predictor, X = _predictor(objective, LEARNERS, method)
    contributions = predictor.contributions(X[:60])
    np.testing.assert_allclose(contributions.sum(axis=1), predictor.margin(X[:60]),
                               atol=_tolerance(LEARNERS), rtol=0)
    members = predictor.member_predictions(X[:60])
    np.testing.assert_array_equal(predictor.predict(X[:60]),
                                  predictor.combiner.combine(members))  # type: ignore[union-attr]
    if method is EnsembleMethod.STACKING:
        assert predictor.combiner.intercept != 0.0  # type: ignore[union-attr]


def test_a_rank_average_predicts_but_has_no_contributions() -> None:
    predictor, X = _predictor(Objective.BINARY, [ModelType.LIGHTGBM, ModelType.CATBOOST],
                              EnsembleMethod.RANK_AVERAGE)
    assert not predictor.explainable
    p = predictor.predict(X[:20])
    assert ((p >= 0) & (p <= 1)).all()
    with pytest.raises(TrainingError, match="not additive") as info:
        predictor.contributions(X[:20])
    assert "mean or stacking" in str(info.value)
    with pytest.raises(TrainingError, match="no additive explanation"):
        explain(predictor, X[:20])


def test_rows_must_have_the_versions_features() -> None:
    predictor, X = _predictor(Objective.BINARY, [ModelType.LIGHTGBM], None)
    for bad in (X[:, :3], X[0]):
        with pytest.raises(TrainingError, match="expected rows of 4 features"):
            predictor.predict(bad)


def test_a_predictor_needs_members_and_a_combiner_for_several() -> None:
    predictor, _ = _predictor(Objective.BINARY, [ModelType.LIGHTGBM, ModelType.XGBOOST],
                              EnsembleMethod.MEAN)
    with pytest.raises(TrainingError, match="several members but no combiner"):
        Predictor(predictor.metadata, predictor.members, None)
    with pytest.raises(TrainingError, match="has no members"):
        Predictor(predictor.metadata, [], None)
    with pytest.raises(TrainingError, match=r"\['f_zz'\] are not among"):
        column_index(NAMES, ["f_a", "f_zz"])
    assert objective_for({"kind": "tripleBarrier"}) is Objective.BINARY
    assert objective_for({"kind": "volatility"}) is Objective.REGRESSION


# --- explanations --------------------------------------------------------------------------


def test_sample_rows_is_sorted_and_the_same_every_time() -> None:
    assert list(sample_rows(5, 10)) == [0, 1, 2, 3, 4]
    rows = sample_rows(10_000, 300)
    assert rows.size == 300 and np.all(np.diff(rows) > 0) and rows.max() < 10_000
    np.testing.assert_array_equal(rows, sample_rows(10_000, 300))
    assert not np.array_equal(rows, sample_rows(10_000, 300, seed=1))


def test_explanation_is_mean_abs_shap_largest_first_with_a_png() -> None:
    predictor, X = _predictor(Objective.BINARY, [ModelType.LIGHTGBM, ModelType.XGBOOST],
                              EnsembleMethod.MEAN)
    explanation = explain(predictor, X[:200])
    contributions = predictor.contributions(X[:200])
    expected = np.abs(contributions[:, :-1]).mean(axis=0)
    assert list(explanation.importance) == [NAMES[i] for i in np.argsort(-expected, kind="stable")]
    np.testing.assert_allclose([explanation.importance[n] for n in NAMES], expected)
    assert next(iter(explanation.importance)) == "f_a"  # the strongest input
    assert explanation.expected_value == pytest.approx(contributions[:, -1].mean())
    assert explanation.rows == 200
    assert explanation.png is not None and explanation.png[:8] == b"\x89PNG\r\n\x1a\n"
    quick = explain(predictor, X, max_rows=100, plot=False)
    assert quick.rows == 100 and quick.png is None and MAX_ROWS >= 100
    with pytest.raises(TrainingError, match="no rows to explain"):
        explain(predictor, X[:0])


# --- loading a version ---------------------------------------------------------------------


def _register(tmp_path: Path, objective: Objective = Objective.BINARY,
              method: EnsembleMethod | None = EnsembleMethod.STACKING) -> tuple[str, Predictor, np.ndarray]:
    """A version written the way register_model lays it out: members, ensemble, metadata."""
    learners = LEARNERS if method is not None else [ModelType.CATBOOST]
    predictor, X = _predictor(objective, learners, method)
    uri = f"file://{tmp_path}/registry/m/v1"
    infos = []
    for number, member in enumerate(predictor.members):
        artifact = member.adapter.save(member.model, f"{uri}/members/{number}")
        infos.append(member.info.model_copy(update={"artifact": f"members/{number}/{artifact}"}))
    ensemble = predictor.combiner.to_json() if predictor.combiner is not None else None
    registry.write_metadata(uri, _metadata(objective, infos, ensemble))
    return uri, predictor, X


@pytest.mark.parametrize(("objective", "method"), [
    (Objective.BINARY, EnsembleMethod.STACKING), (Objective.REGRESSION, EnsembleMethod.MEAN),
    (Objective.BINARY, None)])
def test_a_loaded_version_predicts_and_explains_as_the_job_did(
        tmp_path: Path, objective: Objective, method: EnsembleMethod | None) -> None:
    uri, fitted, X = _register(tmp_path, objective, method)
    loaded = load_predictor(uri, expected_version="v1")
    assert loaded.objective is objective and loaded.feature_columns == NAMES
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    np.testing.assert_allclose(loaded.contributions(X[:30]), fitted.contributions(X[:30]),
                               atol=1e-12)
    assert loaded.combiner == fitted.combiner


def _edit(uri: str, tmp_path: Path, change: Any) -> None:
    path = tmp_path / "registry" / "m" / "v1" / registry.METADATA_FILE
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw.pop("featureColumns", raw.pop("feature_columns")), "does not validate"),
    (lambda raw: raw.update(feature_columns=[]), "lists no feature columns"),
    (lambda raw: raw["members"][0].update(learner="sklearn"), "learner 'sklearn' is not one of"),
])
def test_a_broken_version_is_a_serving_error(tmp_path: Path, change: Any, message: str) -> None:
    uri, _, _ = _register(tmp_path)
    _edit(uri, tmp_path, change)
    with pytest.raises(ServingError, match=message):
        load_predictor(uri)


def test_the_wrong_version_is_refused(tmp_path: Path) -> None:
    uri, _, _ = _register(tmp_path)
    with pytest.raises(ServingError, match=r"holds model version 'v1'.*asked for 'v2'") as info:
        load_predictor(uri, expected_version="v2")
    assert "TrainingJob status" in str(info.value)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_damaged_member_artifact_is_a_serving_error_naming_it(tmp_path: Path, damage: str) -> None:
    uri, _, _ = _register(tmp_path)
    artifact = next((tmp_path / "registry" / "m" / "v1" / "members" / "1").iterdir())
    if damage == "corrupt":
        artifact.write_bytes(b"{not a model")
    else:
        artifact.unlink()
    with pytest.raises(ServingError, match=f"m/v1: member 1 .*members/1/{artifact.name}") as info:
        load_predictor(uri)
    assert "re-register" in str(info.value)
