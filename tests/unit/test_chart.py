"""The Helm chart: lints, renders, grants what the operator needs, and configures it right.

The renderer-free checks always run. The rest need a `helm` binary (PATH, MLTA_HELM, or the
one built from the helm.sh/helm/v3 Go module and cached under ~/.cache/mlta/bin/helm-*/).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlta.config import load_settings
from mlta.specs import KINDS
from mlta.specs.crd import build_all

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mlta"
PLURALS = [spec.kind_info.plural for spec, _ in KINDS.values()]


def _helm() -> str | None:
    explicit = os.environ.get("MLTA_HELM")
    if explicit:
        return explicit
    found = shutil.which("helm")
    if found:
        return found
    cached = sorted(Path.home().glob(".cache/mlta/bin/helm-*/helm"))
    return str(cached[-1]) if cached else None


HELM = _helm()
needs_helm = pytest.mark.skipif(HELM is None, reason="helm binary not available")


def _render(*args: str) -> list[dict[str, Any]]:
    assert HELM is not None
    res = subprocess.run([HELM, "template", "rel", str(CHART), "--namespace", "mlta-system",
                          *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return [d for d in yaml.safe_load_all(res.stdout) if d]


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One document per kind."""
    return {d["kind"]: d for d in docs}


def _rules(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
            for r in rule["resources"] for v in rule["verbs"]}


# --- renderer-free ----------------------------------------------------------------------


def test_chart_metadata_and_values_parse() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "mlta"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["backend"] in {"ray", "kuberay"}
    assert values["env"] in {"development", "testing", "production"}
    assert values["storage"]["uri"].startswith(("s3://", "file://"))
    assert {"image", "ray", "resources", "metrics"} <= values.keys()


def test_chart_crds_are_the_generated_ones() -> None:
    shipped = {p.name: yaml.safe_load(p.read_text()) for p in (CHART / "crds").glob("*.yaml")}
    assert shipped == {f"{c['metadata']['name']}.yaml": c for c in build_all()}


def test_cluster_role_template_names_every_kind() -> None:
    text = (CHART / "templates" / "clusterrole.yaml").read_text()
    for plural in PLURALS:
        for resource in (plural, f"{plural}/status", f"{plural}/finalizers"):
            assert f'"{resource}"' in text, resource
    assert '"rayjobs"' in text and '"rayservices"' in text and '"events"' in text


# --- rendered with helm -------------------------------------------------------------------


@needs_helm
def test_helm_lint_strict() -> None:
    assert HELM is not None
    for extra in ([], ["--set", "backend=ray", "--set", "metrics.enabled=true"]):
        res = subprocess.run([HELM, "lint", "--strict", str(CHART), *extra],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr


@needs_helm
def test_default_render_has_the_operator_and_its_rbac() -> None:
    docs = _by_kind(_render())
    assert set(docs) == {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service",
                         "NetworkPolicy"}
    deploy = docs["Deployment"]
    env = {e["name"]: e.get("value") for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MLTA_OPERATOR__METRICS_PORT"] == "9090"
    assert docs["Service"]["spec"]["ports"][0]["port"] == 9090
    assert deploy["metadata"]["namespace"] == "mlta-system"
    assert deploy["spec"]["replicas"] == 1 and deploy["spec"]["strategy"]["type"] == "Recreate"
    pod = deploy["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "mlta_operator"]
    assert container["image"] == "mlta/operator:0.1.0"
    binding = docs["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == docs["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]

    rules = _rules(docs["ClusterRole"])
    for plural in PLURALS:
        for verb in ("get", "list", "watch", "patch"):
            assert ("mlta.io", plural, verb) in rules
        assert ("mlta.io", f"{plural}/status", "patch") in rules
        assert ("mlta.io", f"{plural}/finalizers", "update") in rules
    for resource in ("rayjobs", "rayservices"):
        for verb in ("create", "get", "delete"):
            assert ("ray.io", resource, verb) in rules
    assert ("", "events", "create") in rules
    assert {("", "namespaces", "list"), ("", "namespaces", "watch")} <= rules
    assert ("", "pods/log", "get") in rules and ("", "pods", "list") in rules
    # Secrets: get only (the API keys a ModelDeployment names), never list or watch
    assert {r for r in rules if r[1] == "secrets"} == {("", "secrets", "get")}
    assert not any(r[1] == "configmaps" or "*" in r for r in rules), "RBAC broader than needed"


@needs_helm
def test_namespaced_operator_gets_roles_not_cluster_wide_work_rights() -> None:
    docs = _render("--set", "operator.namespaces={ml,research}")
    roles = [d for d in docs if d["kind"] == "Role"]
    bindings = [d for d in docs if d["kind"] == "RoleBinding"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["ml", "research"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["ml", "research"]
    cluster = _rules(_by_kind(docs)["ClusterRole"])
    assert {r[0] for r in cluster} == {"", "apiextensions.k8s.io"}
    assert {r[1] for r in cluster} == {"namespaces", "customresourcedefinitions"}
    assert all(r[2] in ("get", "list", "watch") for r in cluster)
    assert ("ray.io", "rayjobs", "create") in _rules(roles[0])


@needs_helm
def test_prometheus_operator_objects_only_behind_their_flags() -> None:
    plain = {d["kind"] for d in _render()}
    assert not plain & {"ServiceMonitor", "PrometheusRule"}
    docs = _by_kind(_render("--set", "metrics.serviceMonitor.enabled=true",
                            "--set", "metrics.prometheusRule.enabled=true"))
    monitor = docs["ServiceMonitor"]
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= docs["Service"]["metadata"]["labels"].items()
    exprs = [r["expr"] for g in docs["PrometheusRule"]["spec"]["groups"] for r in g["rules"]]
    assert any("mlta_resource_phase" in e for e in exprs)
    assert any("mlta_reconcile_total" in e for e in exprs)


@needs_helm
def test_kuberay_values_reach_the_operator_settings() -> None:
    docs = _by_kind(_render("--set", "kuberay.head.cpu=250m", "--set", "kuberay.head.numCpus=2",
                            "--set", "kuberay.workers.replicas=0", "--set", "storage.credentialsSecret=lake",
                            "--set", "kuberay.ttlSecondsAfterFinished=30"))
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    settings = load_settings(environ={e["name"]: e["value"] for e in container["env"] if "value" in e})
    kr = settings.kuberay
    assert (kr.head_cpu, kr.head_num_cpus, kr.worker_replicas) == ("250m", 2, 0)
    assert kr.storage_secret == "lake" and kr.ttl_seconds_after_finished == 30
    assert kr.image == "mlta/ray:0.1.0"
    default = _by_kind(_render())["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert load_settings(environ={e["name"]: e["value"] for e in default["env"] if "value" in e}
                         ).kuberay.head_num_cpus is None


@needs_helm
def test_api_key_secrets_are_get_only_and_namespaced_when_namespaces_are_set() -> None:
    scoped = _render("--set", "operator.namespaces={ml,research}")
    cluster_roles = [d for d in scoped if d["kind"] == "ClusterRole"]
    assert all(r[1] != "secrets" for d in cluster_roles for r in _rules(d))
    roles = [d for d in scoped if d["kind"] == "Role"]
    assert sorted(d["metadata"]["namespace"] for d in roles) == ["ml", "research"]
    for role in roles:
        assert {r for r in _rules(role) if r[1] == "secrets"} == {("", "secrets", "get")}


@needs_helm
def test_rendered_env_is_valid_operator_settings() -> None:
    """The env the chart sets must load with the operator's own settings model."""
    docs = _by_kind(_render("--set", "backend=ray", "--set", "env=testing",
                            "--set", "ray.dashboardUrl=http://ray-head:8265",
                            "--set", "storage.uri=file:///data/lake",
                            "--set", "operator.namespaces={ml,research}"))
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    settings = load_settings(environ=env)
    assert settings.env == "testing"
    assert settings.operator.backend.value == "ray"
    assert settings.operator.namespaces == ["ml", "research"]
    assert settings.ray.dashboard_url == "http://ray-head:8265"
    assert settings.storage.uri == "file:///data/lake"

    defaults = _by_kind(_render())
    (container,) = defaults["Deployment"]["spec"]["template"]["spec"]["containers"]
    settings = load_settings(environ={e["name"]: e["value"] for e in container["env"]})
    assert settings.env == "production" and settings.operator.backend.value == "kuberay"
    assert settings.operator.namespaces == []


@needs_helm
def test_metrics_service_targets_the_container_port() -> None:
    docs = _by_kind(_render("--set", "metrics.enabled=true", "--set", "metrics.port=9102"))
    svc = docs["Service"]
    (port,) = svc["spec"]["ports"]
    assert port["port"] == 9102 and port["targetPort"] == "metrics"
    pod = docs["Deployment"]["spec"]["template"]
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert {"name": "metrics", "containerPort": 9102, "protocol": "TCP"} in container["ports"]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9102"


@needs_helm
def test_credentials_secret_and_extra_env_are_passed() -> None:
    docs = _by_kind(_render("--set", "storage.credentialsSecret=lake-creds",
                            "--set", "extraEnv[0].name=AWS_REGION",
                            "--set", "extraEnv[0].value=eu-west-1"))
    (container,) = docs["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"secretRef": {"name": "lake-creds"}}]
    assert {"name": "AWS_REGION", "value": "eu-west-1"} in container["env"]


@needs_helm
def test_ray_auth_token_secret_is_mounted_and_named_to_the_operator() -> None:
    plain = _by_kind(_render())["Deployment"]["spec"]["template"]["spec"]
    assert not any(v["name"] == "ray-auth-token" for v in plain["volumes"])
    pod = _by_kind(_render("--set", "ray.authTokenSecret=ray-head-token"))[
        "Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLTA_RAY__AUTH_TOKEN_FILE"] == "/var/run/secrets/mlta/ray/auth_token"
    assert {"name": "ray-auth-token", "mountPath": "/var/run/secrets/mlta/ray",
            "readOnly": True} in container["volumeMounts"]
    assert {"name": "ray-auth-token",
            "secret": {"secretName": "ray-head-token", "defaultMode": 0o400}} in pod["volumes"]


@needs_helm
@pytest.mark.parametrize(("flag", "message"), [
    ("backend=spark", "at '/backend': value must be one of 'ray', 'kuberay'"),
    ("env=staging", "at '/env': value must be one of"),
    ("storage.uri=/data/lake", "at '/storage/uri': '/data/lake' does not match pattern"),
    ("kuberay.head.cpu=lots", "at '/kuberay/head/cpu': 'lots' does not match pattern"),
    ("metrics.port=0", "at '/metrics/port'"),
    ("imagePullPolicy=Always", "additional properties 'imagePullPolicy' not allowed"),
])
def test_bad_values_fail_rendering_with_a_message(flag: str, message: str) -> None:
    assert HELM is not None
    res = subprocess.run([HELM, "template", "rel", str(CHART), "--set", flag],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and message in res.stderr, res.stderr


@needs_helm
def test_include_crds_renders_the_generated_crds() -> None:
    crds = [d for d in _render("--include-crds") if d["kind"] == "CustomResourceDefinition"]
    assert sorted(crds, key=lambda c: c["metadata"]["name"]) == sorted(
        build_all(), key=lambda c: c["metadata"]["name"])


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_terraform_files_are_formatted() -> None:
    """`terraform fmt` parses every file (syntax errors fail) and finds nothing to rewrite."""
    terraform = shutil.which("terraform")
    assert terraform is not None
    res = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(REPO / "terraform")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    module = REPO / "terraform" / "modules" / "mlta-platform"
    assert {p.name for p in module.glob("*.tf")} >= {"main.tf", "variables.tf", "outputs.tf"}
