"""Finished trials, stored in the lake beside the search state.

A trial writes its record when it finishes (its reports, the best round count and its
out-of-fold predictions at that round count). A trial that starts and finds its record (a
resumed search re-running a trial Ray Tune had not yet recorded as done, or the same
candidate proposed again) replays the record instead of training: seeded training is
deterministic, so the record is exactly what training again would give. Records are keyed by
the candidate (learner and hyperparameters), so this holds whatever Ray Tune remembers.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import storage
from ...errors import StorageError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

RECORDS = "trials"
STARTS = "starts"


@dataclass
class TrialRecord:
    """What a finished trial leaves behind."""

    key: str
    learner: str
    params: dict[str, Any]
    reports: list[dict[str, Any]]       # one per block: rounds, score, bestScore, metrics...
    best_rounds: int
    best_score: float
    best_metrics: dict[str, float]
    best_per_fold: list[dict[str, float]]
    duration_s: float
    predictions: list[np.ndarray]       # per fold, the test rows' predictions at best_rounds

    def summary(self) -> dict[str, Any]:
        return {"key": self.key, "learner": self.learner, "params": self.params,
                "reports": self.reports, "bestRounds": self.best_rounds,
                "bestScore": self.best_score, "bestMetrics": self.best_metrics,
                "bestPerFold": self.best_per_fold, "durationS": self.duration_s}


class Ledger:
    """Trial records under ``{root}/trials/``: ``{key}.json`` plus ``{key}.npz``."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _uri(self, key: str, suffix: str) -> str:
        return storage.join(self.root, RECORDS, f"{key}{suffix}")

    def write(self, record: TrialRecord) -> None:
        """Predictions first, the JSON last: a record without its JSON does not exist."""
        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, *record.predictions)
        storage.write_bytes_atomic(self._uri(record.key, ".npz"), buffer.getvalue())
        storage.write_json_atomic(self._uri(record.key, ".json"), record.summary())

    def mark_start(self, key: str) -> None:
        """Record that ``key`` starts training now (one small file per start: an audit trail
        that shows a resumed search never trains a finished candidate again)."""
        import uuid

        storage.write_bytes_atomic(storage.join(self.root, STARTS, f"{key}.{uuid.uuid4().hex}"), b"")

    def starts(self) -> dict[str, int]:
        """How many times each candidate started training."""
        import pyarrow.fs as pafs

        fs, path = storage.resolve(storage.join(self.root, STARTS))
        counts: dict[str, int] = {}
        for info in fs.get_file_info(pafs.FileSelector(path, allow_not_found=True)):
            if info.type == pafs.FileType.File and not info.base_name.startswith("."):
                key = info.base_name.split(".", 1)[0]
                counts[key] = counts.get(key, 0) + 1
        return counts

    def read(self, key: str) -> TrialRecord | None:
        """The record of ``key``, or None when that candidate has not finished."""
        import numpy as np

        if not storage.exists(self._uri(key, ".json")):
            return None
        try:
            summary = storage.read_json(self._uri(key, ".json"))
            arrays = np.load(io.BytesIO(storage.read_bytes(self._uri(key, ".npz"))))
            predictions = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
            return TrialRecord(
                key=summary["key"], learner=summary["learner"], params=summary["params"],
                reports=summary["reports"], best_rounds=int(summary["bestRounds"]),
                best_score=float(summary["bestScore"]), best_metrics=summary["bestMetrics"],
                best_per_fold=summary["bestPerFold"], duration_s=float(summary["durationS"]),
                predictions=predictions)
        # A damaged record is any of these: unreadable or invalid JSON (StorageError), a JSON
        # value that is not a record (KeyError, TypeError), a truncated or foreign .npz
        # (BadZipFile, ValueError, OSError).
        except (StorageError, OSError, ValueError, KeyError, TypeError,
                zipfile.BadZipFile) as exc:
            raise StorageError(f"trial record {key} under {self.root} is unreadable: {exc}",
                               hint="delete the search directory to start the search afresh"
                               ) from exc
