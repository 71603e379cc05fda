"""reconcile_job's state machine, table-driven: every row arranges a world, reconciles once
and states the phase, reason and follow-up that must come out, plus what the engine saw.

pending -> submitted -> running -> succeeded / failed; waits for the DataPipeline; spec
changes mid-run; engine and API faults; restarts between recording and submitting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from tests.unit.operator.world import DATASET, DP_SPEC, TJ_SPEC, World, ready_status

from mlta.errors import BackendError
from mlta_operator import conditions as cond
from mlta_operator.backends.base import JobState
from mlta_operator.kube import Ref
from mlta_operator.reconcile import Follow, Outcome

R = cond.Reason


def new_pipeline(w: World) -> Ref:
    return w.add("DataPipeline", "prices", DP_SPEC)


def submitted_pipeline(w: World) -> Ref:
    ref = new_pipeline(w)
    w.reconcile(ref)
    return ref


def pipeline_with_job(state: JobState, **result: object) -> Callable[[World], Ref]:
    def arrange(w: World) -> Ref:
        ref = submitted_pipeline(w)
        w.engine.set_job(w.job_of(ref), state, **result)  # type: ignore[arg-type]
        return ref
    return arrange


def finished_pipeline(w: World) -> Ref:
    ref = submitted_pipeline(w)
    w.run_job_to(ref, JobState.SUCCEEDED, outputs=DATASET)
    return ref


def recorded_but_never_submitted(w: World) -> Ref:
    """The operator died between recording the id and submitting (the engine has no job)."""
    ref = new_pipeline(w)
    w.engine.fail_next("submit_job", BackendError("connection reset"))
    with pytest.raises(BackendError):
        w.reconcile(ref)
    return ref


def spec_changed_while_running(w: World) -> Ref:
    ref = pipeline_with_job(JobState.RUNNING)(w)
    w.cluster.update_spec("DataPipeline", "prices", {"source": {"type": "sample", "symbols": ["ETHUSDT"]}})
    return ref


def invalid_pipeline(w: World) -> Ref:
    return w.add("DataPipeline", "prices", {"source": {"type": "carrier-pigeon"}})


def training(dependency: Callable[[World], object] | None) -> Callable[[World], Ref]:
    def arrange(w: World) -> Ref:
        if dependency is not None:
            dependency(w)
        return w.add("TrainingJob", "deep", TJ_SPEC)
    return arrange


def pipeline_progressing(w: World) -> None:
    ref = w.add("DataPipeline", "prices", DP_SPEC)
    w.reconcile(ref)


def pipeline_ready_for_old_generation(w: World) -> None:
    w.ready_pipeline()
    w.cluster.update_spec("DataPipeline", "prices", {"source": {"type": "sample", "symbols": ["XRPUSDT"]}})


def pipeline_ready_without_dataset(w: World) -> None:
    w.add("DataPipeline", "prices", DP_SPEC)
    w.cluster.set_status("DataPipeline", "prices", ready_status())


def trained_then_new_dataset(w: World) -> Ref:
    w.ready_pipeline()
    ref = w.add("TrainingJob", "deep", TJ_SPEC)
    w.run_job_to(ref, JobState.SUCCEEDED, outputs={"modelUri": "file:///m/v1", "modelVersion": "v1"})
    w.cluster.set_status("DataPipeline", "prices", ready_status(**{**DATASET, "datasetUri": "file:///g/v4",
                                                                     "datasetVersion": "v4"}))
    return ref


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable[[World], Ref]
    phase: str
    reason: str
    follow: Follow = Follow.EVENTS
    submits: int = 0              # submit_job calls made by this reconcile
    stops: int = 0                # stop_job calls made by this reconcile
    asks: int | None = None       # job_status calls made by this reconcile (None: any)
    message: str = ""             # a substring of the Ready condition's message
    status: dict[str, object] = field(default_factory=dict)  # status keys that must be set so


CASES = [
    Case("new-cr-is-recorded-then-submitted", new_pipeline, "Progressing", R.SUBMITTED, Follow.POLL,
         submits=1, message="fake job mlta-dp-default-prices-g1-"),
    Case("pending-job-is-polled", pipeline_with_job(JobState.PENDING), "Progressing", R.JOB_PENDING,
         Follow.POLL, message="pending"),
    Case("running-job-is-polled", pipeline_with_job(JobState.RUNNING), "Progressing", R.JOB_RUNNING,
         Follow.POLL, asks=1, message="running"),
    Case("succeeded-job-copies-its-outputs", pipeline_with_job(JobState.SUCCEEDED, outputs=DATASET),
         "Ready", R.SUCCEEDED, status={"datasetUri": DATASET["datasetUri"], "rows": 100}),
    Case("unknown-outputs-stay-out-of-status",
         pipeline_with_job(JobState.SUCCEEDED, outputs={**DATASET, "secret": "x"}),
         "Ready", R.SUCCEEDED, status={"secret": None}),
    Case("failed-job-reports-its-own-reason",
         pipeline_with_job(JobState.FAILED, reason="NotFound", message="file:///x does not exist"),
         "Failed", "NotFound", message="file:///x does not exist"),
    Case("succeeded-without-a-result-is-a-failure",
         pipeline_with_job(JobState.SUCCEEDED, message="driver exited", report=False),
         "Failed", R.JOB_FAILED, message="driver exited"),
    Case("stopped-job-without-message", pipeline_with_job(JobState.STOPPED, report=False),
         "Failed", R.JOB_FAILED, message="job failed without a message"),
    Case("finished-job-is-not-looked-at-again", finished_pipeline, "Ready", R.SUCCEEDED, asks=0),
    Case("recorded-id-without-job-is-submitted-after-restart", recorded_but_never_submitted,
         "Progressing", R.SUBMITTED, Follow.POLL, submits=1),
    Case("spec-change-mid-run-stops-and-resubmits", spec_changed_while_running, "Progressing",
         R.SUBMITTED, Follow.POLL, submits=1, stops=1, message="-g2-"),
    Case("invalid-spec-fails-without-touching-the-engine", invalid_pipeline, "Failed",
         R.INVALID_SPEC, asks=0, message="spec.source"),
    Case("training-waits-for-a-missing-pipeline", training(None), "Progressing",
         R.WAITING_FOR_DEPENDENCY, message="DataPipeline default/prices does not exist"),
    Case("training-waits-for-a-running-pipeline", training(pipeline_progressing), "Progressing",
         R.WAITING_FOR_DEPENDENCY, message="(now Progressing)"),
    Case("training-waits-for-the-pipelines-new-generation", training(pipeline_ready_for_old_generation),
         "Progressing", R.WAITING_FOR_DEPENDENCY, message="to be Ready"),
    Case("training-waits-for-a-dataset", training(pipeline_ready_without_dataset), "Progressing",
         R.WAITING_FOR_DEPENDENCY, message="reports no dataset"),
    Case("training-submits-once-its-pipeline-is-ready", training(lambda w: w.ready_pipeline()),
         "Progressing", R.SUBMITTED, Follow.POLL, submits=1),
    Case("new-dataset-retrains", trained_then_new_dataset, "Progressing", R.SUBMITTED, Follow.POLL,
         submits=1, stops=1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reconcile_job(case: Case) -> None:
    w = World()
    ref = case.arrange(w)
    submits, stops = w.engine.count("submit_job"), w.engine.count("stop_job")
    asks = w.engine.count("job_status")
    outcome: Outcome = w.reconcile(ref)
    status = w.status(ref)
    assert (status["phase"], w.condition(ref, cond.READY)["reason"]) == (case.phase, case.reason)
    assert outcome.follow == case.follow
    assert outcome.invalid_spec == (case.reason == R.INVALID_SPEC)
    assert status["observedGeneration"] == w.body(ref)["metadata"]["generation"]
    assert case.message in w.condition(ref, cond.READY)["message"]
    assert w.engine.count("submit_job") - submits == case.submits
    assert w.engine.count("stop_job") - stops == case.stops
    if case.asks is not None:
        assert w.engine.count("job_status") - asks == case.asks
    for key, value in case.status.items():
        assert status.get(key) == value, key
    # The state machine is level-based: reconciling again from the written status changes nothing
    # unless the engine moved (a job in flight is asked again, nothing is submitted twice).
    again = w.reconcile(ref)
    assert w.status(ref)["phase"] == status["phase"]
    assert again.follow == outcome.follow
    assert w.engine.count("submit_job") - submits == case.submits


def test_id_is_recorded_before_the_engine_is_asked() -> None:
    """A crash after submitting must find the id in status, or a restart would submit twice."""
    w = World()
    ref = new_pipeline(w)
    seen: list[object] = []
    real_submit = w.engine.submit_job

    def submit(envelope, body):  # type: ignore[no-untyped-def]
        seen.append(w.status(ref).get("submissionId"))
        real_submit(envelope, body)

    w.engine.submit_job = submit  # type: ignore[method-assign]
    w.reconcile(ref)
    assert seen == [w.job_of(ref)]
    assert w.condition(ref, cond.READY)["reason"] == R.SUBMITTED


def test_same_generation_and_inputs_give_the_same_submission_id() -> None:
    first, second = World(), World()
    for w in (first, second):
        w.cluster.create("DataPipeline", "prices", DP_SPEC)
    # Same uid, generation and inputs -> same id: give the second world the first CR's uid.
    uid = first.body(Ref("DataPipeline", "default", "prices"))["metadata"]["uid"]
    second.cluster.objects[("DataPipeline", "default", "prices")]["metadata"]["uid"] = uid
    ids = []
    for w in (first, second):
        ref = Ref("DataPipeline", "default", "prices")
        w.reconcile(ref)
        ids.append(w.job_of(ref))
    assert ids[0] == ids[1]


def test_training_envelope_carries_the_resolved_dataset() -> None:
    w = World()
    w.ready_pipeline()
    ref = w.add("TrainingJob", "deep", TJ_SPEC)
    w.reconcile(ref)
    envelope = w.engine.jobs[w.job_of(ref)].envelope
    assert envelope.inputs == {"datasetUri": DATASET["datasetUri"], "datasetVersion": "v3"}
    assert envelope.resource.kind == "TrainingJob" and envelope.storage_uri == "file:///lake"


@pytest.mark.parametrize("operation", ["job_status", "submit_job", "stop_job"])
def test_engine_errors_propagate_as_retryable(operation: str) -> None:
    """The loop retries a BackendError; nothing may be marked Failed for an engine outage."""
    w = World()
    ref = spec_changed_while_running(w) if operation == "stop_job" else submitted_pipeline(w)
    if operation == "submit_job":
        w.cluster.update_spec("DataPipeline", "prices",
                              {"source": {"type": "sample", "symbols": ["SOLUSDT"]}})
    before = w.status(ref)["phase"]
    w.engine.fail_next(operation, BackendError("Ray dashboard unreachable"))
    with pytest.raises(BackendError) as raised:
        w.reconcile(ref)
    assert raised.value.retryable
    assert w.status(ref)["phase"] == before
    w.reconcile(ref)  # the retry converges
    assert w.status(ref)["phase"] == "Progressing"


def test_api_error_reading_the_dependency_propagates() -> None:
    w = World()
    w.ready_pipeline()
    ref = w.add("TrainingJob", "deep", TJ_SPEC)
    w.cluster.fail_next("get", BackendError("reading DataPipeline failed: Service Unavailable"))
    with pytest.raises(BackendError):
        w.reconcile(ref)
    assert "status" not in w.body(ref) and w.engine.count("submit_job") == 0
