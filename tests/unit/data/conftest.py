"""Fixtures for the data lake tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def lake(tmp_path: Path) -> str:
    """A file:// lake root in a fresh temporary directory."""
    return "file://" + str(tmp_path / "lake")
