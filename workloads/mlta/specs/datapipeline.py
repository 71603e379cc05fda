"""DataPipeline: exchange candles -> Bronze (raw) -> Silver (clean) -> Gold (features)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, field_validator, model_validator

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


def _spec(name: str, **params: float) -> IndicatorSpec:
    return IndicatorSpec(name=name, params=params)


def default_indicators() -> list[IndicatorSpec]:
    """The default Gold indicators, picked for 5-minute crypto candles.

    Scale-free on purpose (returns, ratios to averages, oscillators, volatility as a fraction
    of price, z-scores), so one model can be trained on several symbols whose prices differ by
    orders of magnitude. Horizons span 5 minutes to a day (288 bars). ``obv`` and ``macd`` are
    in volume/price units: they are computed as inputs of z-score transforms and left out of
    Gold by :func:`default_exclude`.
    """
    returns = [_spec("log_returns", window=w) for w in (1, 3, 6, 12, 24, 48, 96, 288)]
    volatility = [
        _spec("natr", window=14),
        _spec("parkinson", window=48), _spec("garman_klass", window=48),
        _spec("realized_vol", window=12), _spec("realized_vol", window=48),
        _spec("realized_vol", window=288),
        _spec("bollinger_width", window=20, k=2),
    ]
    trend = [
        *(_spec("ema_ratio", window=w) for w in (9, 21, 50, 100, 200)),
        *(_spec("sma_ratio", window=w) for w in (20, 50, 200)),
        _spec("ppo", fast=12, slow=26, matype=0),
        _spec("macd", fast=12, slow=26, signal=9),
        _spec("adx", window=14),
        _spec("plus_di", window=14), _spec("minus_di", window=14),
        _spec("aroon", window=25),
        _spec("er", window=10),
        _spec("trix", window=15),
        _spec("zscore", window=20), _spec("zscore", window=96),
        _spec("bars_since_max", window=48), _spec("bars_since_min", window=48),
    ]
    momentum = [
        _spec("rsi", window=7), _spec("rsi", window=14), _spec("rsi", window=28),
        _spec("stoch", fastk=14, slowk=3, slowd=3),
        _spec("stochrsi", window=14, fastk=5, fastd=3),
        _spec("cci", window=20),
        _spec("willr", window=14), _spec("mfi", window=14),
        _spec("tsi", first=25, second=13),
        _spec("bop"), _spec("imi", window=14),
        _spec("vortex", window=14),
    ]
    volume = [
        _spec("volume_zscore", window=12), _spec("volume_zscore", window=48),
        _spec("volume_zscore", window=288),
        _spec("vwap_ratio", window=96),
        _spec("bollinger_pctb", window=20, k=2),
        _spec("correl", window=48),
        _spec("obv"),
    ]
    return [*returns, *volatility, *trend, *momentum, *volume]


class TransformKind(str, Enum):
    """Causal column transforms: each output at row t reads rows <= t of its input only."""

    LAG = "lag"
    DIFF = "diff"
    PCT_CHANGE = "pct_change"
    ROLLING_MEAN = "rolling_mean"
    ROLLING_STD = "rolling_std"
    ROLLING_ZSCORE = "rolling_zscore"


#: The largest lag or rolling window a transform may use (one week of 1-minute bars).
MAX_TRANSFORM_PERIOD = 10_080
#: Patterns for transform columns: feature names, glob patterns over them, or a candle column.
COLUMN_PATTERN = r"^[a-z0-9_*?]+$"


class TransformSpec(SpecModel):
    """One transform applied to some columns, one output column per (column, period).

    Output names are ``<input feature>__<kind>_<period>``: ``f_rsi_14__lag_1``,
    ``f_close__zscore_50`` (a candle column ``close`` is named ``f_close``). Columns are matched
    against the indicators' features, then the outputs of earlier transforms, then the candle
    columns open/high/low/close/volume; a pattern matching nothing is an error.
    """

    kind: TransformKind = Field(
        description="lag, diff, pct_change (x[t]/x[t-p]-1), rolling_mean, rolling_std or "
                    "rolling_zscore ((x - rolling mean) / rolling population std).")
    columns: list[str] = Field(
        min_length=1,
        max_length=64,
        description="Feature names (f_rsi_14), glob patterns (f_rsi_*) or candle columns "
                    "(close, volume).",
        json_schema_extra={"items": {"type": "string", "pattern": COLUMN_PATTERN,
                                     "maxLength": 128}},
    )
    periods: list[int] = Field(
        min_length=1,
        max_length=16,
        description="Lags for lag/diff/pct_change, windows (>= 2) for the rolling kinds.",
        json_schema_extra={"items": {"type": "integer", "minimum": 1,
                                     "maximum": MAX_TRANSFORM_PERIOD}},
    )

    model_config = SpecModel.model_config | {
        "json_schema_extra": cel_rules(
            cel("!self.kind.startsWith('rolling_') || self.periods.all(p, p >= 2)",
                "rolling transforms need windows of at least 2 rows", ".periods"),
        )
    }

    @field_validator("columns")
    @classmethod
    def _columns_ok(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if len(c) > 128 or not re.fullmatch(COLUMN_PATTERN, c)]
        if bad:
            raise ValueError(f"columns {bad} must be 1-128 characters of a-z, 0-9, _, * or ?")
        return value

    @field_validator("periods")
    @classmethod
    def _periods_ok(cls, value: list[int]) -> list[int]:
        bad = [p for p in value if not 1 <= p <= MAX_TRANSFORM_PERIOD]
        if bad:
            raise ValueError(f"periods {bad} must be in [1, {MAX_TRANSFORM_PERIOD}]")
        if len(set(value)) != len(value):
            raise ValueError(f"periods {value} has duplicates; list each period once")
        return value

    @model_validator(mode="after")
    def _windows_ok(self) -> TransformSpec:
        kind = TransformKind(self.kind)
        if kind.value.startswith("rolling_") and min(self.periods) < 2:
            raise ValueError("rolling transforms need windows of at least 2 rows")
        return self


def _transform(kind: TransformKind, columns: list[str], periods: list[int]) -> TransformSpec:
    return TransformSpec(kind=kind, columns=columns, periods=periods)


def default_transforms() -> list[TransformSpec]:
    """Transforms on top of :func:`default_indicators`: the recent past of the most informative
    features (lags), their changes, and z-scores of price-distance, volatility and volume-flow
    measures against the last 12 hours (144 five-minute bars), so regimes are comparable
    across symbols. Windows are chosen so no column warms up longer than the one-day (288-bar)
    indicators: training drops warm-up rows."""
    kind = TransformKind
    return [
        _transform(kind.LAG, ["f_log_returns_1"], [1, 2, 3, 4, 5, 6]),
        _transform(kind.LAG, ["f_rsi_14", "f_volume_zscore_48", "f_natr_14"], [1, 3]),
        _transform(kind.LAG, ["f_stoch_k_14_3_3", "f_cci_20", "f_willr_14"], [1]),
        _transform(kind.LAG, ["f_bop"], [1, 2]),
        _transform(kind.LAG, ["f_realized_vol_12"], [12, 48]),
        _transform(kind.DIFF, ["f_rsi_14"], [1, 3, 6, 12]),
        _transform(kind.DIFF, ["f_adx_14", "f_natr_14"], [1, 6, 12]),
        _transform(kind.DIFF, ["f_volume_zscore_48"], [3, 12]),
        _transform(kind.DIFF, ["f_cci_20"], [3]),
        _transform(kind.DIFF, ["f_realized_vol_48", "f_log_returns_12", "f_ema_ratio_21"], [12]),
        _transform(kind.ROLLING_ZSCORE,
                   ["f_ema_ratio_21", "f_ema_ratio_100", "f_sma_ratio_50", "f_vwap_ratio_96"],
                   [144]),
        _transform(kind.ROLLING_ZSCORE,
                   ["f_obv", "f_macd_hist_12_26_9", "f_natr_14", "f_bollinger_width_20_2",
                    "f_log_returns_12"], [144]),
        _transform(kind.ROLLING_MEAN, ["f_log_returns_1"], [288]),
        _transform(kind.ROLLING_MEAN, ["f_bop"], [12]),
    ]


def default_exclude() -> list[str]:
    """Default columns computed only as transform inputs: in volume or price units, so they
    would not generalise across symbols."""
    return ["f_obv", "f_macd_12_26_9", "f_macd_signal_12_26_9", "f_macd_hist_12_26_9"]


def _defaults_follow_indicators(data: dict[str, Any], factory: Callable[[], list[Any]],
                                ) -> list[Any]:
    """The default transforms/exclusions go with the default indicators only: a spec that
    lists its own indicators gets none (they would name columns it does not have)."""
    indicators = data.get("indicators")
    if indicators is None or indicators == default_indicators():
        return factory()
    return []


class Features(SpecModel):
    """The Gold layer's feature set: indicators, then transforms of their columns, minus the
    excluded (intermediate) columns."""

    indicators: list[IndicatorSpec] = Field(
        default_factory=default_indicators,
        min_length=1,
        max_length=512,
        description="Indicators to compute; see the registry for names and parameters.",
    )
    transforms: list[TransformSpec] = Field(
        default_factory=lambda data: _defaults_follow_indicators(data, default_transforms),
        max_length=64,
        description="Causal transforms (lags, differences, rolling z-scores) of indicator "
                    "features or candle columns, applied in order after the indicators. "
                    "Defaults to the default set's transforms when indicators are defaulted.",
    )
    exclude: list[str] = Field(
        default_factory=lambda data: _defaults_follow_indicators(data, default_exclude),
        max_length=64,
        description="Feature names or glob patterns computed (e.g. as transform inputs) but "
                    "not written to Gold.",
        json_schema_extra={"items": {"type": "string", "pattern": COLUMN_PATTERN,
                                     "maxLength": 128}},
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
