from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mlta.config import Backend, load_settings
from mlta.errors import ConfigError
from mlta.logs import JsonFormatter, correlated

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.mark.parametrize("env", ["development", "testing", "production"])
def test_each_overlay_loads(env: str) -> None:
    s = load_settings(env=env, config_dir=REPO_CONFIG, environ={})
    assert s.env == env
    assert s.storage.uri.startswith(("file:///", "s3://"))


def test_overlay_and_env_precedence() -> None:
    prod = load_settings(env="production", config_dir=REPO_CONFIG, environ={})
    assert prod.operator.backend == Backend.KUBERAY and prod.log.format == "json"
    dev = load_settings(env="development", config_dir=REPO_CONFIG,
                        environ={"MLTA_OPERATOR__BACKEND": "kuberay", "MLTA_OPERATOR__NAMESPACES": "[a, b]"})
    assert dev.operator.backend == Backend.KUBERAY and dev.operator.namespaces == ["a", "b"]
    assert dev.log.format == "text"


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"operator\.poll_interval_seconds"):
        load_settings(env="testing", config_dir=REPO_CONFIG,
                      environ={"MLTA_OPERATOR__POLL_INTERVAL_SECONDS": "-1"})
    with pytest.raises(ConfigError, match="MLTA_ENV"):
        load_settings(env="staging", config_dir=REPO_CONFIG, environ={})


def test_bad_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("ray:\n  dashbord_url: http://x\n")
    with pytest.raises(ConfigError, match=r"ray\.dashbord_url"):
        load_settings(env="testing", config_dir=tmp_path, environ={})
    (tmp_path / "settings.yaml").write_text("ray: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(env="testing", config_dir=tmp_path, environ={})


def test_json_logs_carry_correlation_id() -> None:
    record = logging.LogRecord("mlta.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.symbol = "BTCUSDT"
    with correlated("abc-g1"):
        line = JsonFormatter().format(record)
    payload = json.loads(line)
    assert payload["msg"] == "hello there" and payload["correlation_id"] == "abc-g1"
    assert payload["symbol"] == "BTCUSDT" and payload["level"] == "INFO"


def test_json_lines_of_kopf_object_loggers_name_the_object_not_the_settings() -> None:
    """kopf's per-object logger adds its whole OperatorSettings to every record; a line
    carries which object it is about instead (as kopf's own JSON formatter does)."""
    import kopf

    ref = {"apiVersion": "mlta.io/v1alpha1", "kind": "DataPipeline", "name": "dp",
           "uid": "u1", "namespace": None}
    record = logging.LogRecord("kopf.objects", logging.INFO, __file__, 1, "Handler done", (), None)
    record.settings = kopf.OperatorSettings()
    record.k8s_skip = False
    record.k8s_ref = ref
    payload = json.loads(JsonFormatter().format(record))
    assert set(payload) == {"ts", "level", "logger", "msg", "object"}
    assert payload["object"] == {k: v for k, v in ref.items() if v is not None}


def test_operator_refuses_to_start_on_bad_settings() -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, MLTA_ENV="testing", MLTA_RAY__REQUEST_TIMEOUT_SECONDS="soon")
    res = subprocess.run([sys.executable, "-m", "mlta_operator"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2
    assert "ray.request_timeout_seconds" in res.stderr
