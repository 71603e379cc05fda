"""The generated CRDs: in sync with the models, structural, carrying the CEL rules.

tests/e2e/test_crds_apiserver.py installs them into a real kube-apiserver and checks that
the server accepts good objects and rejects bad ones naming the field.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlta.specs import KINDS
from mlta.specs.crd import (
    SchemaConversionError,
    build_all,
    build_crd,
    crd_filename,
    structural_schema,
    to_yaml,
)

REPO = Path(__file__).resolve().parents[2]
GEN_SCRIPT = REPO / "scripts" / "gen_crds.py"

#: Keys that make a schema non-structural or that apiextensions/v1 does not accept.
FORBIDDEN_KEYS = {"$ref", "$defs", "definitions", "anyOf", "oneOf", "allOf", "not", "title",
                  "const", "x-kubernetes-preserve-unknown-fields"}


def _load_gen_module() -> Any:
    spec = importlib.util.spec_from_file_location("gen_crds", GEN_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def structural_problems(node: dict[str, Any], path: str = "") -> list[str]:
    """Everything that makes ``node`` non-structural or unbounded for CEL cost estimation."""
    problems = [f"{path}: forbidden key {k}" for k in FORBIDDEN_KEYS & node.keys()]
    kind = node.get("type")
    if kind not in {"object", "array", "string", "integer", "number", "boolean"}:
        problems.append(f"{path}: missing or bad type {kind!r}")
    if node.get("additionalProperties") is False:
        problems.append(f"{path}: additionalProperties false (the API server prunes instead)")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: both properties and additionalProperties")
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in node and not isinstance(node[key], bool):
            problems.append(f"{path}: {key} must be a boolean in OpenAPI v3.0")
    if "default" in node and node["default"] is None:
        problems.append(f"{path}: null default")
    if kind == "object":
        props = node.get("properties")
        extra = node.get("additionalProperties")
        if path and not props and not isinstance(extra, dict) and path != ".metadata":
            problems.append(f"{path}: object without a schema for its fields")
        for name, sub in (props or {}).items():
            problems += structural_problems(sub, f"{path}.{name}")
        if isinstance(extra, dict):
            problems += structural_problems(extra, f"{path}[*]")
        for req in node.get("required", []):
            if req not in (props or {}):
                problems.append(f"{path}: required {req!r} is not a property")
    elif kind == "array":
        if "items" not in node:
            problems.append(f"{path}: array without items")
        else:
            problems += structural_problems(node["items"], f"{path}[]")
        if "maxItems" not in node:
            problems.append(f"{path}: array without maxItems (CEL cost is unbounded)")
    elif (kind == "string" and not {"maxLength", "enum", "format"} & node.keys()
          and path not in (".apiVersion", ".kind")):
        problems.append(f"{path}: string without maxLength (CEL cost is unbounded)")
    return problems


def _schema(kind: str) -> dict[str, Any]:
    return build_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _rules(node: dict[str, Any]) -> list[str]:
    return [v["rule"] for v in node.get("x-kubernetes-validations", [])]


# --- drift -----------------------------------------------------------------------------


def test_committed_crds_match_the_models() -> None:
    res = subprocess.run([sys.executable, str(GEN_SCRIPT), "--check"],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, f"CRDs drifted; run `make crds`:\n{res.stdout}{res.stderr}"
    for out in ("crds", "charts/mlta/crds"):
        names = sorted(p.name for p in (REPO / out).glob("*.yaml"))
        assert names == sorted(crd_filename(c) for c in build_all()), out


def test_check_reports_a_hand_edit_and_a_stale_file(tmp_path: Path) -> None:
    gen = _load_gen_module()
    out = tmp_path / "crds"
    gen.write((out,))
    assert gen.drift((out,)) == []
    target = out / "modeldeployments.mlta.io.yaml"
    target.write_text(target.read_text().replace("maxItems: 8", "maxItems: 9", 1))
    (out / "oldkinds.mlta.io.yaml").write_text("kind: CustomResourceDefinition\n")
    diffs = gen.drift((out,))
    assert len(diffs) == 2
    assert "-                maxItems: 9" in "".join(diffs)
    gen.write((out,))
    assert gen.drift((out,)) == [] and not (out / "oldkinds.mlta.io.yaml").exists()


def test_yaml_is_deterministic_and_round_trips() -> None:
    for crd in build_all():
        text = to_yaml(crd)
        assert text == to_yaml(build_crd(crd["spec"]["names"]["kind"]))
        assert yaml.safe_load(text) == crd


# --- shape -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_is_structural_and_bounded(kind: str) -> None:
    assert structural_problems(_schema(kind)) == []


def test_structural_checker_catches_what_pydantic_emits_raw() -> None:
    raw = KINDS["DataPipeline"][0].model_json_schema(by_alias=True, mode="validation")
    problems = "\n".join(structural_problems(raw))
    assert "$defs" in problems and "title" in problems and "additionalProperties false" in problems


@pytest.mark.parametrize("kind", list(KINDS))
def test_crd_names_columns_and_subresources(kind: str) -> None:
    crd = build_crd(kind)
    info = KINDS[kind][0].kind_info
    assert crd["metadata"]["name"] == f"{info.plural}.mlta.io"
    names = crd["spec"]["names"]
    assert names["shortNames"] == info.short_names and names["categories"] == ["mlta"]
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}
    assert version["additionalPrinterColumns"] == info.printer_columns
    root = version["schema"]["openAPIV3Schema"]
    assert root["required"] == ["spec"]
    status = root["properties"]["status"]["properties"]
    assert {"conditions", "observedGeneration", "phase"} <= status.keys()
    assert status["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
    # printer columns must point at fields the schema has (else they are always empty)
    for col in info.printer_columns:
        parts = col["jsonPath"].lstrip(".").split(".")
        if parts[0] == "metadata":
            continue
        node = root
        for part in parts:
            node = node.get("properties", {}).get(part) or node.get("additionalProperties")
            assert node is not None, f"{kind} column {col['name']}: {col['jsonPath']} not in schema"


def test_nullable_enum_exclusive_and_maps_are_converted() -> None:
    spec = _schema("TrainingJob")["properties"]["spec"]["properties"]
    assert spec["modelName"]["nullable"] is True and spec["modelName"]["type"] == "string"
    assert spec["model"]["properties"]["type"]["enum"] == ["lightgbm", "xgboost", "catboost"]
    fraction = spec["validation"]["properties"]["testFraction"]
    assert fraction["minimum"] == 0 and fraction["exclusiveMinimum"] is True
    assert fraction["maximum"] == 0.5 and fraction["exclusiveMaximum"] is True
    leaves = spec["model"]["properties"]["lightgbm"]["properties"]["numLeaves"]
    assert leaves["type"] == "integer" and leaves["minimum"] == 2 and "LightGBM" in leaves["description"]
    # a generated search range carries its parameter's bounds
    rng = spec["search"]["properties"]["space"]["properties"]["xgboost"]["properties"]["subsample"]
    assert rng["properties"]["high"]["maximum"] == 1.0 and rng["properties"]["low"]["minimum"] == 0
    assert rng["properties"]["type"]["enum"] == ["float", "logFloat", "categorical"]
    # nested settings objects carry their defaults, so CEL can read them when left out
    assert spec["model"]["default"]["type"] == "lightgbm"
    assert spec["validation"]["default"]["lockboxFraction"] == 0.15
    source = _schema("DataPipeline")["properties"]["spec"]["properties"]["source"]
    assert source["properties"]["start"]["format"] == "date-time"
    assert source["properties"]["symbols"]["items"]["pattern"] == "^[A-Z0-9_]{2,20}$"
    assert source["required"] == ["type", "symbols"]
    assert source["description"] == "Where candles come from."


def test_cel_rules_sit_on_the_right_objects() -> None:
    md = _schema("ModelDeployment")["properties"]["spec"]
    rules = _rules(md)
    assert "self.variants.map(v, v.weight).sum() == 100" in rules
    assert any("exists_one(w, w.name == v.name)" in r for r in rules)
    dp = _schema("DataPipeline")["properties"]["spec"]
    assert any("has(self.source.start)" in r for r in _rules(dp))
    assert any("has(self.files)" in r for r in _rules(dp["properties"]["source"]))
    tj = _schema("TrainingJob")["properties"]["spec"]
    assert any("testFraction" in r for r in _rules(tj["properties"]["validation"]))


def test_unknown_kind_and_untyped_fields_are_refused() -> None:
    with pytest.raises(KeyError, match="known kinds"):
        build_crd("Notebook")
    from mlta.specs.jobs import JobEnvelope  # spec: dict[str, Any] has no structural form

    with pytest.raises(SchemaConversionError, match="preserve-unknown-fields"):
        structural_schema(JobEnvelope)


# --- a real API server -------------------------------------------------------------------
