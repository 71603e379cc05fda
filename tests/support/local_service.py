"""The whole prediction service in one process behind a real uvicorn on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from mlta.serving.asgi import local_app
from mlta.serving.auth import hash_secret
from mlta.serving.hub import HubCore
from mlta.serving.service import Service
from mlta.specs.modeldeployment import AuthSpec
from mlta.specs.serving import ServeAppArgs, ServeUserConfig
from tests.support.ray_cluster import free_port

KEYS = {"desk": "desk-key-0123456789abcdef", "ops": "ops-key-0123456789abcdef",
        "viewer": "viewer-key-0123456789abcdef"}
AUTH = AuthSpec.model_validate({"secretName": "md-keys", "keys": [
    {"name": "ops", "scopes": ["admin", "predict", "stream"]},
    {"name": "viewer", "scopes": ["stream"]}]})


@dataclass
class Running:
    url: str
    service: Service
    hub: HubCore


def user_config(rate: dict[str, float] | None = None, salt: str = "salt-1") -> ServeUserConfig:
    return ServeUserConfig.model_validate({
        "salt": salt, "keys": [k.to_wire() for k in hash_secret(KEYS, AUTH, salt)],
        **({"rateLimit": rate} if rate else {})})


@contextmanager
def running(args: ServeAppArgs, config: ServeUserConfig | None = None,
            timeout: float = 30) -> Iterator[Running]:
    app, service, hub = local_app(args)
    if config is not None:
        service.configure(config)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True, name=f"service-{port}")
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the service on port {port} did not start")
            time.sleep(0.02)
        yield Running(f"http://127.0.0.1:{port}", service, hub)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
