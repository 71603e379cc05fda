"""The service's ASGI application: ``POST /v1/predict`` answered before FastAPI routes it.

A prediction is the request a trading client sends most, and the one whose latency is
measured against a bare server (issue 8). Through FastAPI it also pays for trying each
route's pattern in turn, building a ``Request``, solving the endpoint's dependencies and a
``Response`` object: about half of the app's own time per prediction (in process, ~550 ->
~260 us a call on a busy machine). :class:`ServiceApp` answers exactly the predict paths itself, from
the raw ASGI scope, with the same rules (``api.respond`` and ``api.predictor``: auth, limits,
validation, the error bodies, the counting); every other request, WebSocket and lifespan
event goes to the FastAPI app unchanged, which still documents ``/v1/predict`` in its OpenAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import api

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: The paths (below the app's root path) answered here: FastAPI's ``predict`` routes.
PREDICT_PATHS = frozenset({"/v1/predict", "/predict"})
#: The request headers the rules read (auth); ASGI gives header names in lower case.
AUTH_HEADERS = frozenset({b"authorization", b"x-api-key"})
JSON = (b"content-type", b"application/json")


def route_path(scope: Scope) -> str:
    """The path below ``root_path``, as Starlette routes it (Serve mounts the app under its
    route prefix and may or may not include the prefix in ``path``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("/", ""):
        return path[len(root):]
    return path


class ServiceApp:
    """An ASGI app: the predict fast path in front of ``app`` (the FastAPI application)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def state(self) -> Any:
        """The FastAPI app's state (``state.service`` is the service answering)."""
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and route_path(scope) in PREDICT_PATHS):
            await self.predict(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def predict(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        if raw is None:  # the client went away before it sent its body: nobody to answer
            return
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"] if name in AUTH_HEADERS}
        status, content, extra = await api.respond(api.service_for(self.app), headers,
                                                   "predict", api.predictor(raw))
        head = [JSON, (b"content-length", str(len(content)).encode())]
        if extra:
            head.extend((k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in extra.items())
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": content})


async def read_body(receive: Receive) -> bytes | None:
    """The request body, or None when the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
