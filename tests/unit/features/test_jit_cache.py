"""The kernels' compiled code is cached by content: another checkout of the same sources finds
it, a change to any feature source (a helper another kernel calls included) misses it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlta.features import jit

WORKLOADS = Path(jit.__file__).resolve().parents[2]
PROBE = """
import numpy as np
from mlta.features import jit
from mlta.features.kernels.price import medprice
x = np.arange(10.0)
assert (medprice(x, x) == x).all()
print(sum(medprice.stats.cache_hits.values()), sum(medprice.stats.cache_misses.values()),
      medprice._cache._cache_path, jit.__file__)
"""


def _checkout(at: Path) -> Path:
    shutil.copytree(WORKLOADS / "mlta", at / "mlta",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return at


def _probe(checkout: Path, cache: Path) -> tuple[int, int, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", jit.LOCATORS_ENV, "MLTA_KERNEL_CACHE")}
    env.update(PYTHONPATH=str(checkout), MLTA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out[3] == str(checkout / "mlta" / "features" / "jit.py")  # that checkout's code
    return int(out[0]), int(out[1]), out[2]


def test_another_checkout_loads_what_one_compiled(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, second = _checkout(tmp_path / "a"), _checkout(tmp_path / "b")
    hits, misses, path = _probe(first, cache)
    assert (hits, misses) == (0, 1)
    digest = jit.sources_digest(first / "mlta" / "features")
    assert path == str(cache / "numba" / digest / "kernels")
    assert _probe(second, cache) == (1, 0, path)  # same content elsewhere: loaded, not compiled
    helper = second / "mlta" / "features" / "kernels" / "_common.py"
    helper.write_text(helper.read_text() + "\n# a change to a helper\n")
    hits, misses, changed = _probe(second, cache)
    assert (hits, misses) == (0, 1) and changed != path


def test_only_the_newest_digests_are_kept(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"d{i}").mkdir()
        os.utime(tmp_path / f"d{i}", (1000 + i, 1000 + i))
    jit._prune(tmp_path, keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d2", "d3", "d4", "d5"]
    jit._prune(tmp_path / "missing")  # nothing there: nothing to do


@pytest.mark.parametrize(("environ", "applies"), [
    ({}, True), ({"NUMBA_CACHE_DIR": "/x"}, False), ({jit.LOCATORS_ENV: "InTreeCacheLocator"}, False),
    ({"MLTA_KERNEL_CACHE": "off"}, False), ({"MLTA_KERNEL_CACHE": "on"}, True)])
def test_a_cache_the_user_chose_wins(environ: dict[str, str], applies: bool) -> None:
    assert jit.wanted(environ) is applies


def test_functions_elsewhere_and_unwritable_caches_go_to_numbas_locators(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlta.features.kernels.price import medprice

    assert jit.KernelCacheLocator.from_function(_probe, __file__) is None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MLTA_CACHE_DIR", str(blocked))
    py_func = medprice.py_func
    assert jit.KernelCacheLocator.from_function(py_func, py_func.__code__.co_filename) is None
    monkeypatch.setenv("MLTA_CACHE_DIR", str(tmp_path / "ok"))
    located = jit.KernelCacheLocator.from_function(py_func, py_func.__code__.co_filename)
    assert located is not None and located.get_source_stamp() == jit.sources_digest()
    assert located.get_disambiguator() == str(py_func.__code__.co_firstlineno)
