"""numba's ``njit`` for the feature kernels, their machine code cached by source content.

Every kernel is ``@njit(cache=True)``. numba's own cache sits beside the source (its
``__pycache__``) or, with ``NUMBA_CACHE_DIR``, under a directory named after the source's
absolute path: either way a new checkout (a CI clone, a second worktree, a fresh container)
compiles all ~700 kernels again, about five CPU-minutes on this project's machine, in every
process that has not found them yet. And numba invalidates a kernel's cache only when *its*
file changes, not when a jitted helper it calls from another module does.

:class:`KernelCacheLocator` keys the cache by content instead: one directory per digest of
every source file of ``mlta.features`` (``~/.cache/mlta/numba/<digest>/``, or under
``MLTA_CACHE_DIR``), so any checkout of the same code finds it, and any change to a kernel or
a helper starts a new one. numba picks the locator through its ``NUMBA_CACHE_LOCATOR_CLASSES``
setting, which this module sets (for this process and its children: Ray workers, test
workers) unless the user chose a cache (``NUMBA_CACHE_DIR`` or that setting) or turned it off
(``MLTA_KERNEL_CACHE=off``); numba's default locators follow it for every other function.
Only the newest :data:`KEEP` digests are kept.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import cache_dir

LOCATORS_ENV = "NUMBA_CACHE_LOCATOR_CLASSES"
#: numba's own locators, in its order (numba.core.caching.CacheImpl._locator_classes).
NUMBA_LOCATORS = ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator",
                  "IPythonCacheLocator", "ZipCacheLocator")
SOURCES = Path(__file__).resolve().parent
KEEP = 4


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the content-keyed cache applies: not when the user chose numba's cache."""
    return not (environ.get("NUMBA_CACHE_DIR") or environ.get(LOCATORS_ENV)
                or environ.get("MLTA_KERNEL_CACHE", "").lower() in ("off", "0", "false"))


def locator_setting() -> str:
    return ",".join([f"{__name__}.KernelCacheLocator", *NUMBA_LOCATORS])


if wanted():
    os.environ[LOCATORS_ENV] = locator_setting()

from numba import njit  # noqa: E402  (after the setting: numba reads it at import)
from numba.core import caching, config  # noqa: E402

if os.environ.get(LOCATORS_ENV) == locator_setting():  # numba may have been imported before
    config.CACHE_LOCATOR_CLASSES = locator_setting()  # type: ignore[attr-defined]

__all__ = ["KernelCacheLocator", "cache_root", "njit", "sources_digest"]


def cache_root() -> Path:
    return cache_dir() / "numba"


@functools.cache
def sources_digest(root: Path = SOURCES) -> str:
    """A digest of every ``.py`` file under ``root`` (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _prune(root: Path, keep: int = KEEP) -> None:
    """Drop all but the ``keep`` most recently created digest directories (best effort: one
    another process still uses is only compiled again)."""
    try:
        digests = sorted((p for p in root.iterdir() if p.is_dir()),
                         key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in digests[keep:]:
        shutil.rmtree(old, ignore_errors=True)


class KernelCacheLocator(caching._CacheLocator):
    """numba cache locator for functions defined under ``mlta/features``."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._lineno = py_func.__code__.co_firstlineno
        relative = Path(py_file).resolve().relative_to(SOURCES)
        self._digest_dir = cache_root() / sources_digest()
        self._path = self._digest_dir / relative.parent

    def ensure_cache_path(self) -> None:
        new = not self._digest_dir.exists()
        super().ensure_cache_path()
        if new:
            _prune(self._digest_dir.parent)

    def get_cache_path(self) -> str:
        return str(self._path)

    def get_source_stamp(self) -> str:
        return sources_digest()

    def get_disambiguator(self) -> str:
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> KernelCacheLocator | None:
        if not Path(py_file).resolve().is_relative_to(SOURCES):
            return None
        locator = cls(py_func, py_file)
        try:
            locator.ensure_cache_path()
        except OSError:  # not writable: numba's own locators take it
            return None
        return locator
