"""The suite runs next to a running demo: the demo's ports are known, and `make test` holds them."""

from __future__ import annotations

import os

import pytest
from tests.support.demo_ports import demo_ports, hold, is_free
from tests.support.ray_cluster import free_port


def test_the_demo_ports_are_the_ones_its_code_picks() -> None:
    ports = demo_ports()
    assert {2379, 2380, 6443, 6379, 8265, 8000, 9090, 8089, 10001, 52365, 18404, 19101} == set(ports)
    assert ports[6443] == "kube-apiserver" and ports[8265] == "Ray dashboard"


def test_hold_takes_free_ports_and_reports_taken_ones() -> None:
    port = free_port()
    with hold({port: "x"}) as first:
        assert first == {port: "held"} and not is_free(port)
        with hold({port: "x"}) as second:
            assert second == {port: "in use already"}
    assert is_free(port)


def test_this_session_runs_with_the_demo_ports_taken(demo_ports_held: dict[int, str]) -> None:
    """Under `make test` every demo port is taken (by this session, or by a running demo)."""
    if os.environ.get("MLTA_TEST_HOLD_DEMO_PORTS") != "1":
        assert demo_ports_held == {}
        pytest.skip("only `make test` (MLTA_TEST_HOLD_DEMO_PORTS=1) holds the demo's ports")
    assert set(demo_ports_held) == set(demo_ports())
    assert [p for p in demo_ports() if is_free(p)] == []
