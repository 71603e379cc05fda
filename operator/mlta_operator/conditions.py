"""Kubernetes-style conditions and the derived phase, as pure functions over status dicts.

``lastTransitionTime`` moves only when a condition's status changes, so rewriting the same
condition is a no-op and status is written only when something really changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
FAILED = "Failed"


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def set_condition(
    conditions: list[dict[str, Any]],
    type_: str,
    status: bool | str,
    reason: str,
    message: str = "",
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """Return a new condition list with ``type_`` set; other conditions are kept."""
    value = status if isinstance(status, str) else ("True" if status else "False")
    out: list[dict[str, Any]] = []
    found = False
    for cond in conditions:
        if cond.get("type") != type_:
            out.append(dict(cond))
            continue
        found = True
        changed = cond.get("status") != value
        out.append({
            "type": type_, "status": value, "reason": reason, "message": message[:4000],
            "lastTransitionTime": now_iso() if changed else cond.get("lastTransitionTime", now_iso()),
            "observedGeneration": generation,
        })
    if not found:
        out.append({"type": type_, "status": value, "reason": reason, "message": message[:4000],
                    "lastTransitionTime": now_iso(), "observedGeneration": generation})
    return out


def get_condition(conditions: list[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: list[dict[str, Any]], type_: str) -> bool:
    cond = get_condition(conditions, type_)
    return bool(cond and cond.get("status") == "True")


def derive_phase(conditions: list[dict[str, Any]]) -> str:
    """One word for printer columns; conditions remain the truth."""
    if is_true(conditions, FAILED):
        return "Failed"
    if is_true(conditions, READY):
        return "Degraded" if is_true(conditions, DEGRADED) else "Ready"
    if is_true(conditions, PROGRESSING):
        return "Progressing"
    return "Pending"


def mark(
    status: dict[str, Any], generation: int, state: str, reason: str, message: str = ""
) -> dict[str, Any]:
    """Set the standard condition set for one of: progressing, ready, failed, waiting, degraded."""
    conds = list(status.get("conditions") or [])
    if state == "ready":
        conds = set_condition(conds, READY, True, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, False, reason, message, generation)
        conds = set_condition(conds, FAILED, False, reason, "", generation)
        conds = set_condition(conds, DEGRADED, False, reason, "", generation)
    elif state == "failed":
        conds = set_condition(conds, READY, False, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, False, reason, message, generation)
        conds = set_condition(conds, FAILED, True, reason, message, generation)
    elif state == "degraded":
        conds = set_condition(conds, DEGRADED, True, reason, message, generation)
    elif state in ("progressing", "waiting"):
        conds = set_condition(conds, READY, False, reason, message, generation)
        conds = set_condition(conds, PROGRESSING, True, reason, message, generation)
        conds = set_condition(conds, FAILED, False, reason, "", generation)
    else:
        raise ValueError(f"unknown state {state!r}")
    new = dict(status)
    new["conditions"] = conds
    new["phase"] = derive_phase(conds)
    new["observedGeneration"] = generation
    new["message"] = message[:4000] if message else reason
    return new


def status_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The top-level status keys whose values differ (a merge patch); empty when equal."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        if old.get(key) != value:
            patch[key] = value
    return patch
