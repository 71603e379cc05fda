"""What ``reconcile_deployment`` needs beyond deploying: keys, live status, drift, rollout.

- API keys: the Secret named in ``spec.auth`` is read on every reconcile (``get`` only, in the
  deployment's namespace) and turned into salted digests (``mlta.serving.auth``); the salt is
  the CR's uid, so digests are stable and differ between deployments. Only digests go into
  the Serve config; ``status.keysHash`` fingerprints the set, so a rotation shows.
- Live status: the service's hub writes ``{storage}/serving/<ns>/<name>/status.json`` every
  ``monitoring.intervalSeconds``; it becomes ``status.variants[*]`` (requests, p50/p99, top
  drifting features, outcomes) and ``status.rollout``.
- Drift: a feature PSI above ``monitoring.psiThreshold`` sets ``Degraded`` (reason
  FeatureDrift), the service keeps serving.
- Rollout: a challenger the sequential test found better (worse) gets the champion's traffic
  (is set to 0) when ``rollout.mode`` is auto; the decision is kept in ``status.rollout`` for
  the generation, announced by an Event and a ``Rollout`` condition; ``manual`` only reports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from typing import Any

from mlta import storage
from mlta.errors import BackendError, ServingError, StorageError
from mlta.serving.auth import hash_secret
from mlta.specs.modeldeployment import ModelDeploymentSpec
from mlta.specs.serving import ServeUserConfig

from . import conditions as cond
from .conditions import DeploymentCondition, Reason

log = logging.getLogger(__name__)
ROLLOUT = DeploymentCondition.ROLLOUT


def status_uri(storage_root: str, namespace: str, name: str) -> str:
    return storage.join(storage_root, "serving", namespace, name, "status.json")


def read_secret(namespace: str, name: str) -> dict[str, str]:
    """A Secret's data, decoded; ServingError when it is missing or unreadable."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from .kube import api_client

    try:
        secret = client.CoreV1Api(api_client()).read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            raise ServingError(f"Secret {namespace}/{name} named in spec.auth does not exist",
                               hint="create it: one data entry per API key",
                               reason="SecretMissing") from exc
        raise BackendError(f"reading Secret {namespace}/{name} failed: {exc.reason}") from exc
    data = secret.data or {}
    return {k: base64.b64decode(v).decode("utf-8") for k, v in data.items()}


def user_config(spec: ModelDeploymentSpec, namespace: str, uid: str,
                weights: dict[str, int], secret: dict[str, str] | None) -> ServeUserConfig:
    """The live part of the Serve config: effective weights, key digests, the default limit."""
    keys = []
    salt = ""
    if spec.auth is not None:
        salt = hashlib.sha256(f"mlta-api-keys/{uid}".encode()).hexdigest()[:32]
        keys = hash_secret(secret or {}, spec.auth, salt)
    return ServeUserConfig(weights=weights, salt=salt, keys=keys, rate_limit=spec.rate_limit)


def keys_fingerprint(config: ServeUserConfig) -> str | None:
    if not config.keys:
        return None
    wire = json.dumps([k.to_wire() for k in config.keys], sort_keys=True)
    return hashlib.sha256(wire.encode()).hexdigest()[:12]


def read_service_status(uri: str) -> dict[str, Any] | None:
    try:
        if not storage.exists(uri):
            return None
        data: dict[str, Any] = storage.read_json(uri)
        return data
    except (StorageError, OSError, ValueError) as exc:
        log.warning("cannot read the service status %s: %s", uri, exc)
        return None


def effective_weights(spec: ModelDeploymentSpec, status: dict[str, Any],
                      generation: int) -> dict[str, int]:
    """Configured weights with this generation's applied rollout decisions on top."""
    weights = {v.name: v.weight for v in spec.variants}
    rollout = status.get("rollout") or {}
    if rollout.get("generation") != generation:
        return weights
    champion = spec.champion_name()
    for test in rollout.get("tests") or []:
        if not test.get("applied"):
            continue
        name = test["challenger"]
        if test.get("decision") == "better":
            weights[name] += weights[champion]
            weights[champion] = 0
        elif test.get("decision") == "worse":
            weights[champion] += weights[name]
            weights[name] = 0
    return weights


def merge(spec: ModelDeploymentSpec, status: dict[str, Any], live: dict[str, Any] | None,
          generation: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Status with the service's numbers and the rollout, and the Events to post."""
    out = dict(status)
    events: list[tuple[str, str]] = []
    if live is None:
        return out, events
    variants = []
    for v in status.get("variants") or []:
        numbers = (live.get("variants") or {}).get(v["name"]) or {}
        drift = numbers.get("drift") or {}
        outcome = numbers.get("outcomes") or {}
        variants.append({**v, "requests": numbers.get("requests"),
                         "errors": numbers.get("errors"), "p50Ms": numbers.get("p50Ms"),
                         "p99Ms": numbers.get("p99Ms"),
                         "topDrift": drift.get("topFeatures") or [],
                         "predictionPsi": drift.get("predictionPsi"),
                         "outcomes": {k: outcome.get(k) for k in ("scored", "hitRate", "auc",
                                                                  "netReturn")}})
    out["variants"] = variants
    out, events = _rollout(spec, out, live, generation)
    return _drift(spec, out, variants, generation), events


def _drift(spec: ModelDeploymentSpec, status: dict[str, Any], variants: list[dict[str, Any]],
           generation: int) -> dict[str, Any]:
    threshold = spec.monitoring.psi_threshold
    drifted = [f"{v['name']}: {d['feature']} PSI {d['psi']:.3f}"
               for v in variants for d in v.get("topDrift") or [] if d["psi"] > threshold]
    conds = status.get("conditions") or []
    if drifted:
        message = f"feature drift above PSI {threshold:g}: " + "; ".join(drifted[:10])
        conds = cond.set_condition(conds, cond.DEGRADED, True, Reason.FEATURE_DRIFT, message,
                                   generation)
    else:
        conds = cond.set_condition(conds, cond.DEGRADED, False, Reason.NO_DRIFT, "", generation)
    return {**status, "conditions": conds, "phase": str(cond.derive_phase(conds))}


def _rollout(spec: ModelDeploymentSpec, status: dict[str, Any], live: dict[str, Any],
             generation: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Record new decisions once per generation; apply them in auto mode."""
    from mlta.data.sources import enum_value

    mode = enum_value(spec.rollout.mode)
    previous = status.get("rollout") or {}
    kept = {t["challenger"]: t for t in (previous.get("tests") or [])
            if previous.get("generation") == generation and t.get("decision") != "undecided"}
    tests, events = [], []
    for test in (live.get("rollout") or {}).get("tests") or []:
        name = test["challenger"]
        if name in kept:
            tests.append(kept[name])
            continue
        entry = {k: test.get(k) for k in ("challenger", "samples", "meanDifference",
                                          "statistic", "threshold", "decision")}
        if entry["decision"] in ("better", "worse"):
            entry["applied"] = mode == "auto"
            verb = {"better": "promoted", "worse": "rolled back"}[entry["decision"]]
            reason = (Reason.CHALLENGER_PROMOTED if entry["decision"] == "better"
                      else Reason.CHALLENGER_ROLLED_BACK) if mode == "auto" \
                else Reason.CHALLENGER_DECIDED
            message = (f"challenger {name} is {entry['decision']} than {spec.champion_name()} "
                       f"after {entry['samples']} outcomes (mixture SPRT, ratio "
                       f"{entry['statistic']:.3g} >= {entry['threshold']:.3g}); "
                       + (f"{verb}" if mode == "auto" else "manual mode: traffic unchanged"))
            events.append((str(reason), message))
        tests.append(entry)
    decided = [t for t in tests if t.get("decision") in ("better", "worse")]
    state = "Idle" if not tests else "Testing"
    if decided:
        state = ("Promoted" if any(t["decision"] == "better" for t in decided) else "RolledBack"
                 ) if mode == "auto" else "Decided"
    out = {**status, "rollout": {"mode": mode, "state": state, "generation": generation,
                                 "champion": spec.champion_name(), "tests": tests}}
    if events:
        last_reason = Reason(events[-1][0])
        conds = cond.set_condition(out.get("conditions") or [], ROLLOUT, bool(decided),
                                   last_reason, events[-1][1], generation)
        out["conditions"] = conds
    return out, events
