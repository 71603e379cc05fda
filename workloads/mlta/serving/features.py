"""Per-symbol streaming features, warm-started from the Gold version the models learned on.

A model's lineage names its Gold version (``datasetUri``); that version's manifest holds the
feature spec (``features``) and the candles. Variants trained on the same feature spec share
one :class:`FeatureGroup`. At start every symbol's Gold candles are replayed through a
``StreamingFeatureSet`` (all of them by default, which makes the live state exactly the
batch state), and the replay's last row is checked against the Gold row: the first live
candle then gives the features the batch pipeline would have given it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DataError, ServingError
from .candles import Candle, GapPlan, plan_gap

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..features.streaming.featureset import StreamingFeatureSet

log = logging.getLogger("mlta.serving")
PARITY_RTOL = 1e-9


@dataclass
class SymbolStream:
    """One symbol in one feature group: its streaming state and the last candle applied."""

    featureset: StreamingFeatureSet
    last: Candle | None = None
    candles: int = 0
    rewarms: int = 0


@dataclass
class FeatureGroup:
    """Variants that share a Gold feature spec, and that spec's per-symbol states."""

    key: str
    dataset_uri: str
    features: dict[str, Any]
    columns: list[str]
    interval: str
    symbols: list[str]
    variants: list[str] = field(default_factory=list)
    streams: dict[str, SymbolStream] = field(default_factory=dict)
    frame: pd.DataFrame | None = None

    def index_of(self, names: list[str]) -> list[int]:
        """Positions of ``names`` in this group's feature vector (a model's columns)."""
        where = {c: i for i, c in enumerate(self.columns)}
        missing = [n for n in names if n not in where]
        if missing:
            raise ServingError(f"model features {missing[:5]} are not in the Gold feature set "
                               f"of {self.dataset_uri}",
                               hint="serve the model with the DataPipeline it was trained on")
        return [where[n] for n in names]

    def apply(self, symbol: str, candle: Candle, step_ms: int,
              on_gap: str) -> tuple[np.ndarray, GapPlan]:
        """Feed one candle (after repairing a gap); returns the feature vector."""
        stream = self.streams[symbol]
        plan = plan_gap(stream.last, candle, step_ms, on_gap)
        if plan.rewarm:
            stream.featureset.reset()
            stream.rewarms += 1
        for filler in plan.filled:
            stream.featureset.update(filler.open, filler.high, filler.low, filler.close,
                                     filler.volume, filler.open_ms)
        vector = stream.featureset.update(candle.open, candle.high, candle.low, candle.close,
                                          candle.volume, candle.open_ms)
        stream.last = candle
        stream.candles += 1
        return vector, plan


def spec_key(features: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(features, sort_keys=True).encode()).hexdigest()[:12]


def load_group(dataset_uri: str) -> FeatureGroup:
    """Read a Gold version's manifest and candles (the feature spec must be recorded)."""
    from ..data.lake import read_dataset

    try:
        frame, manifest = read_dataset(dataset_uri)
    except DataError as exc:
        raise ServingError(f"cannot read the Gold version {dataset_uri}: {exc}",
                           hint="the models' lineage must point at a readable Gold version") \
            from exc
    if manifest.features is None:
        raise ServingError(
            f"the Gold version {dataset_uri} does not record its feature spec",
            hint="rebuild it with the current DataPipeline, or use feed.type: none and send "
                 "feature vectors")
    return FeatureGroup(key=spec_key(manifest.features), dataset_uri=dataset_uri,
                        features=manifest.features, columns=list(manifest.feature_columns),
                        interval=manifest.interval, symbols=list(manifest.symbols), frame=frame)


def warm_start(group: FeatureGroup, symbols: list[str], warmup_bars: int | None) -> None:
    """Replay each symbol's Gold candles and check the last row against the Gold features."""
    import numpy as np

    from ..features.streaming.featureset import StreamingFeatureSet
    from ..specs.datapipeline import Features

    spec = Features.model_validate(group.features)
    assert group.frame is not None
    for symbol in symbols:
        rows = group.frame[group.frame["symbol"] == symbol].sort_values("open_time")
        if rows.empty:
            raise ServingError(f"symbol {symbol} is not in the Gold version {group.dataset_uri}",
                               hint=f"serve symbols of that version: {group.symbols}")
        if warmup_bars is not None:
            rows = rows.iloc[-warmup_bars:]
        featureset = StreamingFeatureSet.from_spec(spec)
        if featureset.columns != group.columns:
            raise ServingError(f"the feature spec of {group.dataset_uri} no longer gives its "
                               "columns", hint="rebuild the Gold version with this code version")
        # live candles carry epoch milliseconds, so the replay does too
        open_ms_all = rows["open_time"].astype("datetime64[ms, UTC]").astype("int64")
        candles = rows[["open", "high", "low", "close", "volume"]].assign(open_time=open_ms_all)
        replay = featureset.run(candles)
        live = replay.iloc[-1].to_numpy(dtype=np.float64)
        gold = rows[group.columns].iloc[-1].to_numpy(dtype=np.float64)
        if warmup_bars is None and not np.allclose(live, gold, rtol=PARITY_RTOL, atol=0.0,
                                                   equal_nan=True):
            bad = [c for c, a, b in zip(group.columns, live, gold, strict=True)
                   if not (np.isnan(a) and np.isnan(b)) and not np.isclose(a, b, rtol=PARITY_RTOL,
                                                                           atol=0.0)]
            raise ServingError(f"{symbol}: streaming features differ from Gold in {bad[:5]}",
                               hint="the Gold version was built by different feature code")
        last = rows.iloc[-1]
        open_ms = int(open_ms_all.iloc[-1])
        group.streams[symbol] = SymbolStream(
            featureset=featureset, candles=len(rows),
            last=Candle(open_ms, float(last["open"]), float(last["high"]), float(last["low"]),
                        float(last["close"]), float(last["volume"])))
        log.info("warm-started", extra={"symbol": symbol, "bars": len(rows),
                                        "dataset": group.dataset_uri})


def reference_rows(group: FeatureGroup, columns: list[str], limit: int) -> np.ndarray:
    """Up to ``limit`` Gold rows (evenly spaced) with every one of ``columns`` defined."""
    import numpy as np

    assert group.frame is not None
    data = group.frame[columns].to_numpy(dtype=np.float64)
    data = data[np.isfinite(data).all(axis=1)]
    if len(data) > limit:
        data = data[np.linspace(0, len(data) - 1, limit).round().astype(int)]
    return data
