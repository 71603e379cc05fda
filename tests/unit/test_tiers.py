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


def test_hook_marks_each_test_with_its_tier_and_its_xdist_group() -> None:
    items = [Item(TESTS / "unit" / "test_x.py"), Item(TESTS / "e2e" / "test_y.py", "e2e"),
             Item(TESTS / "unit" / "serving" / "test_z.py", fixtures=("serving_world",)),
             Item(TESTS / "integration" / "test_w.py")]
    conftest.pytest_collection_modifyitems(None, items)  # type: ignore[arg-type]
    assert [[m.name for m in i.marks] for i in items] == [
        ["unit"], ["e2e", "e2e", "xdist_group"], ["unit", "xdist_group"], ["integration", "xdist_group"]]
    assert [i.marks[-1].args for i in items[1:]] == [("e2e",), ("serving-world",), ("integration",)]


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
