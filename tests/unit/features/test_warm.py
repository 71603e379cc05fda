"""``python -m mlta.jobs.warm`` compiles what later processes load: the same signatures, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlta.features import jit
from mlta.jobs import warm

# Two cheap indicators instead of the registry; the pool's forked workers inherit the choice.
WARM = """
import sys
from mlta.features import registry
from mlta.jobs import warm
chosen = [registry.get("medprice"), registry.get("sma")]
registry.list_indicators = lambda category=None: list(chosen)
seconds = warm.warm(jobs=int(sys.argv[1]))
print(seconds > 0, warm.marker().exists())
"""
USE = """
from mlta.features import registry
from mlta.features._label_kernels import triple_barrier
from mlta.features._transform_kernels import rolling_moments
from mlta.features.kernels.price import medprice
from mlta.jobs import warm
data = warm.candles(700, seed=3)  # other values and length: the same signatures
for name in ("medprice", "sma"):
    registry.get(name).compute(data)
warm._transforms_and_labels(data)
kernels = (medprice, rolling_moments, triple_barrier)
print(sum(sum(k.stats.cache_hits.values()) for k in kernels),
      sum(sum(k.stats.cache_misses.values()) for k in kernels))
"""


def _run(code: str, cache: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", jit.LOCATORS_ENV, "MLTA_KERNEL_CACHE")}
    env["MLTA_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=600, check=True).stdout.split()


def test_a_warmed_cache_is_loaded_not_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run(WARM, cache, "2") == ["True", "True"]  # compiled in two processes, marked
    hits, misses = map(int, _run(USE, cache))
    assert (hits, misses) == (3, 0)
    assert _run(WARM, cache, "2") == ["False", "True"]  # complete: returns at once


def test_main_reports_and_respects_a_users_cache_choice(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLTA_CACHE_DIR", str(tmp_path))
    warm.marker().parent.mkdir(parents=True)
    warm.marker().touch()
    assert warm.main([]) == 0
    assert "already cached in " + str(tmp_path / "numba") in capsys.readouterr().out
    monkeypatch.setenv(jit.LOCATORS_ENV, "InTreeCacheLocator")  # the user's own choice
    assert warm.main(["--jobs", "1"]) == 0
    assert "nothing to warm" in capsys.readouterr().err


def test_one_job_compiles_in_process_and_an_unwritable_marker_is_no_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[tuple[int, int]] = []
    monkeypatch.setattr(warm, "compile_part", lambda part, parts: ran.append((part, parts)) or 0)
    monkeypatch.setattr(warm, "marker", lambda: tmp_path / "file" / "sub" / warm.MARKER)
    (tmp_path / "file").write_text("not a directory")
    warm.warm(jobs=1)
    assert ran == [(0, 1)] and not (tmp_path / "file").is_dir()


def test_a_seed_cache_of_the_same_sources_is_copied_and_used(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "host"
    kernels = seed / jit.sources_digest() / "kernels"
    kernels.mkdir(parents=True)
    (kernels / "price.medprice-9.py311.nbi").write_bytes(b"index")
    (seed / jit.sources_digest() / warm.MARKER).touch()
    monkeypatch.setenv("MLTA_CACHE_DIR", str(tmp_path / "image"))
    monkeypatch.setattr(warm, "compile_part", lambda part, parts: pytest.fail("compiled"))
    assert warm.main(["--seed", str(seed)]) == 0  # complete after the copy: nothing compiled
    copied = jit.cache_root() / jit.sources_digest() / "kernels" / "price.medprice-9.py311.nbi"
    assert copied.read_bytes() == b"index"
    assert not warm.seed_from(tmp_path / "empty")  # no such digest there
    assert not warm.seed_from(jit.cache_root())  # itself


def test_one_job_compiles_in_its_own_process(tmp_path: Path) -> None:
    # The pool's workers are forked (their lines go unmeasured); one job compiles in process.
    assert _run(WARM, tmp_path / "cache", "1") == ["True", "True"]
    hits, misses = map(int, _run(USE, tmp_path / "cache"))
    assert (hits, misses) == (3, 0)
