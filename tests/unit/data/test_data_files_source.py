"""The files source: recorded candles and exported files in, standard columns out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from mlta.data.sources.base import STANDARD_COLUMNS
from mlta.data.sources.files import FilesSource
from mlta.errors import DataError

from .helpers import candles


def _recorded_layout(n: int = 50) -> pd.DataFrame:
    frame = candles(n).drop(columns=["close_time"]).rename(columns={"open_time": "date"})
    return frame


def test_reads_recorded_feather_candles(candles_dir: Path) -> None:
    src = FilesSource(str(candles_dir), "feather")
    t = src.fetch("ADA_BTC", "5m", None, None)
    assert t.num_rows == 5720
    assert tuple(t.column_names) == STANDARD_COLUMNS
    assert t.schema.field("open_time").type == pa.timestamp("ms", tz="UTC")
    assert t["open_time"][0].as_py() == datetime(2018, 1, 10, 4, 55, tzinfo=UTC)
    first_close = t["close_time"][0].as_py()
    assert first_close == datetime(2018, 1, 10, 4, 59, 59, 999000, tzinfo=UTC)


def test_filters_start_inclusive_end_exclusive(candles_dir: Path) -> None:
    src = FilesSource("file://" + str(candles_dir), "feather")
    start, end = datetime(2018, 1, 11, tzinfo=UTC), datetime(2018, 1, 11, 1, tzinfo=UTC)
    t = src.fetch("ETH_BTC", "5m", start, end)
    assert t.num_rows == 12
    assert t["open_time"][0].as_py() == start
    assert t["open_time"][-1].as_py() == datetime(2018, 1, 11, 0, 55, tzinfo=UTC)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "feather"])
def test_each_format_and_the_standard_layout(tmp_path: Path, fmt: str) -> None:
    frame = _recorded_layout()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path = tmp_path / f"XYZUSDT-5m.{fmt}"
    {"parquet": lambda: pq.write_table(table, path),
     "csv": lambda: pcsv.write_csv(table, path),
     "feather": lambda: feather.write_feather(table, path)}[fmt]()
    t = FilesSource(str(tmp_path), fmt).fetch("XYZUSDT", "5m", None, None)
    assert t.num_rows == 50
    assert t["close"].to_pylist() == pytest.approx(frame["close"].tolist())
    assert t["open_time"].to_pylist() == list(frame["date"].dt.to_pydatetime())
    # The standard columns (open_time, close_time) are accepted as well.
    pq.write_table(pa.Table.from_pandas(candles(30), preserve_index=False),
                   tmp_path / "STDUSDT-5m.parquet")
    std = FilesSource(str(tmp_path), "parquet").fetch("STDUSDT", "5m", None, None)
    assert std.num_rows == 30 and tuple(std.column_names) == STANDARD_COLUMNS


def test_times_as_epoch_ms_naive_timestamps_and_iso_strings(tmp_path: Path) -> None:
    frame = _recorded_layout(10)
    expected = list(frame["date"].dt.to_pydatetime())
    variants = {
        "MSUSDT": frame.assign(date=frame["date"].dt.as_unit("ms").astype("int64")),
        "NAIVEUSDT": frame.assign(date=frame["date"].dt.tz_localize(None)),
        "ISOUSDT": frame.assign(date=frame["date"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
    }
    for symbol, variant in variants.items():
        pq.write_table(pa.Table.from_pandas(variant, preserve_index=False),
                       tmp_path / f"{symbol}-5m.parquet")
        t = FilesSource(str(tmp_path)).fetch(symbol, "5m", None, None)
        assert t["open_time"].to_pylist() == expected, symbol


def test_unsorted_input_comes_back_sorted(tmp_path: Path) -> None:
    frame = _recorded_layout(20).sample(frac=1.0, random_state=3)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "S-5m.parquet")
    t = FilesSource(str(tmp_path)).fetch("S", "5m", None, None)
    ms = t["open_time"].cast(pa.int64()).to_pylist()
    assert ms == sorted(ms)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"NOPE-5m\.parquet does not exist") as info:
        FilesSource(str(tmp_path)).fetch("NOPE", "5m", None, None)
    assert info.value.reason == "NotFound"
    assert "SYMBOL" in str(info.value)  # the hint explains the naming scheme


def test_missing_column_names_the_file_and_column(tmp_path: Path) -> None:
    frame = _recorded_layout().drop(columns=["volume"])
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "A-5m.parquet")
    with pytest.raises(DataError, match=r"A-5m\.parquet: missing column\(s\) volume"):
        FilesSource(str(tmp_path)).fetch("A", "5m", None, None)
    no_time = _recorded_layout().drop(columns=["date"])
    pq.write_table(pa.Table.from_pandas(no_time, preserve_index=False), tmp_path / "B-5m.parquet")
    with pytest.raises(DataError, match=r"missing column\(s\) date \(or open_time\)"):
        FilesSource(str(tmp_path)).fetch("B", "5m", None, None)


def test_wrong_dtypes_name_the_column(tmp_path: Path) -> None:
    frame = _recorded_layout().assign(close=lambda f: f["close"].map(lambda x: f"{x:.2f}$"))
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "C-5m.parquet")
    with pytest.raises(DataError, match=r"C-5m\.parquet: column 'close' has type (large_)?string"):
        FilesSource(str(tmp_path)).fetch("C", "5m", None, None)
    bad_time = _recorded_layout().assign(date="yesterday")
    pq.write_table(pa.Table.from_pandas(bad_time, preserve_index=False), tmp_path / "D-5m.parquet")
    with pytest.raises(DataError, match=r"D-5m\.parquet: column 'date' has values that are not"):
        FilesSource(str(tmp_path)).fetch("D", "5m", None, None)
    float_time = _recorded_layout().assign(date=1.5)
    pq.write_table(pa.Table.from_pandas(float_time, preserve_index=False),
                   tmp_path / "E-5m.parquet")
    with pytest.raises(DataError, match=r"column 'date' has type double, expected a timestamp"):
        FilesSource(str(tmp_path)).fetch("E", "5m", None, None)


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_corrupt_file_names_the_file(tmp_path: Path, fmt: str) -> None:
    (tmp_path / f"BAD-5m.{fmt}").write_bytes(b"PAR1 this is not a real file at all")
    with pytest.raises(DataError, match=rf"BAD-5m\.{fmt} is corrupt or not {fmt}"):
        FilesSource(str(tmp_path), fmt).fetch("BAD", "5m", None, None)


def test_unknown_format_and_interval(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown file format"):
        FilesSource(str(tmp_path), "xlsx")
    with pytest.raises(DataError, match="unknown interval"):
        FilesSource(str(tmp_path)).fetch("A", "2m", None, None)
