"""Generate the CustomResourceDefinitions from the spec models.

The spec models are the one schema source: this module turns each model's pydantic JSON
schema into a *structural* OpenAPI v3 schema, the only kind a ``apiextensions.k8s.io/v1``
CRD accepts. Structural means every node has a ``type``, no ``$ref``/``anyOf``/``oneOf``
describes a type, and unknown fields are pruned by the API server (so the models'
``additionalProperties: false`` is dropped, not translated).

The API server also estimates the worst-case cost of every CEL rule before it accepts a
CRD; unbounded lists and strings make that estimate explode. The models bound the fields
users care about; everything else gets a bound here (:data:`MAX_LENGTH_BY_FIELD`,
:data:`MAX_ITEMS_BY_FIELD` and the defaults), so the models stay about the domain.

Only ``yaml`` is imported (lazily, by :func:`to_yaml`): this module is used by the
operator's tooling and must stay light.
"""

from __future__ import annotations

import copy
from typing import Any

from . import API_GROUP, API_VERSION, CATEGORY, KINDS
from .modeldeployment import MAX_VARIANTS

Schema = dict[str, Any]

#: Keys of a JSON schema node that carry over to the CRD unchanged.
KEPT_KEYS = (
    "description",
    "type",
    "format",
    "enum",
    "default",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
    "nullable",
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
)

#: Bounds for strings the models leave unbounded, by property name.
#: Names of Kubernetes objects are DNS subdomains (253); URIs get a generous 2048;
#: condition fields follow metav1.Condition's own limits.
MAX_LENGTH_BY_FIELD: dict[str, int] = {
    "name": 253,
    "dataPipeline": 253,
    "trainingJob": 253,
    "modelName": 253,
    "appName": 253,
    "uri": 2048,
    "baseUrl": 2048,
    "datasetUri": 2048,
    "modelUri": 2048,
    "endpoint": 2048,
    "message": 32768,
    "reason": 1024,
    "type": 316,
}
#: Bound for any other string without ``maxLength``, ``enum`` or ``format``.
DEFAULT_MAX_LENGTH = 1024

#: Bounds for lists the models leave unbounded, by property name.
MAX_ITEMS_BY_FIELD: dict[str, int] = {"conditions": 16, "variants": MAX_VARIANTS}
DEFAULT_MAX_ITEMS = 256

#: Bound for string->number maps (hyperparameters, metrics) without ``maxProperties``.
DEFAULT_MAX_PROPERTIES = 256

#: Label put on every generated CRD.
PART_OF_LABEL = {"app.kubernetes.io/part-of": "mlta"}


class SchemaConversionError(ValueError):
    """A model produced JSON schema this generator cannot express structurally."""


def _resolve_ref(ref: str, defs: dict[str, Schema]) -> Schema:
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix):] not in defs:
        raise SchemaConversionError(f"unresolvable $ref {ref!r}; only local $defs are supported")
    return defs[ref[len(prefix):]]


def _unwrap(node: Schema, defs: dict[str, Schema]) -> Schema:
    """Resolve ``$ref`` and ``anyOf: [X, null]`` into one plain node (siblings win)."""
    node = dict(node)
    nullable = False
    if "anyOf" in node:
        options = node.pop("anyOf")
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) != 1:
            raise SchemaConversionError(
                f"anyOf with {len(non_null)} non-null options is not structural; "
                "use one type per field (optional is fine)"
            )
        nullable = len(non_null) != len(options)
        inner = _unwrap(non_null[0], defs)
        node = {**inner, **node}
    if "$ref" in node:
        target = _unwrap(_resolve_ref(node.pop("$ref"), defs), defs)
        node = {**target, **node}
    if nullable:
        node["nullable"] = True
    return node


def _bound_exclusive(node: Schema, out: Schema) -> None:
    """JSON Schema 2020 ``exclusiveMinimum: n`` -> OpenAPI v3.0 ``minimum: n`` + flag."""
    for key, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if key in node:
            value = node[key]
            if isinstance(value, bool):
                out[key] = value
            else:
                out[plain] = value
                out[key] = True


def _convert(node: Schema, defs: dict[str, Schema], field: str | None) -> Schema:
    """One JSON schema node -> one structural OpenAPI v3 node, recursively."""
    node = _unwrap(node, defs)
    out: Schema = {}
    for key in KEPT_KEYS:
        if key in node:
            out[key] = copy.deepcopy(node[key])
    _bound_exclusive(node, out)
    if "default" in out and out["default"] is None:
        del out["default"]  # optional fields: absent means unset, no null default needed
    kind = node.get("type")
    if kind is None:
        raise SchemaConversionError(
            f"field {field!r} has no type (schema keys {sorted(node)}); "
            "give it a concrete type in the model"
        )
    if kind == "object":
        _convert_object(node, defs, out)
    elif kind == "array":
        if "items" not in node:
            raise SchemaConversionError(f"list field {field!r} has no item type")
        out["items"] = _convert(node["items"], defs, None)
        out.setdefault("maxItems", MAX_ITEMS_BY_FIELD.get(field or "", DEFAULT_MAX_ITEMS))
        if field == "conditions":
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = ["type"]
    elif kind == "string" and not {"maxLength", "enum", "format"} & out.keys():
        out["maxLength"] = MAX_LENGTH_BY_FIELD.get(field or "", DEFAULT_MAX_LENGTH)
    return _ordered(out)


def _convert_object(node: Schema, defs: dict[str, Schema], out: Schema) -> None:
    props = node.get("properties")
    extra = node.get("additionalProperties")
    if props:
        out["properties"] = {name: _convert(sub, defs, name) for name, sub in props.items()}
        required = set(out.get("required") or ())
        for name, sub in out["properties"].items():
            # A nested settings object with a default (pydantic's default_factory) gets its
            # defaults as an object, so the API server fills it in when the user left it out
            # and CEL rules can read its fields (e.g. self.model.type). Children are converted
            # first, so their own defaults are already known here.
            if (sub.get("type") == "object" and "properties" in sub and name not in required
                    and not sub.get("nullable") and "default" not in sub):
                sub["default"] = {key: copy.deepcopy(child["default"])
                                  for key, child in sub["properties"].items() if "default" in child}
        if out.get("required") == []:
            del out["required"]
    elif isinstance(extra, dict):
        out["additionalProperties"] = _convert(extra, defs, None)
        out.setdefault("maxProperties", DEFAULT_MAX_PROPERTIES)
    else:
        raise SchemaConversionError(
            "object without properties or a typed additionalProperties would need "
            "x-kubernetes-preserve-unknown-fields; give it a typed schema instead"
        )


_ORDER = {key: i for i, key in enumerate(("description", "type", "format", "nullable"))}


def _ordered(node: Schema) -> Schema:
    """Stable, readable key order: description/type first, then the rest alphabetically."""
    return dict(sorted(node.items(), key=lambda kv: (_ORDER.get(kv[0], len(_ORDER)), kv[0])))


def structural_schema(model: type[Any]) -> Schema:
    """The structural OpenAPI v3 schema of one pydantic model (camelCase wire names)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _convert(raw, defs, None)


def build_crd(kind: str) -> dict[str, Any]:
    """The ``apiextensions.k8s.io/v1`` CustomResourceDefinition of one kind of ``KINDS``."""
    if kind not in KINDS:
        raise KeyError(f"unknown kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    spec_model, status_model = KINDS[kind]
    info = spec_model.kind_info
    spec_schema = structural_schema(spec_model)
    status_schema = structural_schema(status_model)
    root: Schema = {
        "description": f"{kind} is an mlta custom resource; see spec and status.",
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion of this object, mlta.io/v1alpha1.",
                "type": "string",
            },
            "kind": {"description": f"Kind of this object, {kind}.", "type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": status_schema,
        },
        "required": ["spec"],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{info.plural}.{API_GROUP}", "labels": dict(PART_OF_LABEL)},
        "spec": {
            "group": API_GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in info.printer_columns],
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


def build_all() -> list[dict[str, Any]]:
    """Every kind's CRD, in ``KINDS`` order."""
    return [build_crd(kind) for kind in KINDS]


def crd_filename(crd: dict[str, Any]) -> str:
    """``<plural>.mlta.io.yaml``: the file name a CRD is written to."""
    return f"{crd['metadata']['name']}.yaml"


HEADER = (
    "# Generated by scripts/gen_crds.py from the spec models in workloads/mlta/specs.\n"
    "# Do not edit by hand: change the model, then run `make crds`.\n"
)


def to_yaml(crd: dict[str, Any]) -> str:
    """Deterministic YAML text of a CRD (header comment, fixed key order, no wrapping)."""
    import yaml

    body = yaml.safe_dump(crd, sort_keys=False, default_flow_style=False, width=1_000_000)
    return HEADER + "---\n" + body
