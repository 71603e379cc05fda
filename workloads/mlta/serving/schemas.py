"""Request and response shapes, for the OpenAPI document (/openapi.json, /docs).

The hot endpoints read their JSON body themselves (a strict parser that refuses NaN, then the
checks in ``validation``/``candles``), because validating ~100 features through a model per
request costs more than the prediction; these models describe the same shapes for clients
and for the schemathesis fuzz test, and are inlined into the operations' ``openapi_extra``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(_Doc):
    """One row (``features``) or a batch (``rows``); exactly one of them."""

    features: dict[str, float | None] | None = Field(
        default=None, description="Feature name -> value (null for a missing value).")
    rows: list[dict[str, float | None]] | None = Field(default=None, description="A batch.")
    key: str | None = Field(default=None, description="Routing key (a client or symbol id): "
                                                      "the same key reaches the same variant.")
    explain: bool = Field(default=False, description="Add SHAP contributions per feature.")


class Prediction(_Doc):
    prediction: float = Field(description="P(up) for direction targets, else the forecast.")
    label: str | None = Field(default=None, description="up or down (classifiers).")


class PredictResponse(_Doc):
    variant: str
    modelVersion: str
    predictions: list[Prediction]
    prediction: float | None = None
    label: str | None = None
    latencyMs: float


class CandleIn(_Doc):
    openTime: int | str = Field(description="Epoch ms or ISO 8601 UTC.")
    open: float
    high: float
    low: float
    close: float
    volume: float
    closeTime: int | str | None = None


class CandlesRequest(_Doc):
    symbol: str
    candles: list[CandleIn] = Field(min_length=1)
    key: str | None = None


class ErrorBody(_Doc):
    error: str
    hint: str | None = None


class V2Tensor(_Doc):
    name: str
    shape: list[int]
    datatype: str = Field(description="FP64, FP32, INT64 or INT32.")
    data: list[Any]
    parameters: dict[str, Any] | None = None


class V2InferRequest(_Doc):
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[V2Tensor] = Field(min_length=1)
    outputs: list[dict[str, Any]] | None = None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with ``$defs`` references inlined (OpenAPI has no $defs)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    out: dict[str, Any] = resolve(schema)
    return out


def body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for an operation whose JSON body has ``model``'s shape."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": inline_schema(model)}}}}


def responses(ok: type[BaseModel] | None = None, *codes: int) -> dict[int | str, Any]:
    error = {"content": {"application/json": {"schema": inline_schema(ErrorBody)}}}
    out: dict[int | str, Any] = {code: {"description": "error", **error} for code in codes}
    if ok is not None:
        out[200] = {"description": "OK",
                    "content": {"application/json": {"schema": inline_schema(ok)}}}
    return out
