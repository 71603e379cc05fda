"""Shared fixtures (a real local Ray head, recorded candles) and the tiers' markers.

A test's tier is the folder it lives in: tests/unit, tests/integration, tests/e2e or
tests/cluster. Each
test gets that marker here (``-m unit`` and friends select a tier from any command line),
and a test marked with another tier than its folder's stops the collection: it is in the
wrong folder, and `make test-unit` would run an e2e test or miss one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.demo_ports import demo_ports, hold
from tests.support.ray_cluster import RayCluster, local_ray

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e", "cluster")

SHARED_CANDLES = Path(
    os.environ.get("MLTA_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "candles"


@pytest.fixture(scope="session", autouse=True)
def demo_ports_held() -> Iterator[dict[int, str]]:
    """With MLTA_TEST_HOLD_DEMO_PORTS=1 (`make test`), the demo's ports are taken for the whole
    session, so no test can pass only because `make up` is not running (tests/support/demo_ports.py)."""
    if os.environ.get("MLTA_TEST_HOLD_DEMO_PORTS") != "1":
        yield {}
        return
    with hold(demo_ports()) as held:
        yield held


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


def tier_of(path: Path) -> str | None:
    """The tier of a test file from its folder (None outside the three tier folders)."""
    try:
        first = path.resolve().relative_to(TESTS).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in TIERS else None


def xdist_group(item: pytest.Item, tier: str) -> str | None:
    """Which tests share a pytest-xdist worker (`make test` runs ``-n 2 --dist loadgroup``):
    those using one costly session fixture, so it is built once, not once per worker. The e2e
    tier shares its control plane and operator, the integration tier its Ray head, the serving
    unit tests their trained models; every other test goes to whichever worker is free."""
    if tier in ("e2e", "integration", "cluster"):
        return tier
    if "serving_world" in getattr(item, "fixturenames", ()):
        return "serving-world"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        tier = tier_of(Path(item.path))
        marked = {m.name for m in item.iter_markers() if m.name in TIERS}
        if tier is None or marked - {tier}:
            wrong.append(f"{item.nodeid}: marked {sorted(marked)}, lives in tier {tier}")
            continue
        item.add_marker(getattr(pytest.mark, tier))
        group = xdist_group(item, tier)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    if wrong:
        raise pytest.UsageError("tests outside their tier's folder (move them):\n  " + "\n  ".join(wrong))
    # A module named test_z_* tears down its tier's shared session state on purpose (the
    # cluster tier deletes the examples it installed once): it runs after everything else,
    # also in random order (this hook runs after pytest-randomly's shuffle). Nothing else
    # may depend on order.
    items.sort(key=lambda item: Path(item.path).name.startswith("test_z_"))


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A Gold version, a longer one over the same candles, and two models trained on the
    first (tests/support/serving_world.py); built once per session."""
    from tests.support.serving_world import build_world

    return build_world(tmp_path_factory.mktemp("serving-world"))
