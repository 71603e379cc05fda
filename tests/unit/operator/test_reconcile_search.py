"""The TrainingJob's search in the operator: progress while it runs, resubmission of a job
whose driver died without a result, and ModelDeployments refusing versions that failed
their gate unless a variant opts in."""

from __future__ import annotations

from tests.unit.operator.world import MD_SPEC, TJ_SPEC, World, fast_settings, ready_status

from mlta.specs.jobs import JobProgress
from mlta_operator import conditions as cond
from mlta_operator.backends.base import JobState
from mlta_operator.reconcile import Follow

R = cond.Reason
SEARCH_SPEC = {**TJ_SPEC, "search": {"trials": 8, "learners": ["lightgbm", "xgboost"]}}
TRAINED = {"modelName": "deep", "modelVersion": "v2", "modelUri": "file:///lake/registry/deep/v2",
           "datasetVersion": "v3", "metrics": {"score": 0.55}, "trials": "8/8", "trialsDone": 8,
           "trialsTotal": 8, "bestScore": 0.55, "bestLearner": "xgboost", "gate": "passed",
           "gateReasons": []}


def _searching(w: World) -> object:
    w.ready_pipeline()
    ref = w.add("TrainingJob", "deep", SEARCH_SPEC)
    w.reconcile(ref)
    return ref


def test_a_running_search_reports_its_trials_best_score_and_dashboard_link() -> None:
    w = World()
    ref = _searching(w)
    progress = JobProgress(trialsDone=3, trialsTotal=8, bestScore=0.5312, bestLearner="xgboost")
    w.engine.set_job(w.job_of(ref), JobState.RUNNING, progress=progress)
    outcome = w.reconcile(ref)
    status = w.status(ref)
    assert outcome.follow is Follow.POLL
    assert (status["trials"], status["trialsDone"], status["trialsTotal"]) == ("3/8", 3, 8)
    assert status["bestScore"] == 0.5312 and status["bestLearner"] == "xgboost"
    assert status["dashboardUrl"] == f"http://fake-dashboard/#/jobs/{w.job_of(ref)}"
    assert "3/8 trials, best score 0.5312 (xgboost)" in status["message"]
    # the job finishes: its outputs (gate included) replace the progress
    w.engine.set_job(w.job_of(ref), JobState.SUCCEEDED, outputs=TRAINED)
    w.reconcile(ref)
    status = w.status(ref)
    assert status["phase"] == "Ready" and status["gate"] == "passed" and status["trials"] == "8/8"


def test_a_driver_that_died_without_a_result_is_resubmitted_under_the_same_submission() -> None:
    w = World(fast_settings(job_retries=2))
    ref = _searching(w)
    sid = w.job_of(ref)
    w.engine.set_job(sid, JobState.FAILED, message="driver killed", report=False)
    outcome = w.reconcile(ref)
    status = w.status(ref)
    assert outcome.follow is Follow.POLL and status["attempt"] == 1
    assert status["submissionId"] == sid  # the search state and registry claim hang on it
    assert w.condition(ref, cond.ConditionType.PROGRESSING)["reason"] == R.RESUBMITTED
    assert "driver killed" in status["message"] and f"{sid}-r1" in status["message"]
    retry = w.engine.jobs[f"{sid}-r1"]
    assert retry.envelope.submission_id == sid and retry.envelope.attempt == 1
    # the second attempt dies too, the third succeeds
    w.engine.set_job(f"{sid}-r1", JobState.FAILED, report=False)
    w.reconcile(ref)
    assert w.status(ref)["attempt"] == 2
    w.engine.set_job(f"{sid}-r2", JobState.SUCCEEDED, outputs=TRAINED)
    w.reconcile(ref)
    assert w.status(ref)["phase"] == "Ready"
    assert w.engine.count("submit_job") == 3


def test_retries_are_bounded_and_a_reported_failure_is_never_retried() -> None:
    w = World(fast_settings(job_retries=1))
    ref = _searching(w)
    sid = w.job_of(ref)
    w.engine.set_job(sid, JobState.FAILED, report=False)
    w.reconcile(ref)
    w.engine.set_job(f"{sid}-r1", JobState.FAILED, message="OOMKilled", report=False)
    w.reconcile(ref)
    status = w.status(ref)
    assert status["phase"] == "Failed"
    assert w.condition(ref, cond.ConditionType.FAILED)["reason"] == R.JOB_FAILED
    assert "OOMKilled" in status["message"]
    # a job that reported its own failure is final at once
    other = World()
    ref = _searching(other)
    other.engine.set_job(other.job_of(ref), JobState.FAILED, reason="TrainingFailed",
                         message="every trial of the search failed")
    other.reconcile(ref)
    assert other.status(ref)["phase"] == "Failed" and other.engine.count("submit_job") == 1


def test_deleting_a_resubmitted_job_stops_the_current_attempt() -> None:
    from mlta_operator.handlers.trainingjob import stop_job

    w = World()
    ref = _searching(w)
    sid = w.job_of(ref)
    w.engine.set_job(sid, JobState.FAILED, report=False)
    w.reconcile(ref)
    stop_job(w.body(ref), w.ctx)
    assert ("stop_job", f"{sid}-r1") in w.engine.calls


def _deployment(w: World, *, allow: bool) -> object:
    failed = {**TRAINED, "gate": "failed", "gateReasons": ["lockbox AUC is 0.49, the gate needs >= 0.52"]}
    for name, outputs in (("deep", failed), ("fast", {**TRAINED, "modelName": "fast"})):
        w.add("TrainingJob", name, TJ_SPEC)
        w.cluster.set_status("TrainingJob", name, ready_status(**outputs))
    variants = [dict(v) for v in MD_SPEC["variants"]]
    variants[0]["allowFailedGate"] = allow
    return w.add("ModelDeployment", "ab", {"variants": variants})


def test_a_deployment_refuses_a_version_that_failed_its_gate() -> None:
    w = World()
    ref = _deployment(w, allow=False)
    w.reconcile(ref)
    status = w.status(ref)
    assert status["phase"] == "Failed"
    assert w.condition(ref, cond.ConditionType.FAILED)["reason"] == R.GATE_FAILED
    assert "variant 'champion': deep v2 (TrainingJob deep) failed its gate" in status["message"]
    assert "lockbox AUC is 0.49" in status["message"] and "allowFailedGate" in status["message"]
    assert w.engine.count("apply_serve_app") == 0


def test_a_variant_that_opts_in_serves_the_failed_version() -> None:
    w = World()
    ref = _deployment(w, allow=True)
    w.reconcile(ref)
    assert w.engine.count("apply_serve_app") == 1
    assert w.status(ref)["phase"] == "Progressing"
