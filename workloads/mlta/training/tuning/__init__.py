"""The hyperparameter search: Optuna's samplers inside Ray Tune with ASHA, resumable.

- :mod:`.space`: ``spec.search`` (and the default spaces) as an Optuna define-by-run space;
- :mod:`.ledger`: finished trials in the lake, so a resumed search never trains one twice;
- :mod:`.trial`: one trial, the function every Ray Tune worker runs;
- :mod:`.search`: the driver (Tuner, restore, progress lines, the trial table);
- :mod:`.sequential`: the same trials with plain Optuna in one process (a baseline and the
  path of a search-less job).
"""
