"""The indicator registry: metadata, parameter validation and NaN-safe execution.

Every indicator is described once here (name, category, parameters with defaults and bounds,
inputs, outputs, warm-up length as a function of its parameters). Parameters are validated
before any kernel runs, so a window of 0 never reaches numba, and the same metadata names the
feature columns, documents the API and drives the tests (causality, warm-up, parity).

Importing this module does not import numba: kernels are named by ``"module.function"`` and
resolved on first use, so the operator can validate a spec's indicators cheaply.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlta.errors import SpecError

from . import FEATURE_PREFIX

if TYPE_CHECKING:
    import numpy as np

PRICE_INPUTS = ("open", "high", "low", "close", "volume")
CATEGORIES = (
    "overlap", "momentum", "volatility", "volume", "statistic", "price", "pattern", "cycle",
)

Params = dict[str, int | float]


@dataclass(frozen=True)
class Param:
    """One numeric parameter: its default and inclusive bounds; ``integer`` for windows."""

    name: str
    default: float
    low: float
    high: float
    integer: bool = True
    description: str = ""

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        low, high, default = (f"{v:g}" for v in (self.low, self.high, self.default))
        return f"{kind} in [{low}, {high}] (default {default})"

    def coerce(self, indicator: str, value: Any) -> int | float:
        """Return the validated value, or raise SpecError naming indicator, param and range."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        ok = math.isfinite(number) and self.low <= number <= self.high
        if ok and self.integer and not number.is_integer():
            ok = False
        if not ok:
            raise SpecError(
                f"indicator {indicator!r}: parameter {self.name!r} must be "
                f"{self.describe()}, got {value!r}",
                hint=f"set features.indicators[].params.{self.name} inside the allowed range",
            )
        return int(number) if self.integer else number


@dataclass(frozen=True)
class Indicator:
    """Metadata of one indicator plus how to run it.

    ``kernel`` is ``"module.function"`` inside ``mlta.features.kernels``; it is called with the
    input arrays (in ``inputs`` order) followed by the parameters (in ``params`` order) and
    returns one array per output. ``lookback(params)`` is the number of leading NaN rows of
    every output on finite data (TA-Lib's lookback). ``check`` validates relations between
    parameters and returns an error message, or None. ``stream`` names the streaming form
    (``"module.name"`` in ``mlta.features.streaming``'s ``STREAMS`` tables); None means the
    one named like the kernel.
    """

    name: str
    category: str
    description: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    kernel: str
    lookback: Callable[[Params], float]
    params: tuple[Param, ...] = ()
    check: Callable[[Params], str | None] | None = None
    talib: str | None = field(default=None, compare=False)
    stream: str | None = field(default=None, compare=False)

    def resolve(self, params: Mapping[str, Any] | None = None) -> Params:
        """Validate ``params`` and fill in defaults (raises SpecError)."""
        given = dict(params or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            allowed = ", ".join(f"{p.name}: {p.describe()}" for p in self.params) or "none"
            raise SpecError(
                f"indicator {self.name!r} has no parameter {unknown[0]!r}",
                hint=f"its parameters are {allowed}",
            )
        resolved: Params = {
            p.name: p.coerce(self.name, given.get(p.name, p.default)) for p in self.params
        }
        if self.check is not None:
            problem = self.check(resolved)
            if problem:
                raise SpecError(f"indicator {self.name!r}: {problem}",
                                hint="fix features.indicators[].params")
        return resolved

    def warmup(self, params: Mapping[str, Any] | None = None) -> int:
        return int(self.lookback(self.resolve(params)))

    def column_names(self, params: Mapping[str, Any] | None = None) -> list[str]:
        """Deterministic names: ``f_<name>[_<output>]_<param values in declared order>``."""
        resolved = self.resolve(params)
        suffix = "".join(f"_{format_param(resolved[p.name])}" for p in self.params)
        return [
            f"{FEATURE_PREFIX}{self.name}{'' if out == self.name else '_' + out}{suffix}"
            for out in self.outputs
        ]

    def compute(
        self, data: Mapping[str, np.ndarray], params: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """Run the kernel on each finite stretch of the inputs; NaN rows stay NaN.

        A row where any input is NaN or infinite splits the series: the kernel restarts after
        it with a fresh warm-up, which is what a streaming form does on a gap as well.
        """
        import numpy as np

        resolved = self.resolve(params)
        missing = [name for name in self.inputs if name not in data]
        if missing:
            raise SpecError(
                f"indicator {self.name!r} needs input column(s) {missing}",
                hint=f"provide {list(self.inputs)}",
            )
        arrays = [np.ascontiguousarray(data[name], dtype=np.float64) for name in self.inputs]
        n = arrays[0].size
        kernel = _resolve_kernel(self.kernel)
        args = [resolved[p.name] for p in self.params]
        warm = int(self.lookback(resolved))
        if n > warm and all(_all_finite(arr) for arr in arrays):
            # the common case: one finite segment, the kernel's arrays are the result
            result = kernel(*arrays, *args)
            parts = result if isinstance(result, tuple) else (result,)
            return dict(zip(self.outputs, parts, strict=True))
        outs = [np.full(n, np.nan) for _ in self.outputs]
        good = np.ones(n, dtype=bool)
        for arr in arrays:
            good &= np.isfinite(arr)
        for start, stop in _segments(good):
            if stop - start <= warm:
                continue
            result = kernel(*(a[start:stop] for a in arrays), *args)
            parts = result if isinstance(result, tuple) else (result,)
            for out, part in zip(outs, parts, strict=True):
                out[start:stop] = part
        return dict(zip(self.outputs, outs, strict=True))


_REGISTRY: dict[str, Indicator] = {}
_LOADED = False


def register(indicator: Indicator) -> Indicator:
    """Add an indicator; names are unique and categories fixed."""
    if indicator.name in _REGISTRY:
        raise ValueError(f"indicator {indicator.name!r} registered twice")
    if indicator.category not in CATEGORIES:
        raise ValueError(f"indicator {indicator.name!r}: unknown category {indicator.category}")
    if not set(indicator.inputs) <= set(PRICE_INPUTS):
        raise ValueError(f"indicator {indicator.name!r}: inputs must be among {PRICE_INPUTS}")
    _REGISTRY[indicator.name] = indicator
    return indicator


def _load() -> None:
    global _LOADED
    if not _LOADED:
        importlib.import_module("mlta.features.catalog")
        _LOADED = True


def registry() -> Mapping[str, Indicator]:
    """All registered indicators by name (read-only view)."""
    _load()
    return dict(_REGISTRY)


def get(name: str) -> Indicator:
    """The indicator called ``name``, or SpecError listing the known names."""
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SpecError(
            f"unknown indicator {name!r}",
            hint=f"use one of: {', '.join(sorted(_REGISTRY))}",
        ) from None


def list_indicators(category: str | None = None) -> list[Indicator]:
    """Registered indicators sorted by name, optionally of one category."""
    _load()
    return sorted(
        (i for i in _REGISTRY.values() if category is None or i.category == category),
        key=lambda i: i.name,
    )


def format_param(value: float) -> str:
    """A parameter value as it appears in a column name: 14, 2, 2p5, m1."""
    number = float(value)
    text = str(int(number)) if number.is_integer() else repr(number)
    return text.replace(".", "p").replace("-", "m")


def _resolve_kernel(path: str) -> Callable[..., Any]:
    module, _, func = path.rpartition(".")
    return getattr(importlib.import_module(f"mlta.features.kernels.{module}"), func)  # type: ignore[no-any-return]


def _all_finite(arr: np.ndarray) -> bool:
    """True when no value is NaN or infinite, in one pass without a boolean temporary.

    A NaN or an infinity makes the dot product non-finite; so can squares that overflow, in
    which case the exact (slower) check decides. This check runs once per input per call, and
    on the cheapest indicators it cost as much as the kernel.
    """
    import numpy as np

    with np.errstate(all="ignore"):
        dot = float(np.dot(arr, arr))
    return math.isfinite(dot) or bool(np.isfinite(arr).all())


def _segments(good: np.ndarray) -> Iterable[tuple[int, int]]:
    """Half-open [start, stop) ranges of consecutive True values."""
    import numpy as np

    if good.all():
        return [(0, good.size)] if good.size else []
    padded = np.concatenate(([False], good, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))
