from __future__ import annotations

from mlta_operator import conditions as cond


def test_transition_time_moves_only_when_status_changes() -> None:
    first = cond.set_condition([], "Ready", False, "Submitted", "x", 1)
    first[0]["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    same = cond.set_condition(first, "Ready", False, "JobRunning", "y", 1)
    assert same[0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert same[0]["reason"] == "JobRunning"
    flipped = cond.set_condition(same, "Ready", True, "Succeeded", "", 1)
    assert flipped[0]["lastTransitionTime"] != "2020-01-01T00:00:00Z"


def test_mark_sets_the_standard_set_and_derives_phase() -> None:
    st = cond.mark({}, 3, "progressing", "Submitted", "job submitted")
    assert st["phase"] == "Progressing" and st["observedGeneration"] == 3
    st = cond.mark(st, 3, "ready", "Succeeded")
    types = {c["type"]: c["status"] for c in st["conditions"]}
    assert types == {"Ready": "True", "Progressing": "False", "Failed": "False", "Degraded": "False"}
    assert st["phase"] == "Ready"
    st = cond.mark(st, 4, "failed", "DataError", "bad file")
    assert st["phase"] == "Failed"
    assert cond.get_condition(st["conditions"], "Ready")["reason"] == "DataError"  # type: ignore[index]


def test_status_patch_contains_only_changes() -> None:
    old = {"phase": "Ready", "rows": 10, "conditions": [{"type": "Ready"}]}
    new = {"phase": "Ready", "rows": 11, "conditions": [{"type": "Ready"}], "message": "m"}
    assert cond.status_patch(old, new) == {"rows": 11, "message": "m"}
    assert cond.status_patch(new, new) == {}


def test_degraded_ready_shows_degraded() -> None:
    st = cond.mark({}, 1, "ready", "Serving")
    st = cond.mark(st, 1, "degraded", "Unhealthy", "replica down")
    assert cond.derive_phase(st["conditions"]) == "Degraded"
