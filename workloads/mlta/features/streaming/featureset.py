"""One candle in, the current feature vector out: the streaming twin of ``build_features``.

``StreamingFeatureSet`` is built from the same indicators, transforms and exclusions as the
batch pipeline (through the same ``plan_features``), so column names, order and parameter
validation are shared. Per
indicator it keeps one streaming state; a candle with a NaN or infinite value in one of the
indicator's inputs yields NaN and drops that state, so the indicator re-warms after the gap,
exactly as ``Indicator.compute`` splits a series at non-finite rows.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mlta.errors import DataError, SpecError

from ..pipeline import TIME_COLUMN, plan_features
from ..registry import PRICE_INPUTS, Indicator, Params

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlta.specs.datapipeline import Features, IndicatorSpec, TransformSpec


class Stream(Protocol):
    """The state of one indicator: ``update(*inputs)`` returns one value per output."""

    def update(self, *inputs: float) -> tuple[float, ...]: ...


StreamFactory = Callable[..., Stream]


def stream_factory(indicator: Indicator) -> StreamFactory | None:
    """The class building ``indicator``'s streaming state from its parameters, or None.

    Looked up as ``"module.name"`` (``indicator.stream``, else the kernel's own path) in the
    ``STREAMS`` table of ``mlta.features.streaming.<module>``.
    """
    path = getattr(indicator, "stream", None) or indicator.kernel
    module, _, name = path.rpartition(".")
    full = f"mlta.features.streaming.{module}"
    try:
        table = importlib.import_module(full).STREAMS
    except ModuleNotFoundError as error:
        if error.name != full:
            raise
        return None
    except AttributeError:
        return None
    factory: StreamFactory | None = table.get(name)
    return factory


class IndicatorStream:
    """One indicator with resolved parameters, fed row by row (NaN rows reset it)."""

    __slots__ = ("args", "factory", "indicator", "nans", "state")

    def __init__(self, indicator: Indicator, params: Mapping[str, Any] | None = None) -> None:
        factory = stream_factory(indicator)
        if factory is None:
            raise SpecError(
                f"indicator {indicator.name!r} has no streaming form",
                hint="use indicators listed by mlta.features.streaming.streamable()",
            )
        resolved: Params = indicator.resolve(params)
        self.indicator = indicator
        self.factory = factory
        self.args = tuple(resolved[p.name] for p in indicator.params)
        self.nans = (math.nan,) * len(indicator.outputs)
        self.state: Stream | None = None

    def reset(self) -> None:
        self.state = None

    def update(self, *inputs: float) -> tuple[float, ...]:
        """Values of every output after one more row of ``indicator.inputs``."""
        for value in inputs:
            if not math.isfinite(value):
                self.state = None
                return self.nans
        state = self.state
        if state is None:
            state = self.state = self.factory(*self.args)
        return state.update(*inputs)

    def run(self, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Stream whole arrays through a fresh state (what the parity tests compare)."""
        import numpy as np

        self.reset()
        columns = [np.asarray(data[name], dtype=np.float64).tolist() for name in self.indicator.inputs]
        rows = [self.update(*row) for row in zip(*columns, strict=True)]
        outs = np.array(rows, dtype=np.float64).reshape(len(rows), len(self.nans))
        return {name: outs[:, j].copy() for j, name in enumerate(self.indicator.outputs)}


def _getter(idx: tuple[int, ...]) -> Callable[[tuple[float, ...]], tuple[float, ...]]:
    """The candle fields an indicator reads, as a tuple (itemgetter returns a bare value for
    one index, so that case is wrapped)."""
    if len(idx) == 1:
        (i,) = idx
        return lambda candle: (candle[i],)
    return operator.itemgetter(*idx)


class StreamingFeatureSet:
    """The Gold feature set, one candle at a time.

    ``update(open, high, low, close, volume, open_time)`` returns a float64 vector in the order
    of ``columns`` (the names ``build_features`` gives for the same indicators, transforms and
    exclusions); a candle older than the previous one is refused (the batch pipeline refuses
    unsorted candles too). ``from_spec(features)`` builds it from a ``Features`` spec.

    Per candle the values are gathered in one list: the five candle fields, then every
    indicator output, then every transform output (a transform reads its input by position in
    that list, so it may read a candle column, a feature or an earlier transform's output);
    the returned vector is the kept part of it.
    """

    def __init__(
        self,
        indicators: Sequence[IndicatorSpec],
        transforms: Sequence[TransformSpec] = (),
        exclude: Sequence[str] = (),
    ) -> None:
        feature_plan = plan_features(indicators, transforms, exclude)
        steps = feature_plan.indicators
        lacking = sorted({ind.name for ind, _, _ in steps if stream_factory(ind) is None})
        if lacking:
            raise SpecError(
                f"indicator(s) {lacking} have no streaming form",
                hint="drop them from the feature set used for streaming",
            )
        self.columns: list[str] = list(feature_plan.columns)
        self._streams = [IndicatorStream(ind, params) for ind, params, _ in steps]
        inputs = [tuple(PRICE_INPUTS.index(name) for name in ind.inputs) for ind, _, _ in steps]
        self._fast = list(zip(self._streams, map(_getter, inputs), strict=True))
        slots = {name: i for i, name in enumerate(PRICE_INPUTS)}
        for name in feature_plan.computed:
            slots[name] = len(slots)
        self._transforms = feature_plan.transforms
        self._sources = [slots[step.source] for step in self._transforms]
        self._transform_states: list[tuple[Callable[[float], tuple[float, ...]], int]] = []
        kept = [slots[name] for name in self.columns]
        # the returned part of the per-candle list: a slice, or the kept positions
        self._select: Callable[[list[float]], Any]
        if kept == list(range(len(PRICE_INPUTS), len(slots))):
            self._select = operator.itemgetter(slice(len(PRICE_INPUTS), None))
        else:
            self._select = operator.itemgetter(*kept)
        # per stream: its input index (one input) or an itemgetter (several)
        self._picks: list[int | Callable[[tuple[float, ...]], tuple[float, ...]]] = [
            idx[0] if len(idx) == 1 else operator.itemgetter(*idx) for idx in inputs]
        # bound ``update`` of every live state, rebuilt after a reset or a non-finite candle
        self._bound: list[tuple[Callable[..., tuple[float, ...]], Any, bool]] | None = None
        self._last_time: Any = None
        self._reset_transforms()

    def _bind(self) -> list[tuple[Callable[..., tuple[float, ...]], Any, bool]]:
        """Create missing states and cache every state's bound ``update``."""
        bound = []
        for stream, pick in zip(self._streams, self._picks, strict=True):
            state = stream.state
            if state is None:
                state = stream.state = stream.factory(*stream.args)
            bound.append((state.update, pick, isinstance(pick, int)))
        self._bound = bound
        return bound

    @classmethod
    def from_spec(cls, features: Features) -> StreamingFeatureSet:
        """The streaming form of a DataPipeline's ``features`` (the Gold columns)."""
        return cls(features.indicators, features.transforms, features.exclude)

    def _reset_transforms(self) -> None:
        from .transforms import make_state

        self._transform_states = [
            (make_state(step), source)
            for step, source in zip(self._transforms, self._sources, strict=True)]

    def reset(self) -> None:
        """Forget all state (a new symbol, or a gap the caller wants to restart after)."""
        for stream in self._streams:
            stream.reset()
        self._bound = None
        self._reset_transforms()
        self._last_time = None

    def update(
        self, open_: float, high: float, low: float, close: float, volume: float,
        open_time: Any = None,
    ) -> np.ndarray:
        """Feed one candle; returns the feature vector for it (NaN while warming up)."""
        import numpy as np

        if open_time is not None:
            last = self._last_time
            if last is not None and open_time < last:
                raise DataError(
                    f"candle at {open_time} is older than the previous one at {last}",
                    hint="feed one symbol's candles in time order",
                )
            self._last_time = open_time
        candle = (float(open_), float(high), float(low), float(close), float(volume))
        values: list[float] = list(candle)
        extend = values.extend
        if all(map(math.isfinite, candle)):
            # the common case: no input can be NaN, so call each live state directly
            bound = self._bound
            if bound is None:
                bound = self._bind()
            for update, pick, single in bound:
                extend(update(candle[pick]) if single else update(*pick(candle)))
        else:
            self._bound = None
            for stream, getter in self._fast:
                extend(stream.update(*getter(candle)))
        for update, source in self._transform_states:
            extend(update(values[source]))
        return np.array(self._select(values), dtype=np.float64)

    def update_row(self, row: Mapping[str, Any]) -> np.ndarray:
        """``update`` from a mapping with open/high/low/close/volume (and ``open_time``)."""
        return self.update(row["open"], row["high"], row["low"], row["close"], row["volume"],
                           row.get(TIME_COLUMN))

    def run(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Stream every row of ``frame`` (from the current state); one feature row per candle."""
        import numpy as np
        import pandas as pd

        arrays = [frame[name].to_numpy(dtype=np.float64, na_value=np.nan).tolist()
                  for name in PRICE_INPUTS]
        times = frame[TIME_COLUMN].tolist() if TIME_COLUMN in frame.columns else None
        rows = []
        for i, (o, h, lo, c, v) in enumerate(zip(*arrays, strict=True)):
            rows.append(self.update(o, h, lo, c, v, times[i] if times is not None else None))
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(self.columns))
        return pd.DataFrame(values, index=frame.index, columns=self.columns)
