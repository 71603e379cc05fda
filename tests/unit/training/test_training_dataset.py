"""A Gold frame becomes Prepared data: labels per target kind, exclusions, the layout and its
errors (each naming the setting to change)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from gold_frames import FEATURES, make_gold_frame
from small_jobs import small_spec

from mlta.errors import DataError, TrainingError
from mlta.features import labels
from mlta.training.adapters import Objective
from mlta.training.dataset import check_layout, objective_of, prepare, select_features, target

BARRIER = {"upper": 0.7, "lower": 0.7, "volWindow": 20}


def _per_symbol_reference(frame: pd.DataFrame, fn: Any) -> np.ndarray:
    """``fn(close of one symbol)`` written per symbol by pandas, independently of the code."""
    out = pd.Series(np.nan, index=frame.index)
    for _, rows in frame.groupby("symbol", sort=False):
        out.loc[rows.index] = fn(rows["close"].to_numpy())
    return out.to_numpy()


def _binary(sign: np.ndarray, up: float = 1.0, down: float = -1.0) -> np.ndarray:
    return np.where(sign == up, 1.0, np.where(sign == down, 0.0, np.nan))


@pytest.mark.parametrize("kind", ["direction", "return", "tripleBarrier", "volatility"])
def test_labels_are_the_features_packages_per_symbol(kind: str) -> None:
    spec = small_spec(target={"kind": kind, "horizon": 4, "deadBand": 0.002, "barrier": BARRIER})
    frame = make_gold_frame()
    forward = _per_symbol_reference(frame, lambda c: labels.forward_returns(c, 4))
    expected = {
        "return": forward,
        "direction": _binary(labels.direction(forward, 0.002)),
        "volatility": _per_symbol_reference(frame, lambda c: labels.realized_volatility(c, 4)),
        "tripleBarrier": _binary(_per_symbol_reference(
            frame, lambda c: labels.triple_barrier(c, 4, 0.7, 0.7, 20)[0])),
    }[kind]
    y = target(spec, frame["symbol"].to_numpy(), frame["close"].to_numpy())
    np.testing.assert_array_equal(y, expected)
    # no label reads another symbol's prices: each symbol's last rows are unlabelled (a
    # barrier can be touched before the horizon, so only the very last row for tripleBarrier)
    last = 1 if kind == "tripleBarrier" else 4
    for _, rows in frame.groupby("symbol"):
        assert np.isnan(y[rows.index[-last:]]).all()
        assert np.isfinite(y[rows.index[-60:-4]]).any()
    if kind in ("direction", "tripleBarrier"):
        assert set(np.unique(y[np.isfinite(y)])) == {0.0, 1.0}
        assert np.isnan(y).sum() > 8  # dead band / neither barrier: no decision, no label
    else:
        assert np.isnan(y).sum() == 8


def test_dead_band_leaves_small_moves_unlabelled() -> None:
    frame = make_gold_frame()
    forward = _per_symbol_reference(frame, lambda c: labels.forward_returns(c, 3))
    y = target(small_spec(target={"deadBand": 0.004}), frame["symbol"].to_numpy(),
               frame["close"].to_numpy())
    small = np.abs(forward) <= 0.004
    assert np.isnan(y[small]).all()
    np.testing.assert_array_equal(y[~small & np.isfinite(forward)],
                                  (forward[~small & np.isfinite(forward)] > 0).astype(float))


@pytest.mark.parametrize(("kind", "objective"), [
    ("direction", Objective.BINARY), ("tripleBarrier", Objective.BINARY),
    ("return", Objective.REGRESSION), ("volatility", Objective.REGRESSION)])
def test_prepared_data_is_aligned_and_complete(kind: str, objective: Objective) -> None:
    spec = small_spec(target={"kind": kind, "barrier": BARRIER})
    frame = make_gold_frame()
    data = prepare(frame, FEATURES, spec)
    assert objective_of(kind) is data.objective is objective and data.kind == kind
    complete = frame[FEATURES].notna().all(axis=1).to_numpy()
    kept = frame[complete].reset_index(drop=True)
    assert data.X.shape == (len(kept), 3) and data.X.flags.c_contiguous
    assert data.X.dtype == np.float64 and np.isfinite(data.X).all()
    np.testing.assert_array_equal(data.X, kept[FEATURES].to_numpy())
    np.testing.assert_array_equal(data.symbols, kept["symbol"].to_numpy())
    np.testing.assert_array_equal(data.close, kept["close"].to_numpy())
    assert data.times.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(
        data.times, kept["close_time"].dt.tz_localize(None).to_numpy().astype("datetime64[ns]"))
    # labels and next-bar returns were computed on the full series, before warm-up rows went
    full_y = target(spec, frame["symbol"].to_numpy(), frame["close"].to_numpy())
    np.testing.assert_array_equal(data.y, full_y[complete])
    nxt = _per_symbol_reference(frame, lambda c: labels.forward_returns(c, 1))[complete]
    np.testing.assert_array_equal(data.next_return, nxt)
    np.testing.assert_array_equal(data.labelled, np.isfinite(data.y))


def test_naive_close_times_are_taken_as_utc() -> None:
    frame = make_gold_frame()
    naive = frame.assign(close_time=frame["close_time"].dt.tz_localize(None))
    spec = small_spec()
    np.testing.assert_array_equal(prepare(naive, FEATURES, spec).times,
                                  prepare(frame, FEATURES, spec).times)


def test_lockbox_comes_last_after_a_purge_and_folds_lie_before_it() -> None:
    spec = small_spec(target={"horizon": 5}, validation={"embargoBars": 2})
    data = prepare(make_gold_frame(), FEATURES, spec)
    distinct = np.unique(data.times)
    m = len(distinct)
    lock = data.layout.lockbox
    size = int(0.15 * m)
    assert np.array_equal(np.unique(data.times[lock.test]), distinct[m - size:])
    assert lock.test.size == 2 * size  # both symbols
    # default purge = horizon: the final model's labels (5 bars ahead) stop before the lockbox
    assert data.times[lock.train].max() == distinct[m - size - 5 - 1]
    assert np.array_equal(lock.train, np.flatnonzero(data.times < distinct[m - size - 5]))
    for fold in data.layout.folds:
        assert np.isin(fold.train, lock.train).all() and np.isin(fold.test, lock.train).all()
        assert data.times[fold.train].max() < data.times[fold.test].min()
    assert np.array_equal(data.layout.cv_rows, lock.train)
    explicit = prepare(make_gold_frame(), FEATURES,
                       small_spec(target={"horizon": 5}, validation={"purgeBars": 0}))
    assert data.times[explicit.layout.lockbox.train].max() == distinct[m - size - 1]


def test_exclude_takes_exact_names_and_globs() -> None:
    columns = ["f_rsi_14", "f_cdl_doji", "f_cdl_hammer", "f_atr_14"]
    assert select_features(columns, []) == columns
    assert select_features(columns, ["f_cdl*"]) == ["f_rsi_14", "f_atr_14"]
    assert select_features(columns, ["f_atr_14", "f_rsi_?4"]) == ["f_cdl_doji", "f_cdl_hammer"]
    assert select_features(columns, ["F_RSI_14"]) == columns  # case-sensitive, like columns
    with pytest.raises(DataError, match="removes every feature column") as info:
        select_features(columns, ["f_*"])
    assert "exclude fewer" in str(info.value)
    data = prepare(make_gold_frame(), FEATURES, small_spec(features={"exclude": ["f_n*"]}))
    assert data.feature_names == ["f_state", "f_mom3"] and data.X.shape[1] == 2


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns=["close"]), "lacks column(s) ['close']"),
    (lambda f: f.drop(columns=["f_noise"]), "lacks column(s) ['f_noise']"),
    (lambda f: f.assign(f_noise="x"), "not numeric"),
    (lambda f: f.assign(f_noise=np.nan), "every row has a missing feature"),
])
def test_bad_frames_are_data_errors(change: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        prepare(change(make_gold_frame()), FEATURES, small_spec())
    assert message in str(info.value)


def test_no_feature_columns_is_a_data_error() -> None:
    """A dataset without features says so, not that features.exclude removed them."""
    with pytest.raises(DataError, match="no feature columns") as info:
        prepare(make_gold_frame(), [], small_spec())
    assert "exclude" not in str(info.value)


@pytest.mark.parametrize(("validation", "field"), [
    ({"minTrainRows": 700}, "validation.minTrainRows"),
    ({"lockboxFraction": 0.49, "folds": 4, "testFraction": 0.249, "purgeBars": 10},
     "validation.folds, testFraction or purgeBars"),
    ({"lockboxFraction": 0.02}, None),
])
def test_layouts_that_leave_too_few_rows_name_the_setting(validation: dict[str, Any],
                                                          field: str | None) -> None:
    spec = small_spec(validation=validation)
    if field is None:  # a valid layout for contrast: the same frame trains
        assert prepare(make_gold_frame(), FEATURES, spec).layout.lockbox.test.size > 0
        return
    with pytest.raises(TrainingError) as info:
        prepare(make_gold_frame(), FEATURES, spec)
    assert field in str(info.value)


def test_too_short_for_a_lockbox_says_so() -> None:
    with pytest.raises(TrainingError, match="empty lockbox") as info:
        prepare(make_gold_frame(bars=40), FEATURES,
                small_spec(validation={"minTrainRows": 20, "lockboxFraction": 0.02}))
    assert "raise validation.lockboxFraction" in str(info.value)


def test_check_layout_names_the_window_and_the_fix() -> None:
    data = prepare(make_gold_frame(), FEATURES, small_spec())
    check_layout(data, 50)
    fold0 = data.layout.folds[0].train
    labelled_rows = int(data.labelled[fold0].sum())
    with pytest.raises(TrainingError, match=f"fold 0 has only {labelled_rows} labelled") as info:
        check_layout(data, labelled_rows + 1)
    assert "validation.minTrainRows" in str(info.value) and "target.deadBand" in str(info.value)

    one_class = data.y.copy()
    one_class[np.isfinite(one_class)] = 1.0
    with pytest.raises(TrainingError, match="fold 0: the training labels hold one class") as info:
        check_layout(dataclasses.replace(data, y=one_class), 50)
    assert "target.deadBand" in str(info.value)
    no_lockbox_labels = data.y.copy()
    no_lockbox_labels[data.layout.lockbox.test] = np.nan
    with pytest.raises(TrainingError, match="the lockbox has no labelled rows"):
        check_layout(dataclasses.replace(data, y=no_lockbox_labels), 50)
    regression = prepare(make_gold_frame(), FEATURES, small_spec(target={"kind": "return"}))
    constant = np.where(regression.labelled, 0.5, np.nan)
    check_layout(dataclasses.replace(regression, y=constant), 50)  # one value is fine there


def test_a_lockbox_shorter_than_the_horizon_names_lockbox_fraction() -> None:
    """The last ``horizon`` bars have no label: a lockbox of fewer bars has none at all, and
    the fix is a larger lockbox (the dead band has nothing to do with it)."""
    spec = small_spec(target={"horizon": 12}, validation={"lockboxFraction": 0.02})
    with pytest.raises(TrainingError, match="the lockbox has no labelled rows") as info:
        prepare(make_gold_frame(), FEATURES, spec)
    assert "raise validation.lockboxFraction" in str(info.value)


def test_a_test_fold_without_labels_is_named() -> None:
    data = prepare(make_gold_frame(), FEATURES, small_spec())
    y = data.y.copy()
    y[data.layout.folds[1].test] = np.nan
    with pytest.raises(TrainingError, match="fold 1 has no labelled test rows") as info:
        check_layout(dataclasses.replace(data, y=y), 50)
    assert "validation.testFraction" in str(info.value)


def test_a_one_class_target_fails_prepare_naming_the_dead_band() -> None:
    frame = make_gold_frame()
    rising = frame.assign(close=frame.groupby("symbol")["close"].transform(
        lambda c: 100.0 * np.exp(0.001 * np.arange(len(c)))))
    with pytest.raises(TrainingError, match="one class only") as info:
        prepare(rising, FEATURES, small_spec())
    assert "target.deadBand" in str(info.value)


def test_row_order_does_not_change_the_labels() -> None:
    """prepare() labels each symbol in time order whatever order the rows come in (a frame
    from a notebook need not be sorted like a Gold dataset): shuffled rows give the same data."""
    frame = make_gold_frame()
    shuffled = frame.sample(frac=1.0, random_state=3)
    spec = small_spec(target={"kind": "return"})
    a, b = prepare(frame, FEATURES, spec), prepare(shuffled, FEATURES, spec)
    for name in ("X", "y", "times", "symbols", "close", "next_return"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
