"""``python -m mlta.local.node.supervisor STATE_DIR``: the node's daemons, in the node's namespaces.

``lifecycle.up`` starts this process inside the node's network namespace and a private mount
namespace (``nsenter --net`` + ``unshare --mount --propagation slave``). Every daemon it
starts shares both, so the kubelet's volume mounts are seen by containerd and runc, nothing
mounted here reaches the host, and all of it vanishes when the last process exits. A fresh
tmpfs on /run holds the runtime's sockets (containerd's shims put theirs under /run/containerd).

Start order: etcd, kube-apiserver (ready), controller-manager, scheduler, containerd (CRI answers),
kubelet, kube-proxy. SIGTERM stops them in reverse, first killing every container process in
this mount namespace, so no shim outlives the node.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import hostnet
from .layout import NODE_NAME, NodeLayout

STOP_ORDER = ("kube-proxy", "kubelet", "containers", "containerd", "kube-scheduler",
              "kube-controller-manager", "kube-apiserver", "etcd")


def commands(layout: NodeLayout) -> dict[str, list[str]]:
    """Each daemon's command line (ordered as started)."""
    b, pki, run = layout.bin_dir, layout.pki, layout.run_dir
    return {
        "etcd": [str(b / "etcd"), f"--data-dir={layout.etcd_data}", "--name=mlta-node",
                 "--listen-client-urls=http://127.0.0.1:2379",
                 "--advertise-client-urls=http://127.0.0.1:2379",
                 "--listen-peer-urls=http://127.0.0.1:2380", "--listen-metrics-urls=",
                 "--unsafe-no-fsync=true", "--quota-backend-bytes=2147483648"],
        "kube-apiserver": [
            str(b / "kube-apiserver"), "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0", f"--advertise-address={layout.node_ip}",
            f"--secure-port={layout.apiserver_port}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}", f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true", f"--service-cluster-ip-range={layout.service_net}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={pki / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            "--enable-priority-and-fairness=false", "--profiling=false"],
        "kube-controller-manager": [
            str(b / "kube-controller-manager"), f"--kubeconfig={pki / 'controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={pki / 'controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={pki / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-cluster-ip-range={layout.service_net}", "--controllers=*,-csrsigning",
            "--profiling=false"],
        "kube-scheduler": [
            str(b / "kube-scheduler"), f"--kubeconfig={pki / 'scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={pki / 'scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={pki / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false"],
        "containerd": ["containerd", f"--config={run / 'containerd' / 'config.toml'}"],
        "kubelet": [str(b / "kubelet"), f"--config={run / 'kubelet.yaml'}",
                    f"--kubeconfig={pki / 'kubelet.kubeconfig'}", f"--root-dir={run / 'kubelet'}",
                    f"--hostname-override={NODE_NAME}", f"--node-ip={layout.node_ip}"],
        "kube-proxy": [str(b / "kube-proxy"), f"--config={run / 'kube-proxy.yaml'}"],
    }


def _log(msg: str) -> None:
    print(f"[node-supervisor] {msg}", flush=True)


def _wait(what: str, check: object, timeout: float, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}")
        time.sleep(0.2)
    raise RuntimeError(f"{what} not ready after {timeout:.0f}s")


def _apiserver_ready(layout: NodeLayout) -> bool:
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context(cafile=str(layout.pki / "ca.crt"))
    req = urllib.request.Request(f"https://127.0.0.1:{layout.apiserver_port}/readyz",
                                 headers={"Authorization": "Bearer " + (layout.pki / "admin.token")
                                          .read_text().strip()})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _cri_ready(socket: Path) -> bool:
    """containerd's CRI answers the kubelet's first call (``RuntimeService/Version``).

    Its socket exists a moment before the CRI plugin has recovered its state (longer with
    containers of an earlier run to recover, on a loaded machine); a kubelet started in
    between exits at once ("server is not initialized yet") and takes the node down.
    """
    if not socket.exists():
        return False
    import grpc

    with grpc.insecure_channel(f"unix://{socket}") as channel:
        version = channel.unary_unary("/runtime.v1.RuntimeService/Version",
                                      request_serializer=bytes, response_deserializer=bytes)
        try:
            version(b"", timeout=2)  # an empty VersionRequest
        except grpc.RpcError:
            return False
    return True


def _namespace_pids() -> list[int]:
    """Every process in this mount namespace except this one (containers, shims, daemons)."""
    mine = os.readlink("/proc/self/ns/mnt")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if os.readlink(entry / "ns" / "mnt") == mine:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _stop(name: str, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _log(f"{name} ignored SIGTERM for {timeout:.0f}s: SIGKILL")
        proc.kill()
        proc.wait(10)


def _kill_containers(daemons: set[int]) -> None:
    """SIGKILL every process of this namespace that is not one of our daemons."""
    for _ in range(50):
        others = [p for p in _namespace_pids() if p not in daemons]
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.1)


#: Paths the daemons write whatever their configuration says (the kubelet's device-plugin
#: socket and /var/log/containers links, libcni's result cache, shim sockets under
#: /run/containerd): each gets a fresh tmpfs in this mount namespace, so the host's stay as
#: they are.
PRIVATE_TMPFS = ("/run", "/var/lib", "/var/log")


def private_mounts(layout: NodeLayout) -> None:
    state = layout.state_dir.resolve()
    for target in PRIVATE_TMPFS:
        if state.is_relative_to(target):
            raise RuntimeError(f"the node's state dir {state} is under {target}, which the node "
                               "hides behind a tmpfs; set MLTA_CACHE_DIR elsewhere")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,size=256m", "mlta-node", target],
                       check=True)


def run(layout: NodeLayout) -> int:
    private_mounts(layout)
    for key, value in (("net/ipv4/ip_forward", "1"), ("net/bridge/bridge-nf-call-iptables", "1")):
        Path("/proc/sys", key).write_text(value)  # this network namespace only
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = {"flag": False}

    def on_term(signum: int, frame: object) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    env = dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    cmds = commands(layout)
    try:
        for name, argv in cmds.items():
            if stopping["flag"]:
                break
            with open(layout.logs / f"{name}.log", "ab") as out:
                procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, env=env)
            _log(f"started {name} (pid {procs[name].pid})")
            if name == "kube-apiserver":
                _wait("kube-apiserver", lambda: _apiserver_ready(layout), 120, procs)
            if name == "containerd":
                _wait("containerd's CRI", lambda: _cri_ready(layout.containerd_socket), 60, procs)
        (layout.run_dir / "supervisor.ready").write_text("ok")
        while not stopping["flag"]:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    _log(f"{name} exited with {proc.returncode}; stopping the node")
                    stopping["flag"] = True
            time.sleep(0.5)
    except RuntimeError as exc:
        _log(f"start failed: {exc}")
        (layout.run_dir / "supervisor.failed").write_text(str(exc))
    finally:
        daemons = {p.pid for p in procs.values()}
        for name in STOP_ORDER:
            if name == "containers":
                hostnet.kill_cgroup_processes(layout)  # pods: own mount and PID namespaces
                _kill_containers(daemons)             # shims: in this mount namespace
            elif name in procs:
                _stop(name, procs[name])
                _log(f"stopped {name}")
        _kill_containers(set())
    return 0


if __name__ == "__main__":
    sys.exit(run(NodeLayout.load(Path(sys.argv[1]))))
