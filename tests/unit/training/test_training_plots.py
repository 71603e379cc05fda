"""The equity-curve PNG: a real image of the asked size; bad curves get a clear error."""

from __future__ import annotations

import io
import struct

import numpy as np
import pandas as pd
import pytest
from gold_frames import make_gold_frame

from mlta.errors import DataError
from mlta.training.baselines import buy_and_hold, evaluate_positions
from mlta.training.plots import equity_curve_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _results():
    frame = make_gold_frame(bars=300)
    frame["next_return"] = frame.groupby("symbol")["close"].shift(-1) / frame["close"] - 1
    model = evaluate_positions("model", frame, np.sign(frame["f_state"].fillna(0.0)),
                               fee_bps=10, slippage_bps=5)
    return model.backtest, buy_and_hold(frame, fee_bps=10, slippage_bps=5).backtest


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_renders_a_png_of_the_asked_size_that_decodes():
    from matplotlib.image import imread

    model, hold = _results()
    png = equity_curve_png(model, hold, "BTC+ETH lockbox, 10 bps fee + 5 bps slippage")
    assert _size(png) == (1000, 600)
    assert 10_000 < len(png) < 2_000_000
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (600, 1000)
    assert pixels.std() > 0.05  # something was drawn


def test_accepts_equity_series_and_no_benchmark():
    model, _ = _results()
    index = model.equity.index.tz_convert("Asia/Tokyo")  # drawn in UTC all the same
    png = equity_curve_png(pd.Series(model.equity.to_numpy(), index=index), None, "model only",
                           width=6, height=4, dpi=50)
    assert _size(png) == (300, 200)


@pytest.mark.parametrize(("curve", "message"), [
    (pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC")), "empty"),
    (pd.Series([1.0, 1.1], index=pd.date_range("2024-01-01", periods=2, freq="h")), "timezone-aware"),
    (pd.Series([1.0, np.nan], index=pd.date_range("2024-01-01", periods=2, freq="h", tz="UTC")),
     "non-finite"),
    ([1.0, 1.1], "BacktestResult or an equity series"),
])
def test_bad_curves_are_rejected(curve, message):
    _, hold = _results()
    with pytest.raises(DataError, match=message):
        equity_curve_png(curve, hold, "bad")
    with pytest.raises(DataError, match="buy_and_hold"):
        equity_curve_png(hold, curve, "bad")
