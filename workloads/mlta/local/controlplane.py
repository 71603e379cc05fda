"""A real kube-apiserver + etcd on loopback, the way controller-runtime's envtest runs them.

Binaries are compiled from the Kubernetes project's own Go modules by
``scripts/build-control-plane.sh`` and cached under ``~/.cache/mlta/bin``. There is no
kube-controller-manager or scheduler: the API server validates, stores and serves objects
(CRDs with CEL rules, status subresources, watches), which is all an operator needs; garbage
collection of owned objects is the one controller behaviour missing, so the operator's
finalizers clean up explicitly.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ..config import cache_dir
from ..errors import BackendError

K8S_VERSION = os.environ.get("MLTA_K8S_VERSION", "v1.34.3")
CACHE = cache_dir()
REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ControlPlane:
    """Where a local control plane lives and how to reach it."""

    state_dir: Path = CACHE / "cluster"
    # MLTA_ETCD_PORT (etcd's peers listen on the next port) and MLTA_APISERVER_PORT move the
    # demo's control plane, so a second one (or a test of the CLI) can run beside it.
    etcd_port: int = field(default_factory=lambda: int(os.environ.get("MLTA_ETCD_PORT", "2379")))
    apiserver_port: int = field(
        default_factory=lambda: int(os.environ.get("MLTA_APISERVER_PORT", "6443")))

    @property
    def bin_dir(self) -> Path:
        return CACHE / "bin" / f"k8s-{K8S_VERSION}"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    def kubectl(self) -> list[str]:
        return [str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}"]


def log(msg: str) -> None:
    print(f"[cluster] {msg}", flush=True)


def ensure_binaries(cp: ControlPlane) -> None:
    """Build the binaries once (several minutes), then reuse the cache."""
    if all((cp.bin_dir / b).exists() for b in ("etcd", "kube-apiserver", "kubectl")):
        return
    log("building kube-apiserver, etcd and kubectl from Go modules (once; cached)")
    res = subprocess.run(["bash", str(REPO / "scripts" / "build-control-plane.sh")])
    if res.returncode != 0:  # an MltaError, so the CLI says so instead of a traceback
        raise BackendError(f"scripts/build-control-plane.sh failed (exit {res.returncode})",
                           hint="see its output above; it needs Go and the Go module proxy")


def _token(cp: ControlPlane) -> str:
    token_file = cp.state_dir / "token"
    if not token_file.exists():
        token_file.write_text(secrets.token_hex(16))
    return token_file.read_text().strip()


def _write_auth(cp: ControlPlane) -> None:
    """Static admin token (group system:masters), service-account keys, kubeconfig."""
    cp.state_dir.mkdir(parents=True, exist_ok=True)
    token = _token(cp)
    (cp.state_dir / "tokens.csv").write_text(f'{token},mlta-admin,mlta-admin,"system:masters"\n')
    key = cp.state_dir / "sa.key"
    if not key.exists():
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True,
                       capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out",
                        str(cp.state_dir / "sa.pub")], check=True, capture_output=True)
    cp.kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: mlta-local
  cluster:
    server: {cp.url}
    insecure-skip-tls-verify: true
users:
- name: mlta-admin
  user:
    token: {token}
contexts:
- name: mlta-local
  context: {{cluster: mlta-local, user: mlta-admin, namespace: default}}
current-context: mlta-local
""")


def _reap(pid: int) -> None:
    """Collect an exited child of ours, so it does not linger as a zombie that looks alive."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def pid_alive(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` while that process lives (ours reaped first).

    A live pid is the recorded process only if it started before the file was written: the
    kernel reuses pids, and a file left by a process long gone (a machine rebooted, a demo
    killed) otherwise named whatever runs under that number now, as "running", and `make
    down` would have signalled it."""
    try:
        pid = int(pid_file.read_text())
        _reap(pid)
        os.kill(pid, 0)
        written = pid_file.stat().st_mtime
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    started = process_started_at(pid)
    if started is not None and started > written + PID_CLOCK_SLACK_S:
        return None
    return pid


#: Boot time is whole seconds in /proc/stat: a process's start time is known to about 1 s.
PID_CLOCK_SLACK_S = 2.0


def process_started_at(pid: int, proc: Path = Path("/proc")) -> float | None:
    """When ``pid`` started (seconds since the epoch), from /proc; None if unknown."""
    try:
        fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in (proc / "stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime


def _spawn(cp: ControlPlane, name: str, args: list[str]) -> None:
    pid_file = cp.state_dir / f"{name}.pid"
    if pid_alive(pid_file):
        return
    with open(cp.state_dir / f"{name}.log", "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file.write_text(str(proc.pid))


def is_ready(cp: ControlPlane) -> bool:
    try:
        resp = httpx.get(f"{cp.url}/readyz", verify=False, timeout=2,
                         headers={"Authorization": f"Bearer {_token(cp)}"})
        return resp.status_code == 200
    except (httpx.HTTPError, FileNotFoundError):
        return False


def start(cp: ControlPlane, timeout: float = 120) -> None:
    """Start etcd and kube-apiserver (idempotent) and wait until /readyz answers."""
    ensure_binaries(cp)
    _write_auth(cp)
    if is_ready(cp):
        log(f"API server already running at {cp.url}")
        return
    data = cp.state_dir / "etcd-data"
    log(f"starting etcd on 127.0.0.1:{cp.etcd_port}")
    _spawn(cp, "etcd", [
        str(cp.bin_dir / "etcd"), f"--data-dir={data}", "--name=mlta",
        f"--listen-client-urls=http://127.0.0.1:{cp.etcd_port}",
        f"--advertise-client-urls=http://127.0.0.1:{cp.etcd_port}",
        f"--listen-peer-urls=http://127.0.0.1:{cp.etcd_port + 1}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{cp.etcd_port + 1}",
        f"--initial-cluster=mlta=http://127.0.0.1:{cp.etcd_port + 1}",
        "--unsafe-no-fsync=true", "--quota-backend-bytes=2147483648",
    ])
    log(f"starting kube-apiserver {K8S_VERSION} on {cp.url}")
    _spawn(cp, "kube-apiserver", [
        str(cp.bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{cp.etcd_port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
        f"--secure-port={cp.apiserver_port}", f"--cert-dir={cp.state_dir / 'certs'}",
        f"--token-auth-file={cp.state_dir / 'tokens.csv'}",
        "--authorization-mode=RBAC", "--allow-privileged=true",
        "--service-cluster-ip-range=10.0.0.0/24",
        f"--service-account-issuer=https://127.0.0.1:{cp.apiserver_port}",
        f"--service-account-key-file={cp.state_dir / 'sa.pub'}",
        f"--service-account-signing-key-file={cp.state_dir / 'sa.key'}",
        "--disable-admission-plugins=ServiceAccount",
        "--enable-priority-and-fairness=false",
    ])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(cp):
            log(f"API server ready; export KUBECONFIG={cp.kubeconfig}")
            return
        for name in ("etcd", "kube-apiserver"):
            if not pid_alive(cp.state_dir / f"{name}.pid"):
                tail = (cp.state_dir / f"{name}.log").read_text()[-2000:]
                raise BackendError(f"{name} exited during start-up:\n{tail}",
                                   hint=f"see {cp.state_dir / (name + '.log')}")
        time.sleep(0.5)
    raise BackendError(f"kube-apiserver not ready after {timeout}s",
                       hint=f"see {cp.state_dir / 'kube-apiserver.log'}")


def stop(cp: ControlPlane, timeout: float = 30) -> None:
    """Stop kube-apiserver then etcd: SIGTERM, then SIGKILL after ``timeout``."""
    for name in ("kube-apiserver", "etcd"):
        pid = pid_alive(cp.state_dir / f"{name}.pid")
        if pid is None:
            continue
        log(f"stopping {name} (pid {pid})")
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(cp.state_dir / f"{name}.pid"):
            time.sleep(0.2)
        if pid_alive(cp.state_dir / f"{name}.pid"):
            os.killpg(pid, signal.SIGKILL)
        (cp.state_dir / f"{name}.pid").unlink(missing_ok=True)


def reset(cp: ControlPlane) -> None:
    """Stop and forget all stored objects (etcd data)."""
    import shutil

    stop(cp)
    shutil.rmtree(cp.state_dir / "etcd-data", ignore_errors=True)
