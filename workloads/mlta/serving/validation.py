"""Request validation: a JSON body -> a float matrix in the model's feature order.

Two body forms are accepted: ``{"features": {name: value}}`` (one row) and
``{"rows": [{name: value}, ...]}`` (a batch). Extra columns are ignored (clients may send a
superset, e.g. the union of every variant's features); missing ones are a 422 that names
them. ``null`` and NaN mean "missing value", which LightGBM handles natively.

``RequestRejected`` carries the HTTP status so the ingress can answer ``{"error", "hint"}``
with the right code even when the rejection happened inside a predictor replica (the error
crosses the Ray boundary by pickling; ``__reduce__`` keeps status and hint intact).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ServingError

MAX_ROWS = 10_000


class RequestRejected(ServingError):
    """The client sent something the service cannot answer; ``status`` is the HTTP code."""

    reason = "BadRequest"

    def __init__(self, message: str, *, hint: str | None = None, status: int = 422) -> None:
        super().__init__(message, hint=hint)
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_rejected, (self.message, self.hint, self.status))

    def body(self) -> dict[str, Any]:
        """The JSON error body every endpoint returns."""
        return {"error": self.message, "hint": self.hint}


def _rebuild_rejected(message: str, hint: str | None, status: int) -> RequestRejected:
    return RequestRejected(message, hint=hint, status=status)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes) -> Any:
    """Strict JSON: NaN and Infinity (which Python's json accepts) are refused with a 400."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestRejected(f"the body is not valid JSON: {exc}",
                              hint='send {"features": {...}} as application/json; a missing '
                                   "value is null, never NaN", status=400) from exc


@dataclass(frozen=True)
class ParsedRequest:
    """A validated request: the routing key and the raw feature rows (mappings)."""

    key: str | None
    rows: list[Mapping[str, Any]]
    single: bool
    explain: bool = False


def parse_body(body: Any, max_rows: int = MAX_ROWS) -> ParsedRequest:
    """Check the shape of a /predict body (not the feature names; those are per model)."""
    if not isinstance(body, Mapping):
        raise RequestRejected("the request body must be a JSON object",
                              hint='send {"features": {...}} or {"rows": [{...}, ...]}')
    has_features, has_rows = "features" in body, "rows" in body
    if has_features == has_rows:
        raise RequestRejected("send exactly one of 'features' (one row) or 'rows' (a batch)",
                              hint='e.g. {"features": {"ret_1": 0.01}, "key": "client-7"}')
    key = body.get("key")
    if key is not None and not isinstance(key, (str, int)):
        raise RequestRejected("'key' must be a string or an integer",
                              hint="use a stable client or symbol id")
    if has_features:
        row = body["features"]
        if not isinstance(row, Mapping):
            raise RequestRejected("'features' must be an object of column name -> number")
        rows: list[Mapping[str, Any]] = [row]
    else:
        raw = body["rows"]
        if not isinstance(raw, list) or not raw:
            raise RequestRejected("'rows' must be a non-empty list of objects")
        if len(raw) > max_rows:
            raise RequestRejected(f"too many rows: {len(raw)} > {max_rows}",
                                  hint="split the batch into smaller requests", status=413)
        bad = [i for i, r in enumerate(raw) if not isinstance(r, Mapping)]
        if bad:
            raise RequestRejected(f"rows {bad[:10]} are not objects of column name -> number")
        rows = raw
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise RequestRejected("'explain' must be true or false")
    return ParsedRequest(key=None if key is None else str(key), rows=rows, single=has_features,
                         explain=explain)


def _to_float(value: Any) -> float | None:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return None if math.isinf(value) else value  # NaN is "missing"; infinity is refused


#: Value types of a row that need no per-value check (what JSON numbers decode to).
_PLAIN_NUMBERS = frozenset({float, int})


def to_matrix(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[list[float]]:
    """Rows as lists of floats in ``columns`` order; 422 naming missing or non-numeric columns.

    Every request pays this, so a row of plain JSON numbers takes one pass (a lookup per
    column, one type check for the row, one infinity check); anything else (a missing column,
    null, a string, a bool, infinity) goes the slow way, which finds and names it.
    """
    matrix: list[list[float]] = []
    for row in rows:
        try:
            values = [row[c] for c in columns]
        except KeyError:
            return _to_matrix_checked(rows, columns)
        if not {type(v) for v in values} <= _PLAIN_NUMBERS:
            return _to_matrix_checked(rows, columns)
        floats = [float(v) for v in values]
        if math.inf in floats or -math.inf in floats:
            return _to_matrix_checked(rows, columns)
        matrix.append(floats)
    return matrix


def _check_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """422 naming every feature column missing from any row."""
    missing: set[str] = set()
    for row in rows:
        missing.update(c for c in columns if c not in row)
    if not missing:
        return
    names = sorted(missing)
    raise RequestRejected(
        f"missing feature columns: {', '.join(names)}",
        hint=f"this model needs {len(columns)} features: {', '.join(columns)}; "
             "send null for an unknown value",
    )


def _to_matrix_checked(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[list[float]]:
    """The value by value path: null is NaN (missing), anything not a finite number is refused."""
    _check_columns(rows, columns)
    matrix: list[list[float]] = []
    for i, row in enumerate(rows):
        values: list[float] = []
        for col in columns:
            value = _to_float(row[col])
            if value is None:
                raise RequestRejected(
                    f"feature {col!r} in row {i} is not a number: {row[col]!r}",
                    hint="features are numbers; send null for a missing value")
            values.append(value)
        matrix.append(values)
    return matrix
