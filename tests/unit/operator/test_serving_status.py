"""The operator's side of a ModelDeployment's live status: keys, drift, rollout decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlta import storage
from mlta.specs.modeldeployment import ModelDeploymentSpec
from mlta_operator import serving_status as live

SPEC = {"variants": [{"name": "champion", "trainingJob": "a", "weight": 80},
                     {"name": "challenger", "trainingJob": "b", "weight": 20}],
        "monitoring": {"psiThreshold": 0.3},
        "auth": {"secretName": "keys", "keys": [{"name": "ops", "scopes": ["admin"]}]}}


def _spec(**over: Any) -> ModelDeploymentSpec:
    return ModelDeploymentSpec.model_validate({**SPEC, **over})


def _live(decision: str = "undecided", psi: float = 0.1) -> dict[str, Any]:
    numbers = {"requests": 10, "errors": 1, "p50Ms": 1.2, "p99Ms": 9.0,
               "drift": {"topFeatures": [{"feature": "f_rsi", "psi": psi}],
                         "predictionPsi": 0.05},
               "outcomes": {"scored": 5, "hitRate": 0.6, "auc": 0.55, "netReturn": 0.001}}
    return {"variants": {"champion": numbers, "challenger": numbers},
            "rollout": {"tests": [{"challenger": "challenger", "samples": 300,
                                   "meanDifference": 0.01, "statistic": 45.0,
                                   "threshold": 20.0, "decision": decision}]}}


def _status() -> dict[str, Any]:
    return {"conditions": [], "variants": [
        {"name": "champion", "modelVersion": "v1", "modelUri": "u1", "weight": 80},
        {"name": "challenger", "modelVersion": "v2", "modelUri": "u2", "weight": 20}]}


def test_user_config_holds_digests_never_keys() -> None:
    secret = {"ops": "o" * 24, "desk": "d" * 24}
    config = live.user_config(_spec(), "ns", "uid-1", {"champion": 80, "challenger": 20},
                              secret)
    wire = str(config.to_wire())
    assert "o" * 24 not in wire and "d" * 24 not in wire and config.salt
    assert live.user_config(_spec(), "ns", "uid-1", {}, secret).salt == config.salt
    assert live.user_config(_spec(), "ns", "uid-2", {}, secret).salt != config.salt
    fp = live.keys_fingerprint(config)
    assert fp and fp != live.keys_fingerprint(
        live.user_config(_spec(), "ns", "uid-1", {}, {**secret, "ops": "p" * 24}))
    open_spec = _spec(auth=None)
    assert live.keys_fingerprint(live.user_config(open_spec, "ns", "u", {}, None)) is None


def test_live_numbers_land_in_variant_status_and_drift_degrades() -> None:
    status, events = live.merge(_spec(), _status(), _live(psi=0.5), generation=3)
    champion = status["variants"][0]
    assert champion["requests"] == 10 and champion["p99Ms"] == 9.0
    assert champion["topDrift"] == [{"feature": "f_rsi", "psi": 0.5}]
    assert champion["outcomes"]["hitRate"] == 0.6
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "FeatureDrift"
    assert "f_rsi PSI 0.500" in degraded["message"] and events == []
    calm, _ = live.merge(_spec(), status, _live(psi=0.1), generation=3)
    assert next(c for c in calm["conditions"] if c["type"] == "Degraded")["status"] == "False"
    unchanged, none = live.merge(_spec(), _status(), None, generation=3)
    assert unchanged == _status() and none == []


def test_auto_rollout_promotes_once_and_moves_the_weights() -> None:
    spec = _spec(rollout={"mode": "auto"})
    status, events = live.merge(spec, _status(), _live("better"), generation=4)
    assert status["rollout"]["state"] == "Promoted"
    assert [e[0] for e in events] == ["ChallengerPromoted"]
    assert "challenger challenger is better than champion" in events[0][1]
    rollout = next(c for c in status["conditions"] if c["type"] == "Rollout")
    assert rollout["status"] == "True"
    assert live.effective_weights(spec, status, 4) == {"champion": 0, "challenger": 100}
    assert live.effective_weights(spec, status, 5) == {"champion": 80, "challenger": 20}
    again, more = live.merge(spec, status, _live("undecided"), generation=4)
    assert more == [] and again["rollout"]["tests"][0]["decision"] == "better"  # sticky


def test_worse_challenger_is_rolled_back_and_manual_only_reports() -> None:
    auto = _spec(rollout={"mode": "auto"})
    status, events = live.merge(auto, _status(), _live("worse"), generation=1)
    assert status["rollout"]["state"] == "RolledBack" and events[0][0] == "ChallengerRolledBack"
    assert live.effective_weights(auto, status, 1) == {"champion": 100, "challenger": 0}
    manual = _spec()
    status, events = live.merge(manual, _status(), _live("better"), generation=1)
    assert status["rollout"]["state"] == "Decided" and events[0][0] == "ChallengerDecided"
    assert "manual mode: traffic unchanged" in events[0][1]
    assert live.effective_weights(manual, status, 1) == {"champion": 80, "challenger": 20}
    idle, _ = live.merge(manual, _status(), {"variants": {}}, generation=1)
    assert idle["rollout"]["state"] == "Idle"


def test_status_file_location_and_reading(tmp_path: Path) -> None:
    uri = live.status_uri(tmp_path.as_uri(), "ns", "md")
    assert uri.endswith("/serving/ns/md/status.json")
    assert live.read_service_status(uri) is None
    storage.write_json_atomic(uri, {"variants": {}})
    assert live.read_service_status(uri) == {"variants": {}}
    storage.write_bytes_atomic(uri, b"{broken")
    assert live.read_service_status(uri) is None
