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
from typing import Any

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


#: Folders whose tests share one costly session fixture, and the worker group they form.
SHARED_FIXTURE_GROUPS = {"e2e": "e2e", "integration": "integration", "cluster": "cluster",
                         "unit/serving": "serving-world"}


def xdist_group(nodeid: str) -> str | None:
    """Which tests share a pytest-xdist worker (`make test` runs ``-n 2 --dist loadgroup``):
    those using one costly session fixture, so it is built once, not once per worker. The e2e
    tier shares its control plane and operator, the integration tier its Ray head, the serving
    unit tests their trained models (``serving_world``); every other test goes to whichever
    worker is free. Decided from the test's path alone: the scheduler, in the controller
    process, sees node ids and nothing else."""
    path = nodeid.split("::", 1)[0].removeprefix("tests/")
    for folder, group in SHARED_FIXTURE_GROUPS.items():
        if path.startswith(folder + "/"):
            return group
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups of :func:`xdist_group`. pytest-xdist's own
    loadgroup renames each marked test's node id, which pytest 9.2 no longer lets a plugin do
    (``Node.nodeid`` is derived from its structured id): its groups were silently split over
    both workers, and each worker built the e2e control plane, operator and Ray head itself."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        tier = tier_of(Path(item.path))
        marked = {m.name for m in item.iter_markers() if m.name in TIERS}
        if tier is None or marked - {tier}:
            wrong.append(f"{item.nodeid}: marked {sorted(marked)}, lives in tier {tier}")
            continue
        item.add_marker(getattr(pytest.mark, tier))
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
