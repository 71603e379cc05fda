"""The API server itself rejects bad CRs, with messages that name the field (CEL + schema)."""

from __future__ import annotations

import pytest

from mlta.local.controlplane import ControlPlane
from tests.e2e.conftest import kubectl

BAD = {
    "weights": ("""
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: bad-weights}
spec:
  variants:
    - {name: a, trainingJob: job-a, weight: 70}
    - {name: b, trainingJob: job-b, weight: 20}
""", ["weight", "sum to 100"]),
    "duplicate-variant": ("""
apiVersion: mlta.io/v1alpha1
kind: ModelDeployment
metadata: {name: bad-dup}
spec:
  variants:
    - {name: a, trainingJob: job-a, weight: 50}
    - {name: a, trainingJob: job-b, weight: 50}
""", ["unique"]),
    "missing-source": ("""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {name: bad-nosource}
spec:
  quality: {policy: warn}
""", ["spec.source", "Required"]),
    "unknown-model": ("""
apiVersion: mlta.io/v1alpha1
kind: TrainingJob
metadata: {name: bad-model}
spec:
  dataPipeline: p
  model: {type: randomforest}
""", ["spec.model.type", "Unsupported value"]),
    "files-without-files": ("""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {name: bad-files}
spec:
  source: {type: files, symbols: [BTCUSDT]}
""", ["source.files is required"]),
    "inverted-range": ("""
apiVersion: mlta.io/v1alpha1
kind: DataPipeline
metadata: {name: bad-range}
spec:
  source: {type: sample, symbols: [BTCUSDT], start: "2024-02-01T00:00:00Z", end: "2024-01-01T00:00:00Z"}
""", ["start must be before"]),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(BAD))
def test_api_server_rejects_invalid_cr(control_plane: ControlPlane, case: str) -> None:
    manifest, needles = BAD[case]
    res = kubectl(control_plane, "apply", "-f", "-", check=False, stdin=manifest)
    assert res.returncode != 0, f"{case} was accepted: {res.stdout}"
    for needle in needles:
        assert needle in res.stderr, f"{case}: {needle!r} not in {res.stderr!r}"


@pytest.mark.e2e
def test_explain_documents_fields(control_plane: ControlPlane) -> None:
    res = kubectl(control_plane, "explain", "modeldeployment.spec.variants.weight")
    assert "sum to 100" in res.stdout
