"""Feature selection: each stage on data with a known answer, and no look at test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlta.errors import DataError
from mlta.features.selection import FittedSelector, SelectorSpec, fit_selector


def _frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """signal drives y; near_copy is signal plus tiny noise; noise_* are unrelated; const is
    constant; weak is mildly related; holes has NaNs."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    weak = rng.normal(size=n)
    y = 2.0 * signal + 0.3 * weak + rng.normal(scale=0.5, size=n)
    holes = signal * 0.5 + rng.normal(size=n)
    holes[rng.uniform(size=n) < 0.2] = np.nan
    frame = pd.DataFrame({
        "f_noise_a": rng.normal(size=n),
        "f_signal": signal,
        "f_near_copy": signal + rng.normal(scale=1e-3, size=n),
        "f_const": np.full(n, 3.0),
        "f_weak": weak,
        "f_noise_b": rng.normal(size=n),
        "f_holes": holes,
    })
    return frame, pd.Series(y, name="y_ret")


def test_variance_drops_constants_and_keeps_order() -> None:
    x, y = _frame()
    fitted = fit_selector(x, y, SelectorSpec(correlation_threshold=None))
    assert fitted.columns == [c for c in x.columns if c != "f_const"]
    assert fitted.report()["f_const"].startswith("variance: training variance 0")
    assert fitted.report()["f_signal"] == "kept"


def test_correlation_keeps_the_more_target_related_of_a_pair() -> None:
    x, y = _frame()
    # make the near copy slightly *more* target-related than the original: it must be kept
    x = x.assign(f_near_copy=x["f_signal"] + 1e-3 * (y - 2.0 * x["f_signal"]))
    fitted = fit_selector(x, y, SelectorSpec(correlation_threshold=0.9))
    assert "f_near_copy" in fitted.columns and "f_signal" not in fitted.columns
    reason = fitted.report()["f_signal"]
    assert reason.startswith("correlation:") and "f_near_copy" in reason
    # unrelated columns survive the filter
    assert {"f_noise_a", "f_noise_b", "f_weak", "f_holes"} <= set(fitted.columns)


@pytest.mark.parametrize("score", ["f_score", "mutual_info"])
def test_univariate_ranks_the_signal_first(score: str) -> None:
    x, y = _frame()
    spec = SelectorSpec(correlation_threshold=0.99, univariate=score, univariate_k=2)  # type: ignore[arg-type]
    fitted = fit_selector(x, y, spec)
    # the correlation stage kept one of signal / near_copy; it ranks first, holes second
    (pair,) = {"f_signal", "f_near_copy"} & set(fitted.columns)
    assert set(fitted.columns) == {pair, "f_holes"}
    values = fitted.scores[score]
    assert values[pair] > max(values["f_noise_a"], values["f_noise_b"]) * 10
    assert fitted.report()["f_noise_a"].startswith("univariate:")


def test_f_score_regression_matches_the_textbook_formula() -> None:
    x, y = _frame()
    fitted = fit_selector(x, y, SelectorSpec(correlation_threshold=None, univariate="f_score",
                                             univariate_k=10))
    r = np.corrcoef(x["f_weak"], y)[0, 1]
    expected = r * r / (1 - r * r) * (len(y) - 2)
    assert fitted.scores["f_score"]["f_weak"] == pytest.approx(expected, rel=1e-9)


def test_classification_target_and_anova_f() -> None:
    x, y = _frame()
    direction = pd.Series(np.sign(y), name="y_dir")
    fitted = fit_selector(x, direction, SelectorSpec(univariate="f_score", univariate_k=1))
    assert fitted.task == "classification"
    assert fitted.columns == ["f_signal"] or fitted.columns == ["f_near_copy"]
    from scipy.stats import f_oneway

    col = x["f_weak"].to_numpy()
    groups = [col[direction.to_numpy() == c] for c in (-1.0, 1.0)]
    assert fitted.scores["f_score"]["f_weak"] == pytest.approx(f_oneway(*groups).statistic,
                                                               rel=1e-9)


def test_lightgbm_gain_keeps_the_informative_columns() -> None:
    x, y = _frame(seed=4)
    fitted = fit_selector(x, y, SelectorSpec(correlation_threshold=0.99, importance_k=2))
    (pair,) = {"f_signal", "f_near_copy"} & set(fitted.columns)
    assert len(fitted.columns) == 2
    gains = fitted.scores["gain"]
    assert gains[pair] > 10 * max(gains["f_noise_a"], gains["f_noise_b"])
    assert fitted.report()["f_noise_b"].startswith("importance:")


def test_fit_sees_only_training_rows() -> None:
    """Fit on the train fold, apply to the test fold: changing test rows changes nothing,
    changing train rows does (so the comparison could fail)."""
    x, y = _frame(n=1000, seed=7)
    train, test = slice(0, 700), slice(700, 1000)
    spec = SelectorSpec(correlation_threshold=0.9, univariate="mutual_info", univariate_k=3,
                        importance_k=2)
    fitted = fit_selector(x.iloc[train], y.iloc[train], spec)

    scrambled = x.copy()
    rng = np.random.default_rng(99)
    # in the test fold, a noise column becomes a perfect copy of the target
    scrambled.loc[scrambled.index[test], "f_noise_a"] = y.iloc[test].to_numpy()
    scrambled.loc[scrambled.index[test], "f_signal"] = rng.normal(size=300)
    refit = fit_selector(scrambled.iloc[train], y.iloc[train], spec)
    assert refit == fitted
    out = fitted.transform(scrambled.iloc[test])
    assert list(out.columns) == fitted.columns and len(out) == 300
    assert "f_noise_a" not in fitted.columns

    # the same change in the training rows does change the selection
    leaked = x.copy()
    leaked.loc[leaked.index[train], "f_noise_a"] = y.iloc[train].to_numpy()
    assert fit_selector(leaked.iloc[train], y.iloc[train], spec).columns != fitted.columns


def test_round_trips_as_json_and_validates() -> None:
    x, y = _frame()
    fitted = fit_selector(x, y)
    again = FittedSelector.model_validate_json(fitted.model_dump_json())
    assert again == fitted
    with pytest.raises(DataError, match="lacks selected"):
        fitted.transform(x.drop(columns=["f_weak"]))
    with pytest.raises(DataError, match="rows"):
        fit_selector(x, y.iloc[:-1])
    # "univariate and univariateK together" is a CEL rule of the CRD (the API server checks
    # it; test_crds covers it), not a Python validator
    assert SelectorSpec.model_validate({"univariate": "f_score", "univariateK": 3}).univariate_k == 3


def test_gain_importance_of_a_three_class_target() -> None:
    """More than two classes: the gain sums one-vs-rest fits (the adapters are binary)."""
    x, y = _frame(seed=4)
    classes = pd.Series(np.digitize(y, np.quantile(y, [1 / 3, 2 / 3])) - 1.0, name="y_tb")
    assert set(classes.unique()) == {-1.0, 0.0, 1.0}
    fitted = fit_selector(x, classes, SelectorSpec(correlation_threshold=0.99, importance_k=2))
    assert fitted.task == "classification"
    assert {"f_signal", "f_near_copy"} & set(fitted.columns)
    gains = fitted.scores["gain"]
    best = max(gains.get("f_signal", 0.0), gains.get("f_near_copy", 0.0))
    assert best > 10 * max(gains["f_noise_a"], gains["f_noise_b"])
