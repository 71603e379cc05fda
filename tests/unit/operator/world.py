"""A small world for the operator core's tests: a fake cluster, a fake engine, real reconcilers.

States are reached by running the real state machine (reconcile, then write the status the
way the loop does), never by writing a status by hand, except for dependencies that a test
wants in a precise state (``set_status``, as another controller would).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.support.fake_cluster import FakeCluster
from tests.support.fake_engine import FakeEngine

from mlta.config import Settings, load_settings
from mlta_operator import conditions as cond
from mlta_operator.backends.base import JobState
from mlta_operator.handlers import datapipeline, modeldeployment, trainingjob
from mlta_operator.kube import Ref
from mlta_operator.loop import Context, Reconciler
from mlta_operator.reconcile import Outcome

DP_SPEC: dict[str, Any] = {"source": {"type": "sample", "symbols": ["BTCUSDT"]}}
TJ_SPEC: dict[str, Any] = {"dataPipeline": "prices", "model": {"type": "lightgbm", "numBoostRound": 20}}
MD_SPEC: dict[str, Any] = {"variants": [
    {"name": "champion", "trainingJob": "deep", "weight": 80},
    {"name": "challenger", "trainingJob": "fast", "weight": 20},
]}
DATASET = {"datasetUri": "file:///lake/gold/prices/v3", "datasetVersion": "v3", "rows": 100,
           "featureCount": 12}

RECONCILERS: dict[str, Reconciler] = {
    "DataPipeline": datapipeline.reconcile,
    "TrainingJob": trainingjob.reconcile,
    "ModelDeployment": modeldeployment.reconcile,
}


def fast_settings(**operator: Any) -> Settings:
    environ = {f"MLTA_OPERATOR__{k.upper()}": str(v) for k, v in operator.items()}
    environ["MLTA_STORAGE__URI"] = "file:///lake"
    return load_settings(env="testing", environ=environ)


def ready_status(generation: int = 1, **outputs: Any) -> dict[str, Any]:
    """The status a dependency that finished has (what its own reconcile would write)."""
    return cond.mark(dict(outputs), generation, cond.State.READY, cond.Reason.SUCCEEDED, "done")


class World:
    def __init__(self, settings: Settings | None = None) -> None:
        self.cluster = FakeCluster()
        self.engine = FakeEngine()
        self.settings = settings or fast_settings()
        self.ctx = Context(settings=self.settings, engine=self.engine, cluster=self.cluster)

    def add(self, kind: str, name: str, spec: dict[str, Any]) -> Ref:
        self.cluster.create(kind, name, spec)
        return Ref(kind, "default", name)

    def body(self, ref: Ref) -> dict[str, Any]:
        """The stored object, read past the API (no call recorded, no fault consumed)."""
        body = self.cluster.objects.get(tuple(ref))  # type: ignore[call-overload]
        assert body is not None, f"{ref} does not exist"
        return copy.deepcopy(body)

    def status(self, ref: Ref) -> dict[str, Any]:
        return dict(self.body(ref).get("status") or {})

    def reconcile(self, ref: Ref) -> Outcome:
        """One reconcile of ``ref`` with its status written, as the loop does it."""
        outcome = RECONCILERS[ref.kind](self.body(ref), self.ctx)
        patch = cond.status_patch(self.status(ref), outcome.status)
        if patch:
            self.cluster.patch_status(*ref, patch)
        return outcome

    def condition(self, ref: Ref, type_: cond.ConditionType) -> dict[str, Any]:
        found = cond.get_condition(self.status(ref).get("conditions") or [], type_)
        assert found is not None, f"{ref} has no {type_} condition"
        return found

    def job_of(self, ref: Ref) -> str:
        sid = self.status(ref).get("submissionId")
        assert isinstance(sid, str), f"{ref} recorded no submission"
        return sid

    # -- dependencies in a given state ------------------------------------------------------
    def ready_pipeline(self, name: str = "prices", **outputs: Any) -> Ref:
        ref = self.add("DataPipeline", name, DP_SPEC)
        self.cluster.set_status("DataPipeline", name, ready_status(**{**DATASET, **outputs}))
        return ref

    def trained(self, name: str, version: str = "v1") -> Ref:
        """A TrainingJob that reports a model (status as its reconcile would write it)."""
        ref = self.add("TrainingJob", name, {**TJ_SPEC})
        self.cluster.set_status("TrainingJob", name, ready_status(
            modelUri=f"file:///lake/models/{name}/{version}", modelVersion=version,
            modelName=name, datasetVersion="v3"))
        return ref

    def run_job_to(self, ref: Ref, state: JobState, **result: Any) -> Outcome:
        """Submit (if needed), move the engine's job to ``state``, reconcile once more."""
        if "submissionId" not in self.status(ref):
            self.reconcile(ref)
        self.engine.set_job(self.job_of(ref), state, **result)
        return self.reconcile(ref)

    def status_of(self, kind: str, name: str) -> dict[str, Any]:
        return self.status(Ref(kind, "default", name))
