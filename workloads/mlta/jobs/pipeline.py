"""The DataPipeline job: candles -> Bronze -> Silver -> Gold, one Ray task per symbol.

Each symbol's task fetches what Bronze lacks (resuming after the last stored candle),
rebuilds the symbol's Silver version with the quality policy, computes its features and
writes its Gold part into the Gold version's temporary directory. The driver then names the
version from the content and the spec and publishes it atomically, so a rerun with the same
inputs and spec reports the same version, and a failed or killed run publishes nothing.
Runs the tasks on Ray when Ray is initialised (inside a Ray job), serially otherwise.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..data.manifest import InputRef, spec_hash
from ..errors import MltaError, SpecError
from ..specs.datapipeline import DataPipelineSpec, IndicatorSpec, Source, TransformSpec
from ..specs.jobs import JobEnvelope, JobResult

if TYPE_CHECKING:  # pragma: no cover
    from ..data.gold import Featurizer, GoldPart

log = logging.getLogger(__name__)
#: The CRD's pattern for source.symbols (enforced by the API server, re-checked here).
SYMBOL_RE = re.compile(r"[A-Z0-9_]{2,20}")


class SymbolTask(BaseModel):
    """Everything one symbol's task needs (plain data, cheap to ship to a Ray worker)."""

    model_config = ConfigDict(extra="forbid")

    root: str
    source: dict[str, Any]
    source_key: str
    symbol: str
    interval: str
    start: datetime | None
    end: datetime | None
    policy: str
    max_gap_ratio: float
    indicators: list[dict[str, Any]]
    transforms: list[dict[str, Any]] = []
    exclude: list[str] = []
    gold_tmp_uri: str


class SymbolOutcome(BaseModel):
    """A task's result; expected errors travel as data so their reason survives Ray."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    ok: bool
    reason: str = ""
    message: str = ""
    new_batches: int = 0
    silver: InputRef | None = None
    bronze: list[InputRef] = []
    quality: dict[str, Any] = {}
    part: dict[str, Any] | None = None


def process_symbol(task: SymbolTask, featurizer: Featurizer | None = None) -> SymbolOutcome:
    """Bronze ingest, Silver build and the Gold part for one symbol."""
    from ..data import bronze, gold, silver
    from ..data.sources import make_source

    try:
        source = make_source(Source.model_validate(task.source))
        try:  # Bronze persists each page as it arrives (paged sources): a kill keeps them
            batches = bronze.ingest(task.root, task.source_key, source, task.symbol,
                                    task.interval, task.start, task.end)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        silver_manifest, silver_table = silver.write_silver(
            task.root, source=task.source_key, symbol=task.symbol, interval=task.interval,
            policy=task.policy, max_gap_ratio=task.max_gap_ratio, start=task.start,
            end=task.end)
        indicators = [IndicatorSpec.model_validate(i) for i in task.indicators]
        if featurizer is None:
            from ..features.pipeline import featurizer as spec_featurizer

            featurizer = spec_featurizer(
                [TransformSpec.model_validate(t) for t in task.transforms], task.exclude)
        table, names = gold.featurize(silver_table, task.symbol, indicators, featurizer)
        part = gold.write_part(task.gold_tmp_uri, task.symbol, table, names)
    except MltaError as err:
        log.error("symbol failed", extra={"symbol": task.symbol, "reason": err.reason})
        return SymbolOutcome(symbol=task.symbol, ok=False, reason=err.reason, message=str(err))
    log.info("symbol done", extra={"symbol": task.symbol, "rows": part.rows,
                                   "silver": silver_manifest.version,
                                   "new_batches": len(batches)})
    return SymbolOutcome(
        symbol=task.symbol, ok=True, new_batches=len(batches),
        silver=InputRef(layer="silver", version=silver_manifest.version,
                        uri=silver_manifest.uri, symbol=task.symbol),
        bronze=[ref for ref in silver_manifest.inputs if ref.layer == "bronze"],
        quality=silver_manifest.quality, part=part.model_dump(mode="json"),
    )


def _run_tasks(tasks: list[SymbolTask], featurizer: Featurizer | None) -> list[SymbolOutcome]:
    import ray

    if not ray.is_initialized():
        return [process_symbol(task, featurizer) for task in tasks]
    remote = ray.remote(num_cpus=1, max_retries=2)(process_symbol)
    refs = [remote.remote(task, featurizer) for task in tasks]
    return list(ray.get(refs))


def validate_spec(payload: dict[str, Any]) -> DataPipelineSpec:
    """The spec, with the CRD's cross-field rules checked too (they are CEL on the server)."""
    try:
        spec = DataPipelineSpec.model_validate(payload)
    except ValidationError as exc:
        raise SpecError(f"invalid DataPipeline spec: {exc}",
                        hint="fix the fields named above in the DataPipeline's spec") from exc
    src = spec.source
    if src.type == "files" and src.files is None:
        raise SpecError("source.files is required when source.type is files",
                        hint="add source.files.uri")
    if src.type == "binance" and src.start is None:
        raise SpecError("source.start is required for binance", hint="set source.start")
    if src.start and src.end and src.start >= src.end:
        raise SpecError("source.start must be before source.end", hint="fix the range")
    bad = [s for s in src.symbols if not SYMBOL_RE.fullmatch(s)]
    if bad:  # symbols become lake paths: never let one escape its partition
        raise SpecError(f"source.symbols {bad} are not valid symbols",
                        hint="use 2-20 characters A-Z, 0-9 or _, e.g. BTCUSDT")
    if len(set(src.symbols)) != len(src.symbols):
        raise SpecError(f"source.symbols has duplicates: {src.symbols}",
                        hint="list each symbol once")
    return spec


def run_pipeline(spec: DataPipelineSpec, root: str, namespace: str, name: str,
                 featurizer: Featurizer | None = None) -> dict[str, Any]:
    """Run the pipeline and return the job outputs (raises MltaError on expected failures)."""
    from ..data.gold import GoldPart, commit_gold
    from ..data.lake import gold_dir, sweep_stale_temp, version_writer
    from ..data.sources import enum_value, source_key
    from ..features.pipeline import plan_spec

    plan_spec(spec.features)  # a bad indicator or transform fails here, before any fetch
    src = spec.source
    key = source_key(src)
    interval = enum_value(src.interval)
    policy = enum_value(spec.quality.policy)
    digest = spec_hash(spec.model_dump(mode="json", by_alias=True, exclude={"storage"}))
    swept = sweep_stale_temp(gold_dir(root, namespace, name))
    if swept:
        log.info("removed temp dirs of killed runs", extra={"dirs": ",".join(swept)})
    with version_writer(gold_dir(root, namespace, name)) as writer:
        tasks = [SymbolTask(
            root=root, source=src.to_wire(), source_key=key, symbol=symbol, interval=interval,
            start=src.start, end=src.end, policy=policy,
            max_gap_ratio=spec.quality.max_gap_ratio,
            indicators=[i.to_wire() for i in spec.features.indicators],
            transforms=[t.to_wire() for t in spec.features.transforms],
            exclude=list(spec.features.exclude),
            gold_tmp_uri=writer.tmp_uri) for symbol in src.symbols]
        outcomes = _run_tasks(tasks, featurizer)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            first = failed[0]
            detail = "; ".join(f"{o.symbol}: {o.message}" for o in failed)
            raise MltaError(detail, reason=first.reason)
        parts: list[GoldPart] = [GoldPart.model_validate(o.part) for o in outcomes]
        inputs = [ref for o in outcomes for ref in ([o.silver] if o.silver else []) + o.bronze]
        quality = quality_summary(policy, outcomes)
        manifest = commit_gold(writer, parts, namespace=namespace, pipeline=name,
                               spec_digest=digest, source=key, interval=interval,
                               inputs=inputs, quality=quality,
                               features=spec.features.to_wire() if featurizer is None else None)
    log.info("gold committed", extra={"version": manifest.version, "rows": manifest.rows,
                                      "uri": manifest.uri})
    return {
        "datasetVersion": manifest.version,
        "datasetUri": manifest.uri,
        "rows": manifest.rows,
        "featureCount": len(manifest.feature_columns),
        "quality": manifest.quality,
        "silverVersions": {o.symbol: o.silver.version for o in outcomes if o.silver},
        "newBronzeBatches": sum(o.new_batches for o in outcomes),
    }


def quality_summary(policy: str, outcomes: list[SymbolOutcome]) -> dict[str, Any]:
    """Per-symbol quality (camelCase, for the CR status) and whether every symbol passed."""
    symbols = {}
    for o in outcomes:
        q = o.quality
        symbols[o.symbol] = {
            "completeness": q.get("completeness"), "validity": q.get("validity"),
            "consistency": q.get("consistency"), "missingBars": q.get("missing_bars"),
            "gapRatio": q.get("gap_ratio"),
            "gaps": {name: {"gaps": g["gaps"], "missingBars": g["missing_bars"]}
                     for name, g in q.get("gaps", {}).items()},
            "duplicates": q.get("duplicates"), "outliers": q.get("outliers"),
            "droppedRows": q.get("dropped_rows"), "clippedRows": q.get("clipped_rows"),
            "filledBars": q.get("filled_bars"), "warnings": q.get("warnings", []),
            "passed": q.get("passed"),
        }
    return {"policy": policy, "passed": all(s["passed"] for s in symbols.values()),
            "symbols": symbols}


def run(envelope: JobEnvelope) -> JobResult:
    """The job entry point the dispatcher (``mlta.jobs.run``) calls."""
    try:
        spec = validate_spec(envelope.spec)
        root = spec.storage.uri or envelope.storage_uri
        outputs = run_pipeline(spec, root, envelope.resource.namespace, envelope.resource.name)
    except MltaError as err:
        log.error("pipeline failed", extra={"reason": err.reason})
        return JobResult(ok=False, reason=err.reason, message=str(err))
    return JobResult(ok=True, outputs=outputs)
