"""The ray backend sends the cluster's auth token and explains a refusal.

Ray >= 2.52 turns token authentication on for a new cluster whenever a token exists; the
e2e suite runs the operator against such a cluster. These tests pin the HTTP contract:
which header carries the token, where it comes from, and what a 401 turns into.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mlta.config import RaySettings, Settings
from mlta.errors import BackendError, ConfigError
from mlta_operator.backends.ray import RayBackend

TOKEN = "0123456789abcdef0123456789abcdef"


def _backend(ray: RaySettings, seen: list[httpx.Request]) -> RayBackend:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, text="Unauthorized: Missing authentication token")
        return httpx.Response(200, json={"status": "RUNNING"})

    return RayBackend(Settings(ray=ray), client=httpx.Client(transport=httpx.MockTransport(handler)))


def test_token_from_settings_is_sent_as_bearer() -> None:
    seen: list[httpx.Request] = []
    status = _backend(RaySettings(auth_token=TOKEN), seen).job_status("sid", "ns")
    assert status.state.value == "RUNNING"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_token_file_is_read_per_request_so_rotation_needs_no_restart(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("stale\n")
    seen: list[httpx.Request] = []
    backend = _backend(RaySettings(auth_token_file=str(token_file)), seen)
    with pytest.raises(BackendError, match="sent a token that it rejected"):
        backend.job_status("sid", "ns")
    token_file.write_text(TOKEN + "\n")
    assert backend.job_status("sid", "ns").state.value == "RUNNING"


def test_refusal_without_token_names_the_setting_to_fix() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(BackendError) as err:
        _backend(RaySettings(), seen).job_status("sid", "ns")
    assert "HTTP 401, sent no token" in str(err.value)
    assert "MLTA_RAY__AUTH_TOKEN" in (err.value.hint or "")
    assert "authorization" not in seen[0].headers


def test_missing_token_file_is_a_config_error(tmp_path: Path) -> None:
    settings = RaySettings(auth_token_file=str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="auth_token_file"):
        settings.auth_headers()


def test_token_never_shows_in_settings_dump() -> None:
    assert TOKEN not in repr(RaySettings(auth_token=TOKEN))
    assert TOKEN not in str(Settings(ray=RaySettings(auth_token=TOKEN)).model_dump())
