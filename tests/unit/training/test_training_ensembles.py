"""Ensembles: mean, rank average and stacking; the stacked walk-forward estimate uses only the
folds before each fold; combiners round-trip through JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlta.errors import TrainingError
from mlta.specs.trainingjob import EnsembleMethod
from mlta.training.adapters import Objective
from mlta.training.ensembles import (
    REFERENCE_POINTS,
    Combiner,
    fit_combiner,
    fit_meta,
    from_margin,
    out_of_fold,
    to_margin,
)

METHODS = list(EnsembleMethod)


def _members(n: int = 400, k: int = 3, seed: int = 0, objective: Objective = Objective.BINARY
             ) -> tuple[list[np.ndarray], np.ndarray]:
    """k noisy forecasters of one signal, of different quality, and the labels."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    members = [signal + rng.normal(scale=0.5 + i, size=n) for i in range(k)]
    if objective is Objective.BINARY:
        y = (signal + rng.normal(scale=0.5, size=n) > 0).astype(float)
        return [1 / (1 + np.exp(-m)) for m in members], y
    return members, signal + rng.normal(scale=0.3, size=n)


def test_margins_are_log_odds_for_a_classifier_and_values_otherwise() -> None:
    p = np.array([0.1, 0.5, 0.9, 0.0, 1.0])
    margin = to_margin(p, Objective.BINARY)
    np.testing.assert_allclose(margin[:3], np.log(p[:3] / (1 - p[:3])))
    assert np.isfinite(margin).all()  # clipped at 0 and 1
    np.testing.assert_allclose(from_margin(margin[:3], Objective.BINARY), p[:3])
    values = np.array([-0.02, 0.0, 0.03])
    np.testing.assert_array_equal(to_margin(values, "regression"), values)  # type: ignore[arg-type]
    np.testing.assert_array_equal(from_margin(values, Objective.REGRESSION), values)


@pytest.mark.parametrize("objective", list(Objective))
def test_mean_averages_margins(objective: Objective) -> None:
    members, y = _members(objective=objective)
    combiner = fit_combiner(EnsembleMethod.MEAN, objective, members, y)
    assert combiner.weights == [1 / 3] * 3 and combiner.intercept == 0 and combiner.additive
    expected = from_margin(np.mean([to_margin(m, objective) for m in members], axis=0), objective)
    np.testing.assert_allclose(combiner.combine(members), expected)


def test_rank_average_maps_each_member_to_its_out_of_fold_rank() -> None:
    members, y = _members()
    combiner = fit_combiner(EnsembleMethod.RANK_AVERAGE, Objective.BINARY, members, y)
    assert not combiner.additive and not combiner.weights
    for ref, member in zip(combiner.references, members, strict=True):
        assert ref == sorted(member.tolist())
    out = combiner.combine(members)
    ranks = [np.array([(m <= v).sum() / m.size for v in m]) for m in members]
    np.testing.assert_allclose(out, np.mean(ranks, axis=0))
    assert ((out > 0) & (out <= 1)).all()
    # one row can be ranked alone (serving), with the same result
    assert combiner.combine([m[7:8] for m in members])[0] == pytest.approx(out[7])
    many = np.random.default_rng(1).normal(size=10 * REFERENCE_POINTS)
    big = fit_combiner(EnsembleMethod.RANK_AVERAGE, Objective.BINARY, [many, np.append(many, np.nan)],
                       np.zeros(many.size))
    assert [len(r) for r in big.references] == [REFERENCE_POINTS] * 2
    assert big.references[0][0] == many.min() and big.references[0][-1] == many.max()


def test_stacking_regression_is_ridge_on_the_members() -> None:
    members, y = _members(objective=Objective.REGRESSION)
    y = y.copy()
    y[:5] = np.nan  # unlabelled rows are left out of the fit
    combiner = fit_combiner(EnsembleMethod.STACKING, Objective.REGRESSION, members, y)
    Z = np.column_stack(members)[5:]
    A = np.column_stack([np.ones(len(Z)), Z])
    penalty = np.eye(4)
    penalty[0, 0] = 0.0
    beta = np.linalg.solve(A.T @ A + penalty, A.T @ y[5:])
    np.testing.assert_allclose([combiner.intercept, *combiner.weights], beta, rtol=1e-10)
    assert combiner.weights[0] > combiner.weights[2]  # the better member weighs more
    np.testing.assert_allclose(combiner.combine(members), np.column_stack(members) @ beta[1:] + beta[0])


def test_stacking_classifier_solves_the_penalised_likelihood() -> None:
    members, y = _members(n=2000)
    margins = np.column_stack([to_margin(m, Objective.BINARY) for m in members])
    weights, intercept = fit_meta(margins, y, Objective.BINARY)
    beta = np.array([intercept, *weights])
    A = np.column_stack([np.ones(len(y)), margins])
    p = 1 / (1 + np.exp(-(A @ beta)))
    penalty = np.eye(4)
    penalty[0, 0] = 0.0
    np.testing.assert_allclose(A.T @ (p - y) + penalty @ beta, 0.0, atol=1e-8)  # stationary
    assert weights[0] > weights[1] > weights[2] > 0


def test_stacking_needs_enough_labelled_rows() -> None:
    members, y = _members(n=6)
    y[:2] = np.nan
    with pytest.raises(TrainingError, match="too few labelled out-of-fold rows") as info:
        fit_combiner(EnsembleMethod.STACKING, Objective.BINARY, members, y)
    assert "ensemble.method mean" in str(info.value)


@pytest.mark.parametrize("method", METHODS)
def test_a_combiner_round_trips_through_json(method: EnsembleMethod) -> None:
    members, y = _members()
    combiner = fit_combiner(method, Objective.BINARY, members, y)
    raw = json.loads(json.dumps(combiner.to_json()))
    assert raw["method"] == method.value and raw["objective"] == "binary"
    again = Combiner.from_json(raw)
    assert again == combiner
    np.testing.assert_array_equal(again.combine(members), combiner.combine(members))


def test_a_combiner_needs_members() -> None:
    with pytest.raises(TrainingError, match="at least one member"):
        Combiner(EnsembleMethod.MEAN, Objective.BINARY, weights=[]).combine([])


def _folds(count: int = 4, seed: int = 2) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    members, y = _members(n=100 * count, seed=seed)
    folds = [[m[i * 100:(i + 1) * 100] for m in members] for i in range(count)]
    return folds, [y[i * 100:(i + 1) * 100] for i in range(count)]


def test_stacked_walk_forward_uses_only_earlier_folds() -> None:
    folds, labels = _folds()
    out = out_of_fold(EnsembleMethod.STACKING, Objective.BINARY, folds, labels)
    assert [o.size for o in out] == [100] * 4
    mean = Combiner(EnsembleMethod.MEAN, Objective.BINARY, weights=[1 / 3] * 3)
    np.testing.assert_allclose(out[0], mean.combine(folds[0]))  # nothing before fold 0
    for i in range(1, 4):
        before = [np.concatenate([folds[j][m] for j in range(i)]) for m in range(3)]
        expected = fit_combiner(EnsembleMethod.STACKING, Objective.BINARY, before,
                                np.concatenate(labels[:i])).combine(folds[i])
        np.testing.assert_allclose(out[i], expected)
        # changing the labels of fold i and later changes nothing up to fold i
        flipped = [lab if j < i else 1.0 - lab for j, lab in enumerate(labels)]
        again = out_of_fold(EnsembleMethod.STACKING, Objective.BINARY, folds, flipped)
        for j in range(i + 1):
            np.testing.assert_array_equal(again[j], out[j])
    # while changing an earlier fold's labels does change later folds (the check can fail)
    flipped = [1.0 - labels[0], *labels[1:]]
    assert not np.allclose(out_of_fold(EnsembleMethod.STACKING, Objective.BINARY, folds,
                                       flipped)[1], out[1])


def test_stacking_falls_back_to_the_mean_while_too_few_rows_came_before() -> None:
    folds, labels = _folds()
    sparse = [np.full(100, np.nan), *labels[1:]]
    sparse[0][:2] = [0.0, 1.0]  # 2 labelled rows before fold 1: fewer than members + 2
    out = out_of_fold(EnsembleMethod.STACKING, Objective.BINARY, folds, sparse)
    mean = Combiner(EnsembleMethod.MEAN, Objective.BINARY, weights=[1 / 3] * 3)
    np.testing.assert_allclose(out[1], mean.combine(folds[1]))
    assert not np.allclose(out[2], mean.combine(folds[2]))


@pytest.mark.parametrize("method", [EnsembleMethod.MEAN, EnsembleMethod.RANK_AVERAGE])
def test_label_free_combiners_score_each_fold_with_the_final_combiner(method: EnsembleMethod) -> None:
    folds, labels = _folds()
    out = out_of_fold(method, Objective.BINARY, folds, labels)
    stacked = [np.concatenate([f[m] for f in folds]) for m in range(3)]
    final = fit_combiner(method, Objective.BINARY, stacked, np.concatenate(labels))
    for fold, got in zip(folds, out, strict=True):
        np.testing.assert_allclose(got, final.combine(fold))
