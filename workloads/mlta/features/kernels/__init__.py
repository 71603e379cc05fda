"""Numba kernels: float64 numpy arrays in, float64 numpy arrays out.

Conventions every kernel follows (the registry relies on them):

- Inputs are finite. The registry splits a series at NaN rows and runs kernels on each finite
  segment, so a gap re-starts the warm-up instead of poisoning a recursive state forever.
- Outputs have the input's length; the first ``lookback`` values are NaN (TA-Lib's lookback),
  and a series shorter than that is all NaN, never an out-of-bounds read.
- Intermediate arrays may start with NaN (an EMA of an EMA); kernels that are composed accept
  leading NaNs and seed from the first finite value.
- Every value at index t is computed from inputs at indices <= t only (causality), and the
  definitions follow TA-Lib (EMA seeded with the SMA of the first window, Wilder smoothing for
  RSI/ATR/ADX) so results agree with it to floating point round-off.
- Rolling sums are re-summed exactly every ``window`` steps, at absolute indices, so the
  round-off of a long running sum does not accumulate (a volume spike leaving the window would
  otherwise leave residue) and the result on a prefix is still identical to the full run.
"""
