"""Tiers are folders: every test carries its folder's marker, and a contradicting one is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests import conftest

TESTS = Path(conftest.__file__).parent


class Item:
    """The things the hook reads from a collected test."""

    def __init__(self, path: Path, *marks: str, fixtures: tuple[str, ...] = ()) -> None:
        self.path, self.nodeid = path, str(path.relative_to(TESTS.parent))
        self.marks = [getattr(pytest.mark, m).mark for m in marks]
        self.fixturenames = fixtures

    def iter_markers(self) -> Any:
        return iter(self.marks)

    def add_marker(self, marker: Any) -> None:
        self.marks.append(marker.mark)


@pytest.mark.parametrize(("relative", "tier"), [
    ("unit/operator/test_loop.py", "unit"), ("integration/test_pipeline_ray.py", "integration"),
    ("e2e/test_admission.py", "e2e"), ("bench/bench_pipeline.py", None), ("conftest.py", None),
])
def test_tier_is_the_folder(relative: str, tier: str | None) -> None:
    assert conftest.tier_of(TESTS / relative) == tier
    assert conftest.tier_of(Path("/elsewhere/test_x.py")) is None


def test_hook_marks_each_test_with_its_tier() -> None:
    items = [Item(TESTS / "unit" / "test_x.py"), Item(TESTS / "e2e" / "test_y.py", "e2e"),
             Item(TESTS / "integration" / "test_w.py")]
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [[m.name for m in i.marks] for i in items] == [["unit"], ["e2e", "e2e"], ["integration"]]


@pytest.mark.parametrize(("nodeid", "group"), [
    ("tests/e2e/test_walking_skeleton.py::test_x", "e2e"),
    ("tests/integration/test_serving_ray.py::test_y[a::b]", "integration"),
    ("tests/cluster/test_node.py::test_z", "cluster"),
    ("tests/unit/serving/test_service_app.py::test_v", "serving-world"),
    ("tests/unit/serving_other/test_x.py::test_w", None),
    ("tests/unit/test_crds.py::test_u[e2e/x]", None),
])
def test_groups_follow_the_folders(nodeid: str, group: str | None) -> None:
    assert conftest.xdist_group(nodeid) == group


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    """Two workers, two cheap modules of one group: every test on the same worker (pytest-xdist's
    own loadgroup split them once pytest 9.2 made node ids read-only)."""
    import subprocess
    import sys

    files = [str(TESTS / "unit" / "serving" / f) for f in ("test_sprt.py", "test_serving_router.py")]
    out = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p",
                          "no:randomly", "-n", "2", "--dist", "loadgroup", *files],
                         cwd=TESTS.parent, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    ran = [line.split("]", 1)[0].lstrip("[") for line in out.stdout.splitlines()
           if line.startswith("[gw") and " PASSED " in line]
    assert len(ran) > 10, out.stdout[-2000:]
    assert len(set(ran)) == 1, sorted(set(ran))


def test_the_scheduler_is_ours_for_loadgroup_only() -> None:
    class Config:
        def __init__(self, dist: str) -> None:
            self.dist = dist
            self.option = type("Option", (), {"maxschedchunk": None, "loadscopereorder": True})

        def getvalue(self, name: str) -> str:
            return self.dist

    assert conftest.pytest_xdist_make_scheduler(Config("load"), None) is None  # type: ignore[arg-type]
    sched = conftest.pytest_xdist_make_scheduler(Config("loadgroup"), None)  # type: ignore[arg-type]
    assert sched._split_scope("tests/e2e/test_a.py::t") == "e2e"
    assert sched._split_scope("tests/unit/test_a.py::t") == "tests/unit/test_a.py::t"


def test_hook_refuses_a_test_marked_for_another_tier() -> None:
    items = [Item(TESTS / "unit" / "test_crds.py", "e2e")]
    with pytest.raises(pytest.UsageError, match=r"test_crds.py: marked \['e2e'\], lives in tier unit"):
        conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]


def test_this_session_marks_this_test(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None


def test_teardown_modules_run_last_whatever_the_shuffle() -> None:
    items = [Item(TESTS / "unit" / "test_z_end.py"), Item(TESTS / "unit" / "test_a.py"),
             Item(TESTS / "unit" / "test_b.py")]
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [i.path.name for i in items] == ["test_a.py", "test_b.py", "test_z_end.py"]
