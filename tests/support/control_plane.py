"""A private kube-apiserver + etcd for a test session: free ports, retried, always stopped.

The demo (``make up``) holds 2379/2380/6443 and another engineer's test may hold anything
else, so every port here is the kernel's pick on loopback. Picking and binding are two
steps, so another process can take a port in between: a start that fails because a port
was taken is stopped and retried on new ports. Whatever happens, everything this started
is stopped again (``controlplane.stop`` sends SIGTERM, then SIGKILL, to each process group),
including when etcd came up and the API server did not.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlta.errors import BackendError
from mlta.local import controlplane
from mlta.local.controlplane import ControlPlane

BIND_FAILURES = ("address already in use", "bind: address", "listen tcp")


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port p such that p and p+1 are both free now (etcd listens for peers on p+1)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind((host, 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind((host, port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError(f"no two adjacent free ports on {host}")


def private_ports() -> tuple[int, int]:
    """(etcd client port, API server port), none of them overlapping."""
    etcd = free_port_pair()
    while True:
        api = free_port_pair()
        if api not in (etcd, etcd + 1) and api + 1 != etcd:
            return etcd, api


@contextmanager
def private_control_plane(state_dir: Path, attempts: int = 3) -> Iterator[ControlPlane]:
    """Start a control plane in ``state_dir`` on free ports; stop it on exit, whatever happened."""
    last: BackendError | None = None
    for attempt in range(attempts):
        etcd_port, api_port = private_ports()
        cp = ControlPlane(state_dir=state_dir / f"attempt-{attempt}", etcd_port=etcd_port,
                          apiserver_port=api_port)
        try:
            controlplane.start(cp)
        except BackendError as exc:
            controlplane.stop(cp)
            if not any(marker in str(exc).lower() for marker in BIND_FAILURES):
                raise
            last = exc  # a port was taken between picking and binding: new ports
            continue
        try:
            yield cp
        finally:
            controlplane.stop(cp)
        return
    raise BackendError(f"the control plane could not bind free ports in {attempts} attempts: {last}")
