"""reconcile_deployment's state machine, table-driven, and the dependency refs of every kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.unit.operator.world import MD_SPEC, TJ_SPEC, World, ready_status

from mlta_operator import conditions as cond
from mlta_operator.backends.base import ServeState
from mlta_operator.kube import Ref
from mlta_operator.naming import serve_app_name
from mlta_operator.reconcile import Follow, dependencies

R = cond.Reason
APP = serve_app_name("default", "ab")


def both_trained(w: World) -> Ref:
    w.trained("deep")
    w.trained("fast")
    return w.add("ModelDeployment", "ab", MD_SPEC)


def deployed(state: ServeState, message: str = "") -> Callable[[World], Ref]:
    def arrange(w: World) -> Ref:
        ref = both_trained(w)
        w.reconcile(ref)
        w.engine.set_app(APP, state, message)
        return ref
    return arrange


def one_missing(w: World) -> Ref:
    w.trained("deep")
    return w.add("ModelDeployment", "ab", MD_SPEC)


def one_without_model(w: World) -> Ref:
    w.trained("deep")
    w.add("TrainingJob", "fast", TJ_SPEC)
    w.cluster.set_status("TrainingJob", "fast", ready_status(modelVersion="v1"))  # no modelUri
    return w.add("ModelDeployment", "ab", MD_SPEC)


def weights_changed(w: World) -> Ref:
    ref = deployed(ServeState.RUNNING)(w)
    w.reconcile(ref)
    spec = {"variants": [{**MD_SPEC["variants"][0], "weight": 50}, {**MD_SPEC["variants"][1], "weight": 50}]}
    w.cluster.update_spec("ModelDeployment", "ab", spec)
    return ref


def app_vanished(w: World) -> Ref:
    ref = deployed(ServeState.RUNNING)(w)
    w.reconcile(ref)
    w.engine.delete_serve_app(APP, "default")
    return ref


def retrained(w: World) -> Ref:
    ref = deployed(ServeState.RUNNING)(w)
    w.reconcile(ref)
    w.cluster.set_status("TrainingJob", "fast", ready_status(
        modelUri="file:///lake/models/fast/v2", modelVersion="v2", modelName="fast"))
    return ref


def invalid(w: World) -> Ref:
    return w.add("ModelDeployment", "ab", {"variants": [{"name": "x", "weight": "lots"}]})


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable[[World], Ref]
    phase: str
    reason: str
    follow: Follow
    applies: int = 0      # apply_serve_app calls made by this reconcile
    message: str = ""
    degraded: bool = False


CASES = [
    Case("waits-for-a-missing-training-job", one_missing, "Progressing", R.WAITING_FOR_DEPENDENCY,
         Follow.EVENTS, message="TrainingJob default/fast does not exist"),
    Case("waits-for-a-model-uri", one_without_model, "Progressing", R.WAITING_FOR_DEPENDENCY,
         Follow.EVENTS, message="TrainingJob status lacks 'modelUri'"),
    Case("applies-once-all-models-exist", both_trained, "Progressing", R.DEPLOYING, Follow.POLL,
         applies=1, message=f"applying Serve application {APP}"),
    Case("deploying-is-polled", deployed(ServeState.DEPLOYING, "2/3 replicas"), "Progressing",
         R.DEPLOYING, Follow.POLL, message="2/3 replicas"),
    Case("running-is-ready-and-watched", deployed(ServeState.RUNNING), "Ready", R.SERVING,
         Follow.WATCH, message="champion=80"),
    Case("unhealthy-is-degraded-and-not-ready", deployed(ServeState.UNHEALTHY, "replica died"),
         "Degraded", R.UNHEALTHY, Follow.WATCH, message="replica died", degraded=True),
    Case("deploy-failure-fails", deployed(ServeState.FAILED, "ImportError"), "Failed",
         R.DEPLOY_FAILED, Follow.WATCH, message="ImportError"),
    Case("weight-change-reapplies", weights_changed, "Progressing", R.DEPLOYING, Follow.POLL,
         applies=1),
    Case("vanished-app-is-reapplied", app_vanished, "Progressing", R.DEPLOYING, Follow.POLL, applies=1),
    Case("retrained-model-is-rolled-out", retrained, "Progressing", R.DEPLOYING, Follow.POLL, applies=1),
    Case("invalid-spec-fails", invalid, "Failed", R.INVALID_SPEC, Follow.EVENTS, message="spec.variants"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reconcile_deployment(case: Case) -> None:
    w = World()
    ref = case.arrange(w)
    applies = w.engine.count("apply_serve_app")
    outcome = w.reconcile(ref)
    status = w.status(ref)
    ready = w.condition(ref, cond.READY)
    assert (status["phase"], ready["reason"]) == (case.phase, case.reason)
    assert outcome.follow == case.follow
    assert outcome.invalid_spec == (case.reason == R.INVALID_SPEC)
    assert case.message in ready["message"]
    assert w.engine.count("apply_serve_app") - applies == case.applies
    degraded = cond.get_condition(status["conditions"], cond.DEGRADED)
    assert bool(degraded and degraded["status"] == "True") == case.degraded


def test_serving_status_names_every_variant_and_its_model() -> None:
    w = World()
    ref = deployed(ServeState.RUNNING)(w)
    w.reconcile(ref)
    status = w.status(ref)
    assert status["split"] == "champion=80,challenger=20"
    assert status["endpoint"].endswith("/mlta/default/ab/v1/predict")
    assert [(v["name"], v["modelVersion"], v["weight"]) for v in status["variants"]] == [
        ("champion", "v1", 80), ("challenger", "v1", 20)]
    assert status["appName"] == APP and status["configHash"]
    app = w.engine.apps[APP]
    assert app["route_prefix"] == "/mlta/default/ab"


def test_an_unchanged_deployment_is_not_reapplied() -> None:
    w = World()
    ref = deployed(ServeState.RUNNING)(w)
    for _ in range(3):
        w.reconcile(ref)
    assert w.engine.count("apply_serve_app") == 1


@pytest.mark.parametrize(("kind", "spec", "expected"), [
    ("DataPipeline", {"source": {"type": "sample"}}, ()),
    ("TrainingJob", {"dataPipeline": "prices"}, (Ref("DataPipeline", "ns", "prices"),)),
    ("TrainingJob", {"dataPipeline": 7}, ()),
    ("ModelDeployment", MD_SPEC, (Ref("TrainingJob", "ns", "deep"), Ref("TrainingJob", "ns", "fast"))),
    ("ModelDeployment", {"variants": [{"trainingJob": "a"}, {"trainingJob": "a"}, "junk", {}]},
     (Ref("TrainingJob", "ns", "a"),)),
    ("ModelDeployment", {}, ()),
])
def test_dependencies_come_from_the_stored_spec(kind: str, spec: dict[str, object],
                                                 expected: tuple[Ref, ...]) -> None:
    body = {"kind": kind, "metadata": {"namespace": "ns", "name": "x"}, "spec": spec}
    assert dependencies(body) == expected
