"""Direct pandas/numpy formulas of the published definitions for ``kernels/extras.py``
(merged into ``reference.NUMPY``); written without the kernels' helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Data = dict[str, np.ndarray]
Ref = Callable[[Data, dict[str, Any]], tuple[np.ndarray, ...]]


def _rs(d: Data) -> np.ndarray:
    o, h, lo, c = d["open"], d["high"], d["low"], d["close"]
    return np.asarray(np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o))


def _rogers_satchell(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    mean = pd.Series(_rs(d)).rolling(int(p["window"])).mean().to_numpy()
    return (np.sqrt(np.clip(mean, 0.0, None)),)


def _yang_zhang(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = int(p["window"])
    prev = pd.Series(d["close"]).shift(1)
    gap = np.log(pd.Series(d["open"]) / prev)
    body = pd.Series(np.log(d["close"] / d["open"]))
    body[0] = np.nan
    rs = pd.Series(_rs(d))
    rs[0] = np.nan
    k = 0.34 / (1.34 + (w + 1) / (w - 1))
    var = (gap.rolling(w).var(ddof=1) + k * body.rolling(w).var(ddof=1)
           + (1 - k) * rs.rolling(w).mean())
    return (np.sqrt(np.clip(var.to_numpy(), 0.0, None)),)


def _ulcer(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = int(p["window"])
    c = pd.Series(d["close"])
    peak = c.rolling(w).max()
    dd = 100.0 * (c - peak) / peak
    return (np.sqrt(np.clip((dd**2).rolling(w).mean().to_numpy(), 0.0, None)),)


def _chop(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = int(p["window"])
    h, lo, c = (pd.Series(d[k]) for k in ("high", "low", "close"))
    prev = c.shift(1)
    tr = pd.concat([h - lo, (h - prev).abs(), (lo - prev).abs()], axis=1).max(axis=1)
    tr[prev.isna()] = np.nan
    rng = h.rolling(w).max() - lo.rolling(w).min()
    out = 100.0 * np.log10(tr.rolling(w).sum() / rng) / np.log10(w)
    return (np.where(rng > 0, out, np.where(tr.rolling(w).sum().isna(), np.nan, 100.0)),)


def _eom(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    h, lo, v = (pd.Series(d[k]) for k in ("high", "low", "volume"))
    mid = (h + lo) / 2
    emv = p["divisor"] * mid.diff() * (h - lo) / v
    emv[v <= 0] = 0.0
    emv[0] = np.nan
    return (emv.rolling(int(p["window"])).mean().to_numpy(),)


def _fisher(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    w = int(p["window"])
    mid = (d["high"] + d["low"]) / 2
    hi = pd.Series(mid).rolling(w).max().to_numpy()
    lo = pd.Series(mid).rolling(w).min().to_numpy()
    fish = np.full(mid.size, np.nan)
    value = prev = 0.0
    for t in range(w - 1, mid.size):
        ratio = (mid[t] - lo[t]) / (hi[t] - lo[t]) if hi[t] > lo[t] else 0.5
        value = min(max(0.66 * (ratio - 0.5) + 0.67 * value, -0.999), 0.999)
        if abs(value) < 0.999 and abs(value) > 0.99:
            value = 0.999 if value > 0 else -0.999
        prev = fish[t] = 0.5 * np.log((1 + value) / (1 - value)) + 0.5 * prev
    trigger = np.concatenate(([np.nan], fish[:-1]))
    fish[:w] = np.nan
    trigger[:w] = np.nan
    return fish, trigger


def _kst(d: Data, p: dict[str, Any]) -> tuple[np.ndarray, ...]:
    c = pd.Series(d["close"])
    line = sum(
        weight * (100.0 * (c / c.shift(int(p[f"roc{i}"])) - 1)).rolling(int(p[f"sma{i}"])).mean()
        for i, weight in zip((1, 2, 3, 4), (1.0, 2.0, 3.0, 4.0), strict=True))
    signal = line.rolling(int(p["signal"])).mean()
    start = int(max(p[f"roc{i}"] + p[f"sma{i}"] for i in (1, 2, 3, 4)) - 1 + p["signal"] - 1)
    out = [line.to_numpy(copy=True), signal.to_numpy(copy=True)]
    for arr in out:
        arr[:start] = np.nan
    return tuple(out)


NUMPY_EXTRAS: dict[str, Ref] = {
    "rogers_satchell": _rogers_satchell,
    "yang_zhang": _yang_zhang,
    "ulcer": _ulcer,
    "chop": _chop,
    "eom": _eom,
    "fisher": _fisher,
    "kst": _kst,
}
