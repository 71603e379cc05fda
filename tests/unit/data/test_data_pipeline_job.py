"""The DataPipeline job entry point: envelope in, JobResult out (serial, without Ray)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlta.data import catalog
from mlta.data.lake import read_dataset
from mlta.features.pipeline import plan_spec
from mlta.jobs.pipeline import run
from mlta.specs import JobEnvelope, JobResult
from mlta.specs.datapipeline import Features


def _envelope(spec: dict[str, Any], storage_uri: str, name: str = "demo") -> JobEnvelope:
    return JobEnvelope.model_validate({
        "resource": {"kind": "DataPipeline", "namespace": "team-a", "name": name},
        "spec": spec, "storageUri": storage_uri, "correlationId": "cid-1",
        "submissionId": "sub-1",
    })


def _run(spec: dict[str, Any], storage_uri: str) -> JobResult:
    result = run(_envelope(spec, storage_uri))
    assert isinstance(result, JobResult)
    return result


@pytest.fixture(autouse=True)
def _no_ray(monkeypatch) -> None:
    """These tests run the serial path; the Ray path is in tests/integration."""
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)


def test_sample_pipeline_reports_version_uri_rows_features_and_quality(lake: str) -> None:
    spec = {"source": {"type": "sample", "symbols": ["BTCUSDT", "ETHUSDT"],
                       "sample": {"seed": 3, "bars": 400}}}
    result = _run(spec, lake)
    assert result.ok, result.message
    out = result.outputs
    assert set(out) >= {"datasetVersion", "datasetUri", "rows", "featureCount", "quality"}
    assert out["datasetUri"] == f"{lake}/gold/team-a/demo/{out['datasetVersion']}"
    default = plan_spec(Features()).columns  # the default Gold set: indicators + transforms
    assert len(default) >= 100
    assert out["rows"] == 800 and out["featureCount"] == len(default)
    frame, manifest = read_dataset(out["datasetUri"])
    assert manifest.feature_columns == default and "f_obv" not in frame.columns  # excluded
    assert out["quality"]["passed"] is True
    assert out["quality"]["symbols"]["BTCUSDT"]["completeness"] == 1.0
    frame, manifest = read_dataset(out["datasetUri"])
    assert len(frame) == 800 and manifest.feature_columns == default
    assert all(c.startswith("f_") for c in manifest.feature_columns)
    # The result is what the operator reads back from the job's log line.
    assert JobResult.from_logs("noise\n" + result.log_line()) == result


def test_spec_storage_uri_wins_over_the_envelope(lake: str, tmp_path: Path) -> None:
    own = "file://" + str(tmp_path / "own-lake")
    spec = {"source": {"type": "sample", "symbols": ["BTCUSDT"], "sample": {"bars": 200}},
            "storage": {"uri": own}}
    result = _run(spec, lake)
    assert result.ok and result.outputs["datasetUri"].startswith(own + "/gold/")
    assert not Path(lake.removeprefix("file://")).exists()


def test_recorded_candles_report_the_real_gap(lake: str, candles_dir: Path) -> None:
    spec = {"source": {"type": "files", "symbols": ["ADA_BTC", "ETH_BTC"],
                       "files": {"uri": str(candles_dir), "format": "feather"}},
            "features": {"indicators": [{"name": "rsi", "params": {"window": 14}}]}}
    result = _run(spec, lake)
    assert result.ok, result.message
    ada = result.outputs["quality"]["symbols"]["ADA_BTC"]
    assert ada["missingBars"] == 40 and ada["filledBars"] == 7
    assert ada["gaps"]["long"] == {"gaps": 1, "missingBars": 33}
    assert result.outputs["quality"]["symbols"]["ETH_BTC"]["missingBars"] == 0
    assert result.outputs["rows"] == 5727 + 5760


def test_fail_policy_failure_is_a_typed_result(lake: str, candles_dir: Path) -> None:
    spec = {"source": {"type": "files", "symbols": ["ADA_BTC"],
                       "files": {"uri": str(candles_dir), "format": "feather"}},
            "quality": {"policy": "fail", "maxGapRatio": 0.001}}
    result = _run(spec, lake)
    assert not result.ok and result.reason == "DataError"
    assert "ADA_BTC 5m: quality checks failed: completeness: 40 of 5760" in result.message
    assert catalog.list_datasets(lake, "gold") == []  # nothing published
    assert catalog.list_datasets(lake, "silver") == []  # fail stops before Silver too


@pytest.mark.parametrize(("spec", "needle"), [
    ({"source": {"type": "sample", "symbols": ["BTCUSDT"]}, "bogus": 1}, "bogus"),
    ({"source": {"type": "sample", "symbols": ["btc"]}}, "symbols"),
    ({"source": {"type": "files", "symbols": ["BTCUSDT"]}}, "source.files is required"),
    ({"source": {"type": "binance", "symbols": ["BTCUSDT"]}}, "source.start is required"),
    ({"source": {"type": "sample", "symbols": ["A1", "A1"]}}, "duplicates"),
    ({"source": {"type": "sample", "symbols": ["BTCUSDT"], "start": "2024-02-01T00:00:00Z",
                 "end": "2024-01-01T00:00:00Z"}}, "before source.end"),
    ({"source": {"type": "sample", "symbols": ["BTCUSDT"]},
      "features": {"indicators": [{"name": "no_such_indicator"}]}}, "no_such_indicator"),
])
def test_invalid_specs_fail_with_invalid_spec(lake: str, spec: dict, needle: str) -> None:
    result = _run(spec, lake)
    assert not result.ok and result.reason == "InvalidSpec"
    assert needle in result.message


def test_missing_input_file_names_it(lake: str, tmp_path: Path) -> None:
    spec = {"source": {"type": "files", "symbols": ["NOPE"],
                       "files": {"uri": str(tmp_path)}}}
    result = _run(spec, lake)
    assert not result.ok and result.reason == "NotFound"
    assert "NOPE-5m.parquet does not exist" in result.message
