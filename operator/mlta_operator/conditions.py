"""Kubernetes-style conditions and the derived phase, as pure functions over status dicts.

Condition types, the operator's own reasons and the states a reconcile can mark are enums,
so a typo is a type error instead of a condition nobody matches. A job reports reasons of
its own (``NotFound``, ``DataError``, ...): those pass through as :data:`ReportedReason`.

``lastTransitionTime`` moves only when a condition's status changes, so rewriting the same
condition is a no-op and status is written only when something really changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NewType


class ConditionType(StrEnum):
    """The four conditions every mlta resource carries."""

    READY = "Ready"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    FAILED = "Failed"


class DeploymentCondition(StrEnum):
    """Conditions only a ModelDeployment carries, beside the four."""

    ROLLOUT = "Rollout"  # a sequential-test decision about a challenger was made


class Reason(StrEnum):
    """Reasons the operator itself sets (CamelCase, machine readable)."""

    INVALID_SPEC = "InvalidSpec"
    WAITING_FOR_DEPENDENCY = "WaitingForDependency"
    SUBMITTING = "Submitting"
    SUBMITTED = "Submitted"
    RESUBMITTED = "Resubmitted"
    JOB_PENDING = "JobPending"
    JOB_RUNNING = "JobRunning"
    SUCCEEDED = "Succeeded"
    JOB_FAILED = "JobFailed"
    DEPLOYING = "Deploying"
    SERVING = "Serving"
    DEPLOY_FAILED = "DeployFailed"
    GATE_FAILED = "GateFailed"
    UNHEALTHY = "Unhealthy"
    FEATURE_DRIFT = "FeatureDrift"
    NO_DRIFT = "NoDrift"
    CHALLENGER_PROMOTED = "ChallengerPromoted"
    CHALLENGER_ROLLED_BACK = "ChallengerRolledBack"
    CHALLENGER_DECIDED = "ChallengerDecided"


#: A reason a workload reported in its result (``JobResult.reason``), passed through as is.
ReportedReason = NewType("ReportedReason", str)


class State(StrEnum):
    """What a reconcile concluded; :func:`mark` turns it into the standard condition set."""

    PROGRESSING = "progressing"
    WAITING = "waiting"
    READY = "ready"
    DEGRADED = "degraded"
    FAILED = "failed"


class Phase(StrEnum):
    """The one-word summary for printer columns (derived; conditions remain the truth)."""

    PENDING = "Pending"
    PROGRESSING = "Progressing"
    READY = "Ready"
    DEGRADED = "Degraded"
    FAILED = "Failed"


# Short names, as the rest of the operator reads them: ``cond.READY``.
READY = ConditionType.READY
PROGRESSING = ConditionType.PROGRESSING
DEGRADED = ConditionType.DEGRADED
FAILED = ConditionType.FAILED


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def set_condition(
    conditions: list[dict[str, Any]],
    type_: ConditionType | DeploymentCondition,
    status: bool,
    reason: Reason | ReportedReason,
    message: str = "",
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """Return a new condition list with ``type_`` set; other conditions are kept."""
    value = "True" if status else "False"
    entry = {"type": str(type_), "status": value, "reason": str(reason), "message": message[:4000],
             "observedGeneration": generation}
    out: list[dict[str, Any]] = []
    found = False
    for cond in conditions:
        if cond.get("type") != type_:
            out.append(dict(cond))
            continue
        found = True
        changed = cond.get("status") != value
        transition = now_iso() if changed else cond.get("lastTransitionTime", now_iso())
        out.append({**entry, "lastTransitionTime": transition})
    if not found:
        out.append({**entry, "lastTransitionTime": now_iso()})
    return out


def get_condition(conditions: list[dict[str, Any]], type_: ConditionType) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: list[dict[str, Any]], type_: ConditionType) -> bool:
    cond = get_condition(conditions, type_)
    return bool(cond and cond.get("status") == "True")


def derive_phase(conditions: list[dict[str, Any]]) -> Phase:
    """One word for printer columns; conditions remain the truth.

    Degraded wins over Ready and Progressing: a deployment with a replica down says so
    whether or not it still answers.
    """
    if is_true(conditions, FAILED):
        return Phase.FAILED
    if is_true(conditions, DEGRADED):
        return Phase.DEGRADED
    if is_true(conditions, READY):
        return Phase.READY
    if is_true(conditions, PROGRESSING):
        return Phase.PROGRESSING
    return Phase.PENDING


def mark(
    status: dict[str, Any],
    generation: int,
    state: State,
    reason: Reason | ReportedReason,
    message: str = "",
) -> dict[str, Any]:
    """A copy of ``status`` with the standard condition set for ``state``.

    ``DEGRADED`` sets only the Degraded condition: whether the resource is still Ready is the
    caller's call (a deployment serving with one replica down is; one that serves nothing is
    not).
    """
    conds = list(status.get("conditions") or [])
    state = State(state)
    if state == State.READY:
        conds = set_condition(conds, READY, True, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, False, reason, message, generation)
        conds = set_condition(conds, FAILED, False, reason, "", generation)
        conds = set_condition(conds, DEGRADED, False, reason, "", generation)
    elif state == State.FAILED:
        conds = set_condition(conds, READY, False, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, False, reason, message, generation)
        conds = set_condition(conds, FAILED, True, reason, message, generation)
    elif state == State.DEGRADED:
        conds = set_condition(conds, DEGRADED, True, reason, message, generation)
    else:  # PROGRESSING, WAITING: not serving (yet), so not degraded either
        conds = set_condition(conds, READY, False, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, True, reason, message, generation)
        conds = set_condition(conds, FAILED, False, reason, "", generation)
        conds = set_condition(conds, DEGRADED, False, reason, "", generation)
    new = dict(status)
    new["conditions"] = conds
    new["phase"] = str(derive_phase(conds))
    new["observedGeneration"] = generation
    new["message"] = message[:4000] if message else str(reason)
    return new


def status_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The top-level status keys whose values differ (a merge patch); empty when equal."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if old.get(key) != value:
            patch[key] = value
    return patch
