"""Builder args validation: bad args fail in build_app with a message naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ray import serve
from tests.unit.serving.tinymodels import register_tiny_model

from mlta.errors import ServingError
from mlta.serving.app import IMPORT_PATH, build_app, parse_args, predictor_name
from mlta.specs.serving import ServeAppArgs, ServedVariant


def _args(uri_a: str, uri_b: str, wa: int = 80, wb: int = 20) -> dict[str, Any]:
    return ServeAppArgs(app_name="ns-md", correlation_id="cid-1", variants=[
        ServedVariant(name="champion", weight=wa, model_uri=uri_a, model_version="v1", replicas=2),
        ServedVariant(name="challenger", weight=wb, model_uri=uri_b, model_version="v2"),
    ]).to_wire()


@pytest.fixture
def uris(tmp_path: Path, candles_dir: Path) -> tuple[str, str]:
    candles = candles_dir / "ETH_BTC-5m.feather"
    a = register_tiny_model(tmp_path.as_uri(), candles, name="m", version="v1",
                            kind="direction", features=["ret_1"])
    b = register_tiny_model(tmp_path.as_uri(), candles, name="m", version="v2",
                            kind="return", features=["ret_3"])
    return a.uri, b.uri


def test_wire_args_build_an_application(uris: tuple[str, str]) -> None:
    wire = _args(*uris)
    assert "modelUri" in wire["variants"][0] and "appName" in wire
    app = build_app(wire)
    assert isinstance(app, serve.Application)
    assert IMPORT_PATH == "mlta.serving.app:build_app"
    assert predictor_name("champion") == "predictor-champion"


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda a: a.pop("appName"), "appName: Field required"),
    (lambda a: a.update(variants=[]), "variants: List should have at least 1 item"),
    (lambda a: a["variants"][0].update(weight=120), "variants.0.weight"),
    (lambda a: a["variants"][0].update(replicas=0), "variants.0.replicas"),
    (lambda a: a.update(extra=1), "extra: Extra inputs are not permitted"),
    (lambda a: a["variants"][1].update(weight=10), "must sum to 100, got 90"),
    (lambda a: a["variants"][1].update(name="champion"), "repeated: champion"),
])
def test_invalid_args_raise_serving_error(uris: tuple[str, str], mutate: Any, needle: str) -> None:
    wire = _args(*uris)
    mutate(wire)
    with pytest.raises(ServingError) as info:
        build_app(wire)
    assert needle in str(info.value)


def test_models_are_checked_before_replicas_start(uris: tuple[str, str], tmp_path: Path) -> None:
    wire = _args(uris[0], str(tmp_path / "nowhere"))
    with pytest.raises(ServingError, match="variant 'challenger': cannot read model metadata"):
        build_app(wire)
    wire = _args(*uris)
    wire["variants"][0]["modelVersion"] = "v9"
    with pytest.raises(ServingError, match="holds version 'v1', not 'v9'"):
        build_app(wire)
    assert parse_args(wire, check_models=False).variants[0].model_version == "v9"


def test_a_version_that_failed_its_gate_is_refused_unless_the_variant_opts_in(
        uris: tuple[str, str]) -> None:
    from mlta import registry

    meta = registry.read_metadata(uris[0])
    gate = registry.GateInfo(status=registry.GateStatus.FAILED,
                             reasons=["lockbox AUC is 0.49, the gate needs >= 0.52"])
    registry.write_metadata(uris[0], meta.model_copy(update={"gate": gate}))
    wire = _args(*uris)
    with pytest.raises(ServingError, match=r"'champion': m v1 failed its gate: lockbox AUC is 0\.49"):
        build_app(wire)
    wire["variants"][0]["allowFailedGate"] = True
    assert parse_args(wire).variants[0].allow_failed_gate is True
