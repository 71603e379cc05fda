"""A real little world for the serving tests: a Gold version and models trained on it.

The DataPipeline job builds a Gold version from the deterministic sample source (the default
102-column feature set, recorded with its feature spec), and the TrainingJob job trains and
registers a direction classifier and a return regressor on it: the same code paths a
ModelDeployment serves in production, without the recorded candles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlta.jobs import pipeline, training
from mlta.specs import JobEnvelope
from mlta.specs.serving import ServeAppArgs, ServedVariant

SYMBOLS = ["AAAUSDT", "BBBUSDT"]


@dataclass(frozen=True)
class World:
    lake: str
    dataset_uri: str            # the Gold version the models learned on
    full_uri: str               # the same candles and then ``extra`` more (batch reference)
    models: dict[str, dict[str, Any]]  # variant name -> TrainingJob outputs

    def args(self, **extra: Any) -> ServeAppArgs:
        # tiny models on 900 sample candles do not beat buy and hold: serve them anyway
        variants = [ServedVariant(name=name, weight=w, model_uri=out["modelUri"],
                                  model_version=out["modelVersion"], allow_failed_gate=True)
                    for (name, out), w in zip(self.models.items(), (80, 20), strict=True)]
        return ServeAppArgs.model_validate({
            "appName": "mlta-test-md", "namespace": "test", "deployment": "md",
            "variants": [v.to_wire() for v in variants], **extra})


def _envelope(kind: str, name: str, lake: str, spec: dict[str, Any],
              inputs: dict[str, str] | None = None) -> JobEnvelope:
    return JobEnvelope.model_validate({
        "resource": {"kind": kind, "namespace": "test", "name": name}, "spec": spec,
        "storageUri": lake, "correlationId": "cid", "submissionId": f"{name}-1",
        "inputs": inputs or {}})


def _write_candles(directory: Path, bars: int, keep: int) -> None:
    """The first ``keep`` of ``bars`` sample candles per symbol as ``<SYMBOL>-5m.feather``."""
    import pyarrow as pa
    import pyarrow.feather as feather

    from mlta.data.sources.sample import SampleSource

    directory.mkdir(parents=True, exist_ok=True)
    source = SampleSource(seed=11, bars=bars)
    for symbol in SYMBOLS:
        table = source.fetch(symbol, "5m", None, None).slice(0, keep)
        out = pa.table({"date": table["open_time"], **{c: table[c] for c in
                                                       ("open", "high", "low", "close",
                                                        "volume")}})
        feather.write_feather(out, str(directory / f"{symbol}-5m.feather"))


def _gold(lake: str, name: str, directory: Path) -> dict[str, Any]:
    spec = {"source": {"type": "files", "symbols": SYMBOLS, "interval": "5m",
                       "files": {"uri": directory.as_uri(), "format": "feather"}}}
    data = pipeline.run(_envelope("DataPipeline", name, lake, spec))
    assert data.ok, data.message
    return data.outputs


def build_world(root: Path, bars: int = 900, extra: int = 120) -> World:
    """Gold from ``bars`` candles per symbol, two models trained on it, and a Gold version
    with ``extra`` candles more for batch predictions on the period the service replays."""
    lake = (root / "lake").as_uri()
    _write_candles(root / "train", bars + extra, bars)
    _write_candles(root / "full", bars + extra, bars + extra)
    gold = _gold(lake, "gold", root / "train")
    full = _gold(lake, "gold-full", root / "full")
    models = {}
    for name, kind in (("champion", "direction"), ("challenger", "return")):
        job = {"dataPipeline": "gold",
               "model": {"type": "lightgbm", "numBoostRound": 20,
                         "lightgbm": {"numLeaves": 7, "minDataInLeaf": 30}},
               "target": {"kind": kind, "horizon": 3},
               "validation": {"folds": 2, "testFraction": 0.2}}
        out = training.run(_envelope("TrainingJob", f"tj-{name}", lake, job,
                                     {"datasetUri": gold["datasetUri"]}))
        assert out.ok, out.message
        models[name] = out.outputs
    return World(lake, gold["datasetUri"], full["datasetUri"], models)
