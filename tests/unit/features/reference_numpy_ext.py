"""Straightforward numpy/pandas references for the added indicators TA-Lib does not have
(merged into ``reference.NUMPY``). Written from the published definitions, loop by loop,
without sharing code with the kernels."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _alma(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w, x = int(p["window"]), d["close"]
    m = p["offset"] * (w - 1)
    s = w / p["sigma"]
    weights = np.exp(-((np.arange(w) - m) ** 2) / (2 * s * s))
    weights /= weights.sum()
    out = _nan(x.size)
    if x.size >= w:
        out[w - 1:] = np.lib.stride_tricks.sliding_window_view(x, w) @ weights
    return (out,)


def _vidya(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x, w, c = d["close"], int(p["window"]), int(p["cmo_window"])
    diff = pd.Series(x).diff()
    up = diff.clip(lower=0).rolling(c).sum().to_numpy()
    down = (-diff).clip(lower=0).rolling(c).sum().to_numpy()
    k = 2 / (w + 1)
    out = _nan(x.size)
    if x.size > c:
        out[c] = x[c]
        for t in range(c + 1, x.size):
            total = up[t] + down[t]
            cmo = abs(up[t] - down[t]) / total if total > 0 else 0.0
            out[t] = k * cmo * x[t] + (1 - k * cmo) * out[t - 1]
    return (out,)


def _frama(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = int(p["window"])
    h, lo, c = d["high"], d["low"], d["close"]
    half = w // 2
    out = _nan(c.size)
    if c.size < w:
        return (out,)
    out[w - 1] = c[w - 1]
    for t in range(w, c.size):
        older = slice(t - w + 1, t - half + 1)
        newer = slice(t - half + 1, t + 1)
        n1 = (h[older].max() - lo[older].min()) / (w - half)
        n2 = (h[newer].max() - lo[newer].min()) / half
        n3 = (h[t - w + 1:t + 1].max() - lo[t - w + 1:t + 1].min()) / w
        alpha = 1.0
        if n1 > 0 and n2 > 0 and n3 > 0:
            dim = (math.log(n1 + n2) - math.log(n3)) / math.log(2)
            alpha = math.exp(-4.6 * (dim - 1))
        alpha = min(1.0, max(0.01, alpha))
        out[t] = alpha * c[t] + (1 - alpha) * out[t - 1]
    return (out,)


def _mid(d: Data, w: int) -> np.ndarray:
    hi = pd.Series(d["high"]).rolling(w).max().to_numpy()
    lo = pd.Series(d["low"]).rolling(w).min().to_numpy()
    return np.asarray((hi + lo) / 2)


def _ichimoku(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    conv, base = _mid(d, int(p["tenkan"])), _mid(d, int(p["kijun"]))
    span_b = _mid(d, int(p["senkou"]))
    warm = np.isnan(span_b)
    outs = [conv, base, (conv + base) / 2, span_b]
    return tuple(np.where(warm, np.nan, o) for o in outs)


def _beta(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Two-pass beta of the low's one-bar returns on the high's."""
    w = int(p["window"])
    rx = np.concatenate(([0.0], np.diff(d["high"]) / d["high"][:-1]))
    ry = np.concatenate(([0.0], np.diff(d["low"]) / d["low"][:-1]))
    out = _nan(rx.size)
    for t in range(w, rx.size):
        a, b = rx[t - w + 1:t + 1], ry[t - w + 1:t + 1]
        var = float(np.sum((a - a.mean()) ** 2))
        out[t] = float(np.sum((a - a.mean()) * (b - b.mean()))) / var if w * var >= 1e-14 else 0
    return (out,)


NUMPY_EXT: dict[str, Ref] = {
    "alma": _alma,
    "vidya": _vidya,
    "frama": _frama,
    "ichimoku": _ichimoku,
    "beta": _beta,
}
