"""Fakes at the host boundary for the tests of ``mlta.local`` (the demo's and the node's set-up).

- ``Fake``/``fake_exe``: a small shell script standing in for a command, at the path the code
  runs or first on PATH (``on_path``); every call is recorded, one line of arguments per call;
- ``serving``: a real HTTP(S) server on a port the kernel picked, answering what a test says;
- ``procs``: real processes a pid file can name (alive, or ignoring SIGTERM); ``NO_PID`` is a
  pid no process can have (above the kernel's pid_max), so signalling it can never hit one;
- ``cache``: ~/.cache/mlta (binaries, images, build storage) moved into the test's tmp dir;
  ``ray_home``: the demo's Ray head state in tmp, its dashboard port one nothing listens on;
- ``host``: fake ``ip``, ``nsenter`` and ``mount`` first on PATH and a cgroup tree in tmp, so
  nothing a test runs can change the host's network, mounts or cgroups; ``node_layout``: a
  node on loopback addresses with netns and cgroup names no real node uses.
"""

from __future__ import annotations

import http.server
import ipaddress
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.ray_cluster import free_port

from mlta.local import controlplane, images, rayhead
from mlta.local.node import hostnet, platform
from mlta.local.node import layout as layout_mod
from mlta.local.node.layout import NodeLayout

#: Tests that run the real openssl (the node PKI).
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")

NO_PID = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


@dataclass(frozen=True)
class Fake:
    path: Path

    @property
    def log(self) -> Path:
        return self.path.with_name(self.path.name + ".calls")

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def fake_exe(path: Path, body: str = "exit 0") -> Fake:
    """A shell script at ``path`` that records its arguments, then runs ``body``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fake = Fake(path)
    path.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{fake.log}"\n{body}\n')
    path.chmod(0o755)
    return fake


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Fake]:
    """``on_path(name, body)``: a fake command found before the real one."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return lambda name, body="exit 0": fake_exe(bin_dir / name, body)


@dataclass(frozen=True)
class Cache:
    root: Path

    @property
    def k8s_bin(self) -> Path:
        return self.root / "bin" / f"k8s-{controlplane.K8S_VERSION}"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cache:
    root = tmp_path / "cache"
    for module in (controlplane, layout_mod, images, platform):
        monkeypatch.setattr(module, "CACHE", root)
    monkeypatch.setattr(images, "IMAGES", root / "images")
    monkeypatch.setattr(images, "STORAGE", root / "containers")
    return Cache(root)


@pytest.fixture
def ray_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo's Ray head state in tmp, its dashboard on a port nothing listens on."""
    home = tmp_path / "ray"
    monkeypatch.setattr(rayhead, "TEMP_DIR", home)
    monkeypatch.setattr(rayhead, "TOKEN_FILE", home / "auth_token")
    monkeypatch.setattr(rayhead, "PID_FILE", home / "head.pid")
    monkeypatch.setattr(rayhead, "DASHBOARD_PORT", free_port())
    haproxy = Path(tempfile.mkdtemp(prefix="mlta-hp-", dir="/tmp"))  # its sockets want a short path
    monkeypatch.setattr(rayhead, "HAPROXY_DIR", haproxy)
    try:
        yield home
    finally:
        shutil.rmtree(haproxy, ignore_errors=True)


@dataclass(frozen=True)
class Host:
    ip: Fake
    nsenter: Fake
    mount: Fake
    cgroups: Path


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_path: Callable[[str, str], Fake]) -> Host:
    """The node's host commands as fakes that succeed; tests override what should fail."""
    cgroups = tmp_path / "cgroup"
    cgroups.mkdir()
    monkeypatch.setattr(hostnet, "CGROUP_BASE", cgroups)
    return Host(on_path("ip", "exit 0"), on_path("nsenter", "exit 0"), on_path("mount", "exit 0"),
                cgroups)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


#: What a test's server answers: (status, body), or None to drop the connection unanswered.
Answer = Callable[[Request], "tuple[int, str] | None"]


@dataclass
class Served:
    port: int
    requests: list[Request] = field(default_factory=list)


@contextmanager
def serving(answer: Answer, host: str = "127.0.0.1",
            tls: tuple[Path, Path] | None = None) -> Iterator[Served]:
    """A real HTTP(S) server on ``host`` and a port the kernel picks, until the block ends."""
    served: Served

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            served.requests.append(request)
            reply = answer(request)
            if reply is None:
                self.close_connection = True
                return
            status, body = reply
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    served = Served(int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def self_signed(directory: Path, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    """A certificate and key for ``ip`` (the embedded control plane is reached without verify)."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={ip}", "-days", "1",
                    "-addext", f"subjectAltName=IP:{ip}"], check=True, capture_output=True)
    return cert, key


class Procs:
    """Processes a test starts, each in a session of its own; whatever still runs is killed."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []
        self.orphans: list[int] = []

    def sleeper(self, ignore_term: bool = False) -> subprocess.Popen[str]:
        # `trap "" TERM` makes SIGTERM ignored, which survives exec: the sleep ignores it too.
        script = ('trap "" TERM; ' if ignore_term else "") + "echo ready; exec sleep 60"
        proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        self.started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        comm = Path(f"/proc/{proc.pid}/comm")
        deadline = time.monotonic() + 10  # "ready" comes before the exec: wait for the sleep
        while comm.read_text().strip() != "sleep":
            assert time.monotonic() < deadline, f"pid {proc.pid} never became the sleep"
            time.sleep(0.001)
        return proc

    def orphan(self) -> int:
        """A process that is not our child (its parent exited): nothing here can reap it."""
        res = subprocess.run(["sh", "-c", "sleep 60 >/dev/null 2>&1 & echo $!"], capture_output=True,
                             text=True, check=True)
        pid = int(res.stdout)
        self.orphans.append(pid)
        return pid

    def cleanup(self) -> None:
        for pid in self.orphans:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        for proc in self.started:
            if proc.poll() is None:  # still our unreaped child: its pid cannot have been reused
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


@pytest.fixture
def procs() -> Iterator[Procs]:
    started = Procs()
    try:
        yield started
    finally:
        started.cleanup()


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet collected, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone(pid: int, timeout: float = 5) -> bool:
    """True once ``pid`` has exited (a signal is delivered, not waited for, by ``kill``)."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def node_layout(tmp_path: Path) -> NodeLayout:
    """A node whose addresses are loopback ones (127.0.0.2 is the node) and whose netns and
    cgroup names no real node uses; its API server port is one nothing listens on."""
    return NodeLayout(state_dir=tmp_path / "node", netns=f"mlta-test-{tmp_path.name[-12:]}",
                      link_net=ipaddress.IPv4Network("127.0.0.0/30"), apiserver_port=free_port(),
                      cgroup_root=f"mlta-test-{os.getpid()}")
