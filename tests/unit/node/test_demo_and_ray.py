"""The demo's waits and the local Ray head when something is wrong, and the demo's training report.

kubectl is a fake in the test's cache answering what the API server would; the Ray dashboard
and the Serve app are real HTTP servers on ports the kernel picked; ``ray`` is a fake
executable given as the binary the head runs (nothing here starts Ray). The training report
reads a model version written to a tmp lake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.ray_cluster import free_port
from tests.unit.node.hostfakes import Cache, Fake, Procs, Request, fake_exe, gone, serving

from mlta import registry
from mlta.errors import BackendError
from mlta.local import demo, rayhead
from mlta.local.controlplane import ControlPlane
from mlta.local.training_report import training_report


def _cp(tmp_path: Path) -> ControlPlane:
    return ControlPlane(state_dir=tmp_path / "cluster", etcd_port=free_port(), apiserver_port=free_port())


def _cr(kind: str, name: str, phase: str | None, message: str = "", generation: int = 1,
        observed: int = 1) -> dict[str, Any]:
    status = {"phase": phase, "message": message, "observedGeneration": observed} if phase else None
    return {"kind": kind, "metadata": {"name": name, "generation": generation}, "status": status}


def _kubectl_get(cache: Cache, items: list[dict[str, Any]]) -> Fake:
    answer = cache.root / "items.json"
    answer.parent.mkdir(parents=True, exist_ok=True)
    answer.write_text(json.dumps({"items": items}))
    return fake_exe(cache.k8s_bin / "kubectl", f'cat "{answer}"')


def test_a_failed_kubectl_get_is_an_error_with_its_words(tmp_path: Path, cache: Cache) -> None:
    fake_exe(cache.k8s_bin / "kubectl",
             "echo 'error: the server does not have a resource type \"datapipelines\"' >&2; exit 1")
    with pytest.raises(BackendError, match='kubectl get datapipelines,trainingjobs,modeldeployments failed: '
                                           'error: the server does not have a resource type'):
        demo.resources(_cp(tmp_path))


def test_a_failed_resource_ends_the_wait_with_its_message(tmp_path: Path, cache: Cache,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    kubectl = _kubectl_get(cache, [_cr("DataPipeline", "dp", "Ready"),
                                   _cr("TrainingJob", "tj", "Failed", "no rows left after the embargo")])
    with pytest.raises(BackendError, match="TrainingJob/tj failed: no rows left after the embargo"):
        demo.wait_all_ready(_cp(tmp_path), expected=3, timeout=5)
    assert len(kubectl.calls()) == 1  # no waiting on after a failure
    assert "TrainingJob/tj" in capsys.readouterr().out  # its phase was shown as it came


def test_a_ready_phase_of_an_older_generation_is_not_ready(tmp_path: Path, cache: Cache) -> None:
    cp = _cp(tmp_path)
    _kubectl_get(cache, [_cr("DataPipeline", "dp", "Ready"),
                         _cr("ModelDeployment", "md", "Ready", generation=2, observed=1)])
    with pytest.raises(BackendError, match="not all resources Ready after 0s") as caught:
        demo.wait_all_ready(cp, expected=2, timeout=0.3)
    assert caught.value.hint == f"see {cp.state_dir / 'operator.log'} and the Ray dashboard"


def test_waiting_for_serve_names_the_last_answer(tmp_path: Path) -> None:
    with serving(lambda req: (503, "no replicas")) as app:
        endpoint = f"http://127.0.0.1:{app.port}/mlta/default/ab/v1/predict"
        health = f"http://127.0.0.1:{app.port}/mlta/default/ab/healthz"
        with pytest.raises(BackendError, match=re.escape(f"{health} did not answer within 0s (HTTP 503)")
                           ) as caught:
            demo.wait_serving(endpoint, timeout=0.3)
    assert {r.path for r in app.requests} == {"/mlta/default/ab/healthz"}
    assert "Serve page" in str(caught.value.hint)
    closed = f"http://127.0.0.1:{free_port()}/mlta/default/ab/v1"
    with pytest.raises(BackendError, match=r"did not answer within 0s \(ConnectError: "):
        demo.wait_serving(closed, timeout=0.3)


def _dashboard(answer_for_token: Callable[[bool], int]) -> Callable[[Request], tuple[int, str]]:
    def answer(req: Request) -> tuple[int, str]:
        ours = req.headers.get("authorization") == f"Bearer {rayhead.TOKEN_FILE.read_text().strip()}"
        return answer_for_token(ours), "{}"
    return answer


def test_another_ray_head_on_the_dashboard_port_is_refused(
        ray_home: Path, monkeypatch: pytest.MonkeyPatch, on_path: Callable[[str, str], Fake]) -> None:
    ray = on_path("ray", "exit 0")
    monkeypatch.setattr(rayhead, "_ray", lambda: str(ray.path))
    with serving(_dashboard(lambda ours: 401)) as other:
        monkeypatch.setattr(rayhead, "DASHBOARD_PORT", other.port)
        with pytest.raises(BackendError, match=re.escape(
                "a Ray head that does not accept the demo's token already listens on "
                f"http://127.0.0.1:{other.port} (HTTP 401)")) as caught:
            rayhead.start()
    assert "MLTA_RAY_DASHBOARD_PORT" in str(caught.value.hint) and ray.calls() == []


def test_start_leaves_the_demos_running_head_alone(ray_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                  on_path: Callable[[str, str], Fake],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ray = on_path("ray", "exit 0")
    monkeypatch.setattr(rayhead, "_ray", lambda: str(ray.path))
    with serving(_dashboard(lambda ours: 200 if ours else 401)) as ours:
        monkeypatch.setattr(rayhead, "DASHBOARD_PORT", ours.port)
        rayhead.start()
    assert f"Ray already running; dashboard http://127.0.0.1:{ours.port}" in capsys.readouterr().out
    assert ray.calls() == [] and not rayhead.PID_FILE.exists()


def test_a_ray_start_that_exits_is_reported_with_its_log(
        ray_home: Path, monkeypatch: pytest.MonkeyPatch, on_path: Callable[[str, str], Fake]) -> None:
    ray = on_path("ray", 'echo "auth=$RAY_AUTH_MODE token=$RAY_AUTH_TOKEN_PATH"\n'
                         "echo 'ConnectionError: GCS port 6379 is already in use'; exit 1")
    monkeypatch.setattr(rayhead, "_ray", lambda: str(ray.path))
    with pytest.raises(BackendError, match=r"ray start exited 1: auth=token token=.*\n"
                                           r"ConnectionError: GCS port 6379 is already in use") as caught:
        rayhead.start(timeout=30)
    assert caught.value.hint == f"see {ray_home / 'head.log'}"
    assert f"token={rayhead.TOKEN_FILE}" in caught.value.message
    assert not rayhead.PID_FILE.exists()
    (call,) = ray.calls()
    assert call.startswith("start --head --block") and f"--dashboard-port={rayhead.DASHBOARD_PORT}" in call


def test_a_head_whose_dashboard_never_answers_times_out_and_stop_ends_it(
        ray_home: Path, monkeypatch: pytest.MonkeyPatch, on_path: Callable[[str, str], Fake],
        procs: Procs, capsys: pytest.CaptureFixture[str]) -> None:
    ray = on_path("ray", "exec sleep 60")
    monkeypatch.setattr(rayhead, "_ray", lambda: str(ray.path))
    try:
        with pytest.raises(BackendError, match=re.escape(
                "Ray head not up after 0.3s: its dashboard does not answer")) as caught:
            rayhead.start(timeout=0.3)
        head = rayhead.head_pid()
        assert head is not None and str(caught.value.hint).endswith("session_latest/logs")
    finally:
        rayhead.stop()
    assert gone(head) and not rayhead.PID_FILE.exists()
    assert f"stopping Ray (process group {head})" in capsys.readouterr().out
    rayhead.stop()
    assert "no Ray head of the demo's running" in capsys.readouterr().out


def _version(tmp_path: Path, version: str, gate: registry.GateInfo | None) -> str:
    uri = f"file://{tmp_path}/lake/registry/direction/{version}"
    registry.write_metadata(uri, registry.ModelVersionMetadata(
        name="direction", version=version, model_type="lightgbm", artifact="model.txt",
        feature_columns=["f_rsi_14"], target={"kind": "direction", "horizon": 12},
        metrics={"score": 0.55}, lineage={}, created_at=datetime.now(UTC), gate=gate,
        evaluation={"lockbox": {"auc": 0.61, "sharpe": 1.25},
                    "baselines": {"buy_and_hold": {"lockbox": {"auc": 0.5, "sharpe": 0.8}}},
                    "selectionBias": {"deflatedSharpe": {"dsr": 0.91, "nTrials": 6}}}))
    return uri


def test_the_training_report_shows_only_what_a_version_has(tmp_path: Path) -> None:
    plain = _version(tmp_path, "v1", gate=None)
    gated = _version(tmp_path, "v2", gate=registry.GateInfo(status=registry.GateStatus.FAILED,
                                                            reasons=["lockbox sharpe 1.25 < 1.5"]))
    items = [{"kind": "DataPipeline", "metadata": {"name": "dp"}, "status": {"datasetUri": "file:///x"}},
             {"kind": "TrainingJob", "metadata": {"name": "still-running"}, "status": {"phase": "Running"}},
             {"kind": "TrainingJob", "metadata": {"name": "plain"}, "status": {"modelUri": plain}},
             {"kind": "TrainingJob", "metadata": {"name": "gated"}, "status": {"modelUri": gated}}]
    report = training_report(items).splitlines()
    plain_part = report[:report.index("  TrainingJob gated: direction v2 (lightgbm, 1 member(s))")]
    assert plain_part[0] == "  TrainingJob plain: direction v1 (lightgbm, 1 member(s))"
    assert not any("trials:" in line or "gate:" in line for line in plain_part)  # neither was recorded
    assert "    walk-forward score 0.5500; Deflated Sharpe 0.9100 over 6 trials" in plain_part
    assert any(line.split() == ["buy_and_hold", "0.5000", "0.8000"] for line in plain_part)
    assert report[-2:] == ["    gate: failed", "      - lockbox sharpe 1.25 < 1.5"]
    assert [line for line in report if line.startswith("  TrainingJob ")] == [
        plain_part[0], "  TrainingJob gated: direction v2 (lightgbm, 1 member(s))"]  # nothing else
