"""The generated CRDs in a real kube-apiserver: good objects pass, bad ones are refused naming
the field (schema + CEL), status keeps typed fields and prunes unknown ones.

Runs on the session's control plane (tests/e2e/conftest.py), in a namespace no operator serves.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from mlta.local.controlplane import ControlPlane
from tests.support.ray_cluster import wait_for

NS = "crds"


VALID = """
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {name: btc}
spec: {source: {type: sample, symbols: [BTCUSDT, ETHUSDT], interval: 5m,
                sample: {seed: 7, bars: 5000}}}
---
apiVersion: mlta.io/v1alpha1
kind: TrainingJob
metadata: {name: a}
spec: {dataPipeline: btc, model: {type: lightgbm, lightgbm: {numLeaves: 15}},
       search: {trials: 4, learners: [lightgbm, xgboost]}, ensemble: {topK: 2}}
---
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: ab}
spec: {variants: [{name: champion, trainingJob: a, weight: 80},
                  {name: challenger, trainingJob: b, weight: 20}]}
"""

INVALID = [
    ("ModelDeployment", "{variants: [{name: a, trainingJob: a, weight: 70},"
                        " {name: b, trainingJob: b, weight: 20}]}",
     ["spec.variants", "must sum to 100"]),
    ("ModelDeployment", "{variants: [{name: a, trainingJob: a, weight: 50},"
                        " {name: a, trainingJob: b, weight: 50}]}",
     ["spec.variants", "must be unique"]),
    ("DataPipeline", "{quality: {policy: warn}}", ["spec.source: Required value"]),
    ("TrainingJob", "{dataPipeline: btc, model: {type: sklearn}}",
     ["spec.model.type", "sklearn", "lightgbm"]),
    ("DataPipeline", "{source: {type: files, symbols: [BTCUSDT]}}",
     ["spec.source.files", "required when source.type is files"]),
    ("TrainingJob", "{dataPipeline: btc, validation: {folds: 10, testFraction: 0.2}}",
     ["spec.validation.folds", "must be below 1"]),
    ("TrainingJob", "{dataPipeline: btc, model: {lightgbm: {numLeaf: 3}}}",
     ['unknown field "spec.model.lightgbm.numLeaf"']),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 0}}",
     ["spec.search.trials", "greater than or equal to 1"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, space: {lightgbm: "
                    "{numLeaves: {type: int, low: 70, high: 63}}}}}",
     ["spec.search.space.lightgbm.numLeaves", "low < high"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, space: {lightgbm: "
                    "{learningRate: {type: float, low: 0.1, high: 3}}}}}",
     ["spec.search.space.lightgbm.learningRate.high", "less than or equal to 1"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, space: {lightgbm: "
                    "{lambdaL1: {type: logFloat, low: 0, high: 3}}}}}",
     ["spec.search.space.lightgbm.lambdaL1.low", "low > 0"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, space: {lightgbm: "
                    "{numLeaves: {type: int, low: 8, high: 64, log: true, step: 8}}}}}",
     ["spec.search.space.lightgbm.numLeaves.step", "log-scale int range takes no step"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, space: {xgboost: "
                    "{maxDepth: {type: int, low: 2, high: 6}}}}}",
     ["spec.search.space.xgboost", "xgboost is not searched"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, learners: [xgboost, xgboost]}}",
     ["spec.search.learners", "must not repeat"]),
    ("TrainingJob", "{dataPipeline: btc, search: {trials: 4, sampler: cmaes, "
                    "learners: [lightgbm, xgboost]}}",
     ["spec.search.sampler", "one learner"]),
    ("TrainingJob", "{dataPipeline: btc, ensemble: {topK: 3}}",
     ["spec.ensemble", "needs a search"]),
    ("TrainingJob", "{dataPipeline: btc, target: {kind: return}, search: {trials: 4}, "
                    "ensemble: {method: rankAverage}}",
     ["spec.ensemble.method", "classification target"]),
    ("TrainingJob", "{dataPipeline: btc, target: {kind: volatility}, search: {trials: 4, metric: auc}}",
     ["spec.search.metric", "classification metric"]),
    ("TrainingJob", "{dataPipeline: btc, target: {kind: return}, gate: {minLockboxAuc: 0.5}}",
     ["spec.gate.minLockboxAuc", "classification target"]),
    ("TrainingJob", "{dataPipeline: btc, target: {kind: volatility}, gate: {minNetSharpe: 1}}",
     ["spec.gate", "no trading signal"]),
    ("TrainingJob", "{dataPipeline: btc, validation: {lockboxFraction: 0.6}}",
     ["spec.validation.lockboxFraction"]),
    ("TrainingJob", "{dataPipeline: btc, features: {selection: {univariateK: 3}}}",
     ["spec.features.selection.univariateK", "together"]),
]


@pytest.fixture(scope="module")
def apiserver(control_plane: ControlPlane) -> ControlPlane:
    res = subprocess.run(control_plane.kubectl() + ["create", "namespace", NS],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 or "AlreadyExists" in res.stderr, res.stderr
    return control_plane


def _kubectl(cp: ControlPlane, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cp.kubectl() + ["-n", NS, *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.e2e
def test_api_server_accepts_the_samples_and_explains_fields(apiserver: ControlPlane) -> None:
    res = _kubectl(apiserver, "apply", "-f", "-", stdin=VALID)
    assert res.returncode == 0, res.stderr
    got = _kubectl(apiserver, "get", "modeldeployment", "ab", "-o", "json")
    variants = yaml.safe_load(got.stdout)["spec"]["variants"]
    assert [v["allowFailedGate"] for v in variants] == [False, False]  # defaults applied
    spec = yaml.safe_load(got.stdout)["spec"]
    assert spec["replicas"] == 1 and spec["stickyKey"] is True
    explain = wait_for(
        lambda: (r := _kubectl(apiserver, "explain", "datapipeline.spec.source")).returncode == 0
        and r.stdout, timeout=30, what="kubectl explain to see the published OpenAPI")
    assert "Where candles come from." in explain and "symbols" in explain


@pytest.mark.e2e
@pytest.mark.parametrize(("kind", "spec", "expected"), INVALID)
def test_api_server_rejects_invalid_objects_naming_the_field(
    apiserver: ControlPlane, kind: str, spec: str, expected: list[str]
) -> None:
    manifest = f"apiVersion: mlta.io/v1alpha1\nkind: {kind}\nmetadata: {{name: bad}}\nspec: {spec}\n"
    res = _kubectl(apiserver, "create", "--dry-run=server", "-f", "-", stdin=manifest)
    assert res.returncode != 0, f"server accepted an invalid {kind}: {spec}"
    for fragment in expected:
        assert fragment in res.stderr, res.stderr


@pytest.mark.e2e
def test_status_subresource_keeps_typed_fields_and_prunes_unknown(apiserver: ControlPlane) -> None:
    _kubectl(apiserver, "apply", "-f", "-", stdin=VALID)
    patch = ('{"status":{"phase":"Succeeded","metrics":{"score":0.6},"bogus":1,'
             '"conditions":[{"type":"Ready","status":"True","reason":"Trained"}]}}')
    res = _kubectl(apiserver, "patch", "trainingjob", "a", "--subresource=status",
                   "--type=merge", "-p", patch)
    assert res.returncode == 0, res.stderr
    status = yaml.safe_load(_kubectl(apiserver, "get", "tj", "a", "-o", "json").stdout)["status"]
    assert status["phase"] == "Succeeded" and status["metrics"] == {"score": 0.6}
    assert "bogus" not in status
    bad = _kubectl(apiserver, "patch", "trainingjob", "a", "--subresource=status", "--type=merge",
                   "-p", '{"status":{"conditions":[{"type":"Ready","status":"Maybe","reason":"X"}]}}')
    assert bad.returncode != 0 and "status.conditions[0].status" in bad.stderr
