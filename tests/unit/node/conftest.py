"""The fixtures of tests.unit.node.hostfakes (fakes at the host boundary), for every test here."""

from tests.unit.node.hostfakes import cache, host, node_layout, on_path, procs, ray_home

__all__ = ["cache", "host", "node_layout", "on_path", "procs", "ray_home"]
