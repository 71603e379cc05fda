from __future__ import annotations

import pytest

from mlta_operator import conditions as cond


def test_transition_time_moves_only_when_status_changes() -> None:
    first = cond.set_condition([], cond.READY, False, cond.Reason.SUBMITTED, "x", 1)
    first[0]["lastTransitionTime"] = "2020-01-01T00:00:00Z"
    same = cond.set_condition(first, cond.READY, False, cond.Reason.JOB_RUNNING, "y", 1)
    assert same[0]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    assert same[0]["reason"] == "JobRunning"
    flipped = cond.set_condition(same, cond.READY, True, cond.Reason.SUCCEEDED, "", 1)
    assert flipped[0]["lastTransitionTime"] != "2020-01-01T00:00:00Z"


def test_mark_sets_the_standard_set_and_derives_phase() -> None:
    st = cond.mark({}, 3, cond.State.PROGRESSING, cond.Reason.SUBMITTED, "job submitted")
    assert st["phase"] == "Progressing" and st["observedGeneration"] == 3
    st = cond.mark(st, 3, cond.State.READY, cond.Reason.SUCCEEDED)
    types = {c["type"]: c["status"] for c in st["conditions"]}
    assert types == {"Ready": "True", "Progressing": "False", "Failed": "False", "Degraded": "False"}
    assert st["phase"] == "Ready"
    st = cond.mark(st, 4, cond.State.FAILED, cond.ReportedReason("DataError"), "bad file")
    assert st["phase"] == "Failed"
    assert cond.get_condition(st["conditions"], "Ready")["reason"] == "DataError"  # type: ignore[index]


def test_status_patch_contains_only_changes() -> None:
    old = {"phase": "Ready", "rows": 10, "conditions": [{"type": "Ready"}]}
    new = {"phase": "Ready", "rows": 11, "conditions": [{"type": "Ready"}], "message": "m"}
    assert cond.status_patch(old, new) == {"rows": 11, "message": "m"}
    assert cond.status_patch(new, new) == {}


def test_degraded_ready_shows_degraded() -> None:
    st = cond.mark({}, 1, cond.State.READY, cond.Reason.SERVING)
    st = cond.mark(st, 1, cond.State.DEGRADED, cond.Reason.UNHEALTHY, "replica down")
    assert cond.derive_phase(st["conditions"]) == "Degraded"


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        cond.mark({}, 1, "bogus", cond.Reason.SUBMITTED)  # type: ignore[arg-type]


def test_conditions_are_written_as_plain_strings() -> None:
    st = cond.mark({}, 2, cond.State.WAITING, cond.Reason.WAITING_FOR_DEPENDENCY, "waiting for x")
    for c in st["conditions"]:
        assert type(c["type"]) is str and type(c["reason"]) is str
    assert type(st["phase"]) is str and st["phase"] == "Progressing"
    assert {c["type"] for c in st["conditions"]} == {t.value for t in cond.ConditionType}


def test_degraded_wins_over_ready_and_progressing() -> None:
    st = cond.mark({}, 1, cond.State.PROGRESSING, cond.Reason.DEPLOYING)
    st = cond.mark(st, 1, cond.State.DEGRADED, cond.Reason.UNHEALTHY, "replica down")
    assert st["phase"] == "Degraded"
    st = cond.mark(st, 1, cond.State.PROGRESSING, cond.Reason.DEPLOYING)
    assert st["phase"] == "Progressing"  # redeploying: not degraded any more
    st = cond.mark(st, 1, cond.State.FAILED, cond.ReportedReason("DataError"), "bad")
    assert st["phase"] == "Failed"


def test_message_defaults_to_the_reason_and_is_capped() -> None:
    assert cond.mark({}, 1, cond.State.READY, cond.Reason.SUCCEEDED)["message"] == "Succeeded"
    long = cond.mark({}, 1, cond.State.FAILED, cond.Reason.JOB_FAILED, "x" * 5000)
    assert len(long["message"]) == 4000
    assert all(len(c["message"]) <= 4000 for c in long["conditions"])
