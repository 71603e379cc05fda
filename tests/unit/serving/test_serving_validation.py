"""Request bodies -> feature matrices; errors name the problem and carry the HTTP status."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

from mlta.errors import ServingError
from mlta.serving.validation import MAX_ROWS, RequestRejected, parse_body, to_matrix

COLUMNS = ["ret_1", "ret_3", "vol_6"]


def test_single_row_form() -> None:
    parsed = parse_body({"features": {"ret_1": 0.1, "ret_3": 0.2, "vol_6": 0.3}, "key": 42})
    assert parsed.single and parsed.key == "42" and len(parsed.rows) == 1


def test_batch_form_without_key() -> None:
    parsed = parse_body({"rows": [{"ret_1": 1}, {"ret_1": 2}]})
    assert not parsed.single and parsed.key is None and len(parsed.rows) == 2


@pytest.mark.parametrize(("body", "needle"), [
    ([1, 2], "must be a JSON object"),
    ({}, "exactly one of 'features'"),
    ({"features": {}, "rows": [{}]}, "exactly one of 'features'"),
    ({"features": [1, 2]}, "'features' must be an object"),
    ({"rows": []}, "non-empty list"),
    ({"rows": [{"a": 1}, 3]}, "rows [1] are not objects"),
    ({"features": {}, "key": {"nested": 1}}, "'key' must be"),
])
def test_bad_shapes_are_422(body: object, needle: str) -> None:
    with pytest.raises(RequestRejected) as info:
        parse_body(body)
    assert needle in info.value.message
    assert info.value.status == 422


def test_oversized_batch_is_413() -> None:
    with pytest.raises(RequestRejected) as info:
        parse_body({"rows": [{}] * (MAX_ROWS + 1)})
    assert info.value.status == 413


def test_matrix_in_model_order_ignoring_extras_with_nan_for_missing_values() -> None:
    rows: list[dict[str, Any]] = [{"vol_6": 3, "ret_3": 2.5, "ret_1": 1, "extra": "ignored"},
            {"ret_1": None, "ret_3": math.nan, "vol_6": -1e-3}]
    matrix = to_matrix(rows, COLUMNS)
    assert matrix[0] == [1.0, 2.5, 3.0]
    assert math.isnan(matrix[1][0]) and math.isnan(matrix[1][1]) and matrix[1][2] == -1e-3


def test_missing_columns_are_named_across_all_rows() -> None:
    with pytest.raises(RequestRejected) as info:
        to_matrix([{"ret_1": 1, "ret_3": 1}, {"ret_1": 1, "vol_6": 1}], COLUMNS)
    assert info.value.status == 422
    assert info.value.message == "missing feature columns: ret_3, vol_6"
    assert info.value.hint is not None and "ret_1, ret_3, vol_6" in info.value.hint


@pytest.mark.parametrize("value", ["0.1", True, [1.0], {"v": 1}, math.inf, -math.inf])
def test_non_numeric_values_are_rejected(value: object) -> None:
    with pytest.raises(RequestRejected) as info:
        to_matrix([{"ret_1": 1, "ret_3": value, "vol_6": 1}], COLUMNS)
    assert "'ret_3' in row 0 is not a number" in info.value.message


def test_plain_rows_and_checked_rows_give_the_same_matrix() -> None:
    """The fast path (plain JSON numbers) and the value-by-value one agree, row after row."""
    import numpy as np

    plain = [{"ret_1": 1, "ret_3": 2.5, "vol_6": -3}, {"ret_1": 0.0, "ret_3": 7, "vol_6": 1e300}]
    assert to_matrix(plain, COLUMNS) == [[1.0, 2.5, -3.0], [0.0, 7.0, 1e300]]
    assert all(type(v) is float for row in to_matrix(plain, COLUMNS) for v in row)
    numpy_row = {"ret_1": np.float64(1.5), "ret_3": np.float64(2), "vol_6": 3}  # not JSON, still numbers
    assert to_matrix([plain[0], numpy_row], COLUMNS) == [[1.0, 2.5, -3.0], [1.5, 2.0, 3.0]]


@pytest.mark.parametrize(("second", "missing"), [({"ret_1": 1, "vol_6": 1}, "ret_3"),
                                                  ({"ret_1": 1, "ret_3": "x"}, "vol_6")])
def test_a_missing_column_is_named_whatever_comes_before_it(second: dict[str, Any],
                                                            missing: str) -> None:
    """A row that needs the checked path, then one missing a column: the 422 names the column."""
    with pytest.raises(RequestRejected) as info:
        to_matrix([{"ret_1": 1, "ret_3": None, "vol_6": 1}, second], COLUMNS)
    assert info.value.message == f"missing feature columns: {missing}"


@pytest.mark.parametrize("value", [math.inf, -math.inf, True])
def test_a_bad_value_after_good_rows_names_its_row(value: object) -> None:
    rows = [{"ret_1": 1, "ret_3": 2, "vol_6": 3}] * 2 + [{"ret_1": 1, "ret_3": 2, "vol_6": value}]
    with pytest.raises(RequestRejected, match="'vol_6' in row 2 is not a number"):
        to_matrix(rows, COLUMNS)


def test_rejection_survives_pickling_with_status_and_hint() -> None:
    original = RequestRejected("too big", hint="split it", status=413)
    copy = pickle.loads(pickle.dumps(original))
    assert isinstance(copy, RequestRejected) and isinstance(copy, ServingError)
    assert (copy.message, copy.hint, copy.status) == ("too big", "split it", 413)
    assert copy.body() == {"error": "too big", "hint": "split it"}
