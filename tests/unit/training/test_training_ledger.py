"""The trial ledger: finished trials round-trip through storage; a damaged record is a
StorageError that says how to recover, never a stray exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlta.errors import StorageError
from mlta.training.tuning.ledger import RECORDS, Ledger, TrialRecord


def _record(key: str = "abc123", folds: int = 3) -> TrialRecord:
    rng = np.random.default_rng(1)
    return TrialRecord(
        key=key, learner="xgboost", params={"max_depth": 3, "learning_rate": 0.1},
        reports=[{"rounds": 10, "objective": 0.51, "cv_auc": 0.51},
                 {"rounds": 20, "objective": 0.53, "cv_auc": 0.53}],
        best_rounds=20, best_score=0.53, best_metrics={"auc": 0.53, "sharpe": -0.2},
        best_per_fold=[{"auc": 0.5 + i / 100} for i in range(folds)], duration_s=1.25,
        predictions=[rng.random(50 + i) for i in range(folds)])


def _assert_same(a: TrialRecord, b: TrialRecord) -> None:
    assert a.summary() == b.summary()
    assert len(a.predictions) == len(b.predictions)
    for x, y in zip(a.predictions, b.predictions, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == y.dtype


def test_a_record_round_trips(tmp_path: Path) -> None:
    ledger = Ledger(f"file://{tmp_path}")
    record = _record()
    assert ledger.read(record.key) is None
    ledger.write(record)
    _assert_same(ledger.read(record.key), record)  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / RECORDS).iterdir()) == ["abc123.json", "abc123.npz"]
    summary = json.loads((tmp_path / RECORDS / "abc123.json").read_text())
    assert summary["bestRounds"] == 20 and summary["learner"] == "xgboost"
    # an empty fold and a single fold survive too
    for other in (_record("one", folds=1), TrialRecord(**{**_record("e").__dict__,
                                                          "predictions": [np.zeros(0)]})):
        ledger.write(other)
        _assert_same(ledger.read(other.key), other)  # type: ignore[arg-type]


def test_predictions_without_their_json_are_not_a_record(tmp_path: Path) -> None:
    """write() stores the predictions first: a crash between the two leaves no record."""
    ledger = Ledger(f"file://{tmp_path}")
    ledger.write(_record())
    (tmp_path / RECORDS / "abc123.json").unlink()
    assert ledger.read("abc123") is None


def _damage_json(path: Path) -> None:
    path.write_text("{not json")


def _drop_field(path: Path) -> None:
    raw = json.loads(path.read_text())
    del raw["bestRounds"]
    path.write_text(json.dumps(raw))


def _not_an_object(path: Path) -> None:
    path.write_text("[1, 2]")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not an npz at all")


@pytest.mark.parametrize(("suffix", "damage"), [
    (".json", _damage_json), (".json", _drop_field), (".json", _not_an_object),
    (".npz", _truncate), (".npz", _garbage), (".npz", lambda p: p.unlink()),
])
def test_an_unreadable_record_is_a_storage_error_with_the_fix(tmp_path: Path, suffix: str,
                                                              damage: Any) -> None:
    ledger = Ledger(f"file://{tmp_path}")
    ledger.write(_record())
    damage(tmp_path / RECORDS / f"abc123{suffix}")
    with pytest.raises(StorageError) as info:
        ledger.read("abc123")
    assert "trial record abc123" in str(info.value)
    assert "delete the search directory" in (info.value.hint or "")


def test_starts_count_each_candidates_trainings(tmp_path: Path) -> None:
    ledger = Ledger(f"file://{tmp_path}")
    assert ledger.starts() == {}
    for key in ("a1", "b2", "a1"):
        ledger.mark_start(key)
    (tmp_path / "starts" / ".tmp-left-by-a-crash").write_bytes(b"")
    assert ledger.starts() == {"a1": 2, "b2": 1}
