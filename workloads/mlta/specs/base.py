"""Shared pieces of the spec models: the base class, CEL rules, conditions and status.

The spec models are the single schema source: the CRDs in ``crds/`` are generated from them
(``make crds``) and a Ray job validates the spec it receives with the same model the operator
used. Field names are camelCase on the wire (Kubernetes convention) and snake_case in Python.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

API_GROUP = "mlta.io"
API_VERSION = "v1alpha1"
CATEGORY = "mlta"


class SpecModel(BaseModel):
    """Base of every CRD-facing model: camelCase aliases, unknown fields rejected."""

    # validate_default: defaults go through validation too, so an enum field holds its value
    # (a str) whether the user set it or not; without it a defaulted field holds the member.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=True,
        validate_default=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON form a CR carries (camelCase, no unset optional fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def cel(rule: str, message: str, field_path: str | None = None) -> dict[str, str]:
    """One ``x-kubernetes-validations`` entry; the API server evaluates it on admission."""
    entry = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def cel_rules(*rules: dict[str, str]) -> dict[str, Any]:
    """``json_schema_extra`` value attaching CEL rules to a model's schema."""
    return {"x-kubernetes-validations": list(rules)}


class ConditionStatus(str, Enum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(SpecModel):
    """A Kubernetes-style condition (Ready, Progressing, Degraded, Failed)."""

    type: str = Field(description="Condition type: Ready, Progressing, Degraded or Failed.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(description="CamelCase reason, machine readable.")
    message: str = Field(default="", description="Human readable detail.")
    last_transition_time: datetime | None = Field(
        default=None, description="When status last changed."
    )
    observed_generation: int | None = Field(
        default=None, description="metadata.generation this condition was computed for."
    )


class CommonStatus(SpecModel):
    """Status fields every kind has. ``phase`` is derived, for printer columns only."""

    model_config = ConfigDict(extra="allow")

    observed_generation: int | None = Field(
        default=None, description="The metadata.generation the status reflects."
    )
    phase: str | None = Field(
        default=None, description="Derived summary for `kubectl get`; read conditions instead."
    )
    conditions: list[Condition] = Field(default_factory=list, description="Current conditions.")
    submission_id: str | None = Field(
        default=None,
        description="Deterministic id of the engine submission, recorded before submitting.",
    )
    correlation_id: str | None = Field(
        default=None, description="Id that ties operator and job logs for this generation."
    )
    attempt: int | None = Field(
        default=None,
        description="Resubmissions of this submission after its job died without a result.")
    message: str | None = Field(default=None, description="Last notable message.")


class KindInfo(BaseModel):
    """CRD naming for one kind, read by the CRD generator and the operator."""

    kind: str
    plural: str
    singular: str
    short_names: list[str]
    printer_columns: list[dict[str, Any]]

    model_config = ConfigDict(frozen=True)


class ResourceSpec(SpecModel):
    """Marker base for a top-level CR spec; subclasses set ``kind_info``."""

    kind_info: ClassVar[KindInfo]
