"""The rendered chart passes kube-score (a Go linter of Kubernetes objects, built from its
module by scripts/build-kube-score.sh); each exception is named and justified in the chart."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from tests.unit.test_chart import CHART, HELM, REPO

KUBE_SCORE = sorted(Path.home().glob(".cache/mlta/bin/kube-score-*/kube-score"))
JUSTIFIED = {"deployment-replicas", "deployment-strategy", "container-image-pull-policy"}


def _kube_score() -> str:
    if not KUBE_SCORE:
        pytest.fail("kube-score is not built: run scripts/build-kube-score.sh (make test does)")
    return str(KUBE_SCORE[-1])


@pytest.mark.parametrize("values", [
    [], ["-f", str(REPO / "tests" / "cluster" / "values-node.yaml")],
    ["--set", "metrics.enabled=false"], ["--set", "operator.namespaces={ml,research}"],
    ["--set", "metrics.serviceMonitor.enabled=true"],
])
def test_rendered_chart_scores_clean(values: list[str], tmp_path: Path) -> None:
    assert HELM is not None, "helm is built by make test (scripts/build-helm.sh)"
    rendered = subprocess.run([HELM, "template", "mlta", str(CHART), "-n", "mlta-system", *values],
                              capture_output=True, text=True, timeout=120, check=True).stdout
    manifest = tmp_path / "chart.yaml"
    # ServiceMonitor is not a kind kube-score knows; it checks the core objects.
    manifest.write_text(yaml.safe_dump_all(
        [d for d in yaml.safe_load_all(rendered) if d and d["kind"] not in ("ServiceMonitor",)]))
    res = subprocess.run([_kube_score(), "score", "--output-format", "ci", str(manifest)],
                         capture_output=True, text=True, timeout=120)
    problems = [line for line in res.stdout.splitlines() if line.startswith(("[CRITICAL]", "[WARNING]"))]
    assert res.returncode == 0 and not problems, "\n".join(problems) or res.stderr


def test_every_kube_score_exception_is_justified() -> None:
    text = (CHART / "templates" / "deployment.yaml").read_text()
    line = next(x for x in text.splitlines() if "kube-score/ignore:" in x)
    ignored = set(line.split(":", 1)[1].strip().split(","))
    assert ignored == JUSTIFIED
    for name in ignored:
        assert f"{name}" in text.split("kube-score/ignore:")[0], f"{name} needs its reason above"
