"""Bad input through the job's ``run()``: a clear typed failure, and the lake left as it was.

A lake is first filled by good runs (a files source and the fake Binance), then every bad
input runs against the same lake and the same pipeline names: unknown symbol or interval,
an inverted range, a corrupt or schema-mismatched candle file, exchange errors. Each must
give ``JobResult(ok=False)`` whose reason and message name the cause, and every file stored
before must still be there byte for byte, with no new Gold version published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather
import pytest
from tests.support.fake_binance import FakeBinance

from mlta.data import catalog
from mlta.jobs.pipeline import run
from mlta.specs import JobEnvelope, JobResult


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)


@pytest.fixture()
def fake(candles_dir: Path) -> Iterator[FakeBinance]:
    with FakeBinance(candles_dir) as server:
        yield server


INDICATORS = {"indicators": [{"name": "returns", "params": {"window": 1}}]}


def _run(spec: dict[str, Any], lake: str, name: str) -> JobResult:
    return run(JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "team-b", "name": name},
        "spec": {**spec, "features": INDICATORS}, "storageUri": lake,
        "correlationId": "cid-bad", "submissionId": "sub-bad"}))


def _files_spec(uri: Path, symbols: list[str]) -> dict[str, Any]:
    return {"source": {"type": "files", "symbols": symbols,
                       "files": {"uri": str(uri), "format": "feather"}}}


def _binance_spec(url: str, symbols: list[str], start: str, end: str,
                  interval: str = "5m") -> dict[str, Any]:
    return {"source": {"type": "binance", "symbols": symbols, "interval": interval,
                       "start": start, "end": end, "binance": {"baseUrl": url}}}


def _snapshot(lake: str) -> dict[str, str]:
    root = Path(lake.removeprefix("file://"))
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _gold_versions(lake: str) -> dict[str, list[str]]:
    return {d.name: [v.version for v in d.versions] for d in catalog.list_datasets(lake, "gold")}


@pytest.fixture()
def filled(lake: str, tmp_path: Path, candles_dir: Path, fake: FakeBinance) -> Path:
    """A lake with Bronze/Silver/Gold from good runs; returns the files source's directory."""
    files = tmp_path / "candles"
    files.mkdir()
    for name in ("ADA_BTC-5m.feather", "ETH_BTC-5m.feather"):
        feather.write_feather(feather.read_table(candles_dir / name), str(files / name))
    assert _run(_files_spec(files, ["ADA_BTC", "ETH_BTC"]), lake, "files").ok
    good = _run(_binance_spec(fake.url, ["ETHBTC"], "2018-01-10T00:00:00Z",
                              "2018-01-14T00:00:00Z"), lake, "binance")
    assert good.ok, good.message
    return files


def _corrupt(files: Path) -> None:
    (files / "ADA_BTC-5m.feather").write_bytes(b"ARROW1\x00\x00 this is not a feather file")


def _drop_volume(files: Path) -> None:
    table = feather.read_table(files / "ADA_BTC-5m.feather")
    feather.write_feather(table.drop(["volume"]), str(files / "ADA_BTC-5m.feather"))


def _close_as_text(files: Path) -> None:
    table = feather.read_table(files / "ADA_BTC-5m.feather")
    idx = table.schema.get_field_index("close")
    table = table.set_column(idx, "close", table["close"].cast(pa.string()))
    feather.write_feather(table, str(files / "ADA_BTC-5m.feather"))


@pytest.mark.parametrize(("damage", "reason", "needles"), [
    (_corrupt, "DataError", ["ADA_BTC-5m.feather is corrupt or not feather"]),
    (_drop_volume, "DataError", ["ADA_BTC-5m.feather: missing column(s) volume"]),
    (_close_as_text, "DataError", ["ADA_BTC-5m.feather: column 'close' has type string"]),
])
def test_bad_candle_files_fail_naming_file_and_column(
        lake: str, filled: Path, damage: Any, reason: str, needles: list[str]) -> None:
    before, versions = _snapshot(lake), _gold_versions(lake)
    damage(filled)
    result = _run(_files_spec(filled, ["ADA_BTC", "ETH_BTC"]), lake, "files")
    assert not result.ok and result.reason == reason
    assert all(n in result.message for n in needles), result.message
    assert result.message.startswith("ADA_BTC: ")  # which symbol
    after = _snapshot(lake)
    assert {k: after.get(k) for k in before} == before  # nothing stored lost or altered
    assert _gold_versions(lake) == versions  # and nothing published


@pytest.mark.parametrize(("case", "reason", "needles"), [
    ("unknown_symbol", "UnknownSymbol", ["NOPEUSDT: unknown symbol 'NOPEUSDT'", "exchangeInfo"]),
    ("unknown_interval", "InvalidSpec", ["source.interval", "'1m', '3m', '5m'"]),
    ("inverted_range", "InvalidSpec", ["source.start must be before source.end"]),
    ("ip_ban", "SourceError", ["ETHBTC: GET", "IP banned by the exchange for 900s (HTTP 418)",
                               "lower max_weight_per_minute"]),
])
def test_bad_binance_input_and_exchange_errors_leave_the_lake_as_it_was(
        lake: str, filled: Path, fake: FakeBinance, case: str, reason: str,
        needles: list[str]) -> None:
    before, versions = _snapshot(lake), _gold_versions(lake)
    start, end = "2018-01-10T00:00:00Z", "2018-01-20T00:00:00Z"
    symbols = ["ETHBTC"]
    interval = "5m"
    if case == "unknown_symbol":
        symbols = ["ETHBTC", "NOPEUSDT"]
    elif case == "unknown_interval":
        interval = "7m"
    elif case == "inverted_range":
        start, end = end, start
    else:
        fake.inject("418", skip=1, retry_after=900)  # one new page arrives, then the ban
    result = _run(_binance_spec(fake.url, symbols, start, end, interval), lake, "binance")
    assert not result.ok and result.reason == reason, result
    assert all(n in result.message for n in needles), result.message
    after = _snapshot(lake)
    assert {k: after.get(k) for k in before} == before
    assert _gold_versions(lake) == versions
    if case == "ip_ban":  # the page that arrived before the ban is kept for the rerun
        assert [k for k in after if k not in before and "/_batches/" in k]
