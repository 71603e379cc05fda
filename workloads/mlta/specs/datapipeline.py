"""DataPipeline: exchange candles -> Bronze (raw) -> Silver (clean) -> Gold (features)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import Field

from .base import CommonStatus, KindInfo, ResourceSpec, SpecModel, cel, cel_rules

INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")


class SourceType(str, Enum):
    SAMPLE = "sample"
    BINANCE = "binance"
    FILES = "files"


class Interval(str, Enum):
    M1 = "1m"
    M3 = "3m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H2 = "2h"
    H4 = "4h"
    H6 = "6h"
    H8 = "8h"
    H12 = "12h"
    D1 = "1d"


class SampleSource(SpecModel):
    """Deterministic synthetic candles: the same seed always gives the same data."""

    seed: int = Field(default=42, ge=0, description="Random seed of the generator.")
    bars: int = Field(
        default=5000, ge=100, le=10_000_000, description="Candles generated per symbol."
    )


class BinanceSource(SpecModel):
    """Binance public REST klines (spot)."""

    base_url: str = Field(
        default="https://api.binance.com",
        pattern=r"^https?://",
        description="REST base URL; a test points this at a local fake exchange.",
    )
    max_weight_per_minute: int = Field(
        default=1200, ge=1, description="Request weight budget per minute (X-MBX-USED-WEIGHT)."
    )


class FileFormat(str, Enum):
    PARQUET = "parquet"
    CSV = "csv"
    FEATHER = "feather"


class FilesSource(SpecModel):
    """Candles from files: one per symbol, columns date/open/high/low/close/volume."""

    uri: str = Field(
        min_length=1,
        description="Directory or URI (file:// or s3://) with files named <SYMBOL>-<interval>.<ext>.",
    )
    format: FileFormat = Field(default=FileFormat.PARQUET, description="File format.")


class Source(SpecModel):
    """Where candles come from."""

    type: SourceType = Field(description="sample, binance or files.")
    symbols: list[str] = Field(
        min_length=1,
        max_length=64,
        description="Symbols such as BTCUSDT.",
        json_schema_extra={"items": {"type": "string", "pattern": "^[A-Z0-9_]{2,20}$"}},
    )
    interval: Interval = Field(default=Interval.M5, description="Candle interval.")
    start: datetime | None = Field(default=None, description="First candle open time (UTC).")
    end: datetime | None = Field(default=None, description="End of range, exclusive (UTC).")
    sample: SampleSource | None = Field(default=None, description="Settings for type sample.")
    binance: BinanceSource | None = Field(default=None, description="Settings for type binance.")
    files: FilesSource | None = Field(default=None, description="Settings for type files.")

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.type != 'files' || has(self.files)",
                "source.files is required when source.type is files", ".files"),
            cel("!has(self.start) || !has(self.end) || self.start < self.end",
                "source.start must be before source.end", ".start"),
        )
    }


class QualityPolicy(str, Enum):
    FAIL = "fail"
    WARN = "warn"
    REPAIR = "repair"


class Quality(SpecModel):
    """Silver-layer quality checks and what to do when they fail."""

    policy: QualityPolicy = Field(
        default=QualityPolicy.REPAIR,
        description="fail: stop before Gold; warn: build Gold and report; repair: fix then build.",
    )
    max_gap_ratio: float = Field(
        default=0.05, ge=0, le=1, description="Largest tolerated fraction of missing candles."
    )


class IndicatorSpec(SpecModel):
    """One indicator of the feature set, by registry name, with numeric parameters."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$", description="Indicator name.")
    params: dict[str, float] = Field(
        default_factory=dict, description="Numeric parameters, e.g. {window: 14}."
    )


def default_indicators() -> list[IndicatorSpec]:
    return [
        IndicatorSpec(name="returns", params={"window": 1}),
        IndicatorSpec(name="returns", params={"window": 12}),
        IndicatorSpec(name="sma_ratio", params={"window": 20}),
        IndicatorSpec(name="ema_ratio", params={"window": 50}),
        IndicatorSpec(name="rsi", params={"window": 14}),
        IndicatorSpec(name="atr", params={"window": 14}),
        IndicatorSpec(name="bollinger_pctb", params={"window": 20, "k": 2}),
        IndicatorSpec(name="realized_vol", params={"window": 30}),
        IndicatorSpec(name="volume_zscore", params={"window": 30}),
    ]


class Features(SpecModel):
    """The Gold layer's feature set."""

    indicators: list[IndicatorSpec] = Field(
        default_factory=default_indicators,
        min_length=1,
        max_length=512,
        description="Indicators to compute; see the registry for names and parameters.",
    )


class Storage(SpecModel):
    """Where the lake lives. Empty means the operator's configured default."""

    uri: str | None = Field(
        default=None, description="Lake root, file:///path or s3://bucket/prefix."
    )


class DataPipelineSpec(ResourceSpec):
    """Desired state of a DataPipeline."""

    source: Source = Field(description="Where candles come from.")
    quality: Quality = Field(default_factory=Quality, description="Silver quality policy.")
    features: Features = Field(default_factory=Features, description="Gold features.")
    storage: Storage = Field(default_factory=Storage, description="Lake location.")

    model_config = ResourceSpec.model_config | {
        "json_schema_extra": cel_rules(
            cel("self.source.type != 'binance' || has(self.source.start)",
                "source.start is required for binance (where to begin fetching)", ".source.start"),
        )
    }

    kind_info = KindInfo(
        kind="DataPipeline",
        plural="datapipelines",
        singular="datapipeline",
        short_names=["dp"],
        printer_columns=[
            {"name": "Source", "type": "string", "jsonPath": ".spec.source.type"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Version", "type": "string", "jsonPath": ".status.datasetVersion"},
            {"name": "Rows", "type": "integer", "jsonPath": ".status.rows"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    )


class DataPipelineStatus(CommonStatus):
    """Observed state of a DataPipeline."""

    dataset_version: str | None = Field(default=None, description="Gold dataset version id.")
    dataset_uri: str | None = Field(default=None, description="Gold dataset location.")
    rows: int | None = Field(default=None, description="Gold rows written.")
    feature_count: int | None = Field(default=None, description="Feature columns in Gold.")
