"""Shared fixtures: a real local Ray head for integration tests, recorded candles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ray_cluster import RayCluster, local_ray

SHARED_CANDLES = Path(
    os.environ.get("MLTA_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "candles"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A real Ray head on loopback (dashboard 8265, Serve 8000), stopped after the session."""
    with local_ray() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def candles_dir() -> Path:
    """The recorded real candles in ../shared/data/candles (never copied into the repo)."""
    if not SHARED_CANDLES.exists():
        pytest.skip(f"recorded candles not found at {SHARED_CANDLES}")
    return SHARED_CANDLES


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A Gold version, a longer one over the same candles, and two models trained on the
    first (tests/support/serving_world.py); built once per session."""
    from tests.support.serving_world import build_world

    return build_world(tmp_path_factory.mktemp("serving-world"))
