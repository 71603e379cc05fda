"""The predict fast path answers exactly as the FastAPI route it stands in front of.

Each request goes to both, as raw ASGI calls on the same service: the FastAPI app alone
(``ServiceApp.app``, its ``/v1/predict`` route) and ``ServiceApp`` (the fast path), and the
status, the JSON body (but the measured ``latencyMs``) and the headers a client reads must
agree. Everything else (other routes, WebSocket, lifespan) passes through to FastAPI.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from tests.support.local_service import KEYS, user_config
from tests.support.serving_world import World

from mlta.serving.asgi import local_app
from mlta.serving.fastpath import PREDICT_PATHS, ServiceApp, read_body, route_path

Message = dict[str, Any]


@asynccontextmanager
async def _served(app: ServiceApp) -> AsyncIterator[ServiceApp]:
    async with app.app.router.lifespan_context(app.app):
        yield app


async def _call(app: Any, method: str, path: str, body: bytes | list[bytes] = b"",
                headers: dict[str, str] | None = None, root_path: str = "") -> list[Message]:
    chunks = body if isinstance(body, list) else [body]
    inbox = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
             for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": root_path + path,
             "raw_path": (root_path + path).encode(), "root_path": root_path,
             "query_string": b"", "server": ("mlta", 80), "client": ("client", 1234),
             "headers": [(b"host", b"mlta"), (b"content-type", b"application/json"),
                         *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]}
    await app(scope, receive, send)
    return sent


def _answer(sent: list[Message]) -> tuple[int, Any, dict[str, str]]:
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    payload = json.loads(body)
    if isinstance(payload, dict):
        payload.pop("latencyMs", None)
    assert headers["content-length"] == str(len(body))
    return start["status"], payload, {k: v for k, v in headers.items()
                                      if k in ("content-type", "retry-after", "www-authenticate",
                                               "x-ratelimit-limit")}


@pytest.fixture(scope="module")
def apps(serving_world: World) -> Iterator[tuple[ServiceApp, ServiceApp, list[str]]]:
    open_app, _, _ = local_app(serving_world.args())
    keyed, service, _ = local_app(serving_world.args(authEnabled=True))
    service.configure(user_config({"requestsPerSecond": 0.001, "burst": 3}))
    yield open_app, keyed, list(service.models["champion"].feature_columns)


def _bodies(columns: list[str]) -> list[bytes]:
    row = {c: 0.01 * i for i, c in enumerate(columns)}
    return [json.dumps({"features": row, "key": "k1"}).encode(),
            json.dumps({"rows": [row, {**row, columns[0]: None}], "key": 7}).encode(),
            json.dumps({"features": {**row, columns[1]: "x"}}).encode(),
            json.dumps({"features": {c: v for c, v in row.items() if c != columns[2]}}).encode(),
            json.dumps({"rows": [row] * 1001}).encode(),
            json.dumps({"features": row, "explain": "yes"}).encode(),
            b'{"features": {"a": NaN}}', b"not json", b"[]", b'{"features": 1, "rows": []}']


def test_every_answer_of_the_fast_path_is_the_routes(apps: tuple[ServiceApp, ServiceApp,
                                                                  list[str]]) -> None:
    open_app, _, columns = apps

    async def main() -> None:
        async with _served(open_app):
            for path in sorted(PREDICT_PATHS):
                for body in _bodies(columns):
                    fast = _answer(await _call(open_app, "POST", path, body))
                    routed = _answer(await _call(open_app.app, "POST", path, body))
                    assert fast == routed, body[:80]
            ok = _answer(await _call(open_app, "POST", "/v1/predict", _bodies(columns)[0]))
            assert ok[0] == 200 and ok[1]["variant"] in ("champion", "challenger")

    asyncio.run(main())


def test_keys_and_limits_are_the_same_rules(apps: tuple[ServiceApp, ServiceApp,
                                                         list[str]]) -> None:
    _, keyed, columns = apps
    body = _bodies(columns)[0]

    async def main() -> None:
        async with _served(keyed):
            for headers in ({}, {"x-api-key": "wrong-key-0123456789"},
                            {"authorization": f"Bearer {KEYS['viewer']}"}):
                fast = _answer(await _call(keyed, "POST", "/v1/predict", body, headers))
                routed = _answer(await _call(keyed.app, "POST", "/v1/predict", body, headers))
                assert fast == routed and fast[0] in (401, 403)
            desk = {"Authorization": f"Bearer {KEYS['desk']}"}
            answers = [_answer(await _call(app, "POST", "/v1/predict", body, desk))
                       for app in (keyed, keyed.app, keyed, keyed, keyed.app)]
            assert [a[0] for a in answers] == [200, 200, 200, 429, 429]
            assert answers[3] == answers[4]
            assert answers[3][2]["retry-after"] and answers[3][2]["x-ratelimit-limit"] == "0.001"

    asyncio.run(main())


def test_a_body_in_chunks_under_a_root_path_and_a_client_gone_early(
        apps: tuple[ServiceApp, ServiceApp, list[str]]) -> None:
    open_app, _, columns = apps
    body = _bodies(columns)[0]
    service = open_app.state.service

    async def main() -> None:
        async with _served(open_app):
            pieces = [body[:10], b"", body[10:50], body[50:]]
            chunked = _answer(await _call(open_app, "POST", "/v1/predict", pieces,
                                          root_path="/mlta/test/md"))
            assert chunked[0] == 200 and "prediction" in chunked[1]
            # no http.request at all: the client went away; nothing is sent, nothing counted
            before = sum(sum(s.codes.values()) for s in service.stats.variants.values())
            assert await _call(open_app, "POST", "/v1/predict", []) == []
            assert sum(sum(s.codes.values()) for s in service.stats.variants.values()) == before

    asyncio.run(main())


def test_everything_else_goes_to_fastapi(apps: tuple[ServiceApp, ServiceApp,
                                                      list[str]]) -> None:
    open_app, _, _ = apps

    async def main() -> None:
        async with _served(open_app):
            health = _answer(await _call(open_app, "GET", "/v1/health"))
            assert health[0] == 200 and health[1]["status"] == "ok"
            wrong_method = _answer(await _call(open_app, "GET", "/v1/predict"))
            assert wrong_method[0] == 405
            slash = await _call(open_app, "POST", "/v1/predict/", b"{}")
            assert slash[0]["status"] == 307  # FastAPI's redirect, as before the fast path
            assert open_app.state is open_app.app.state

    asyncio.run(main())


@pytest.mark.parametrize(("path", "root", "expected"), [
    ("/v1/predict", "", "/v1/predict"),
    ("/mlta/ns/md/v1/predict", "/mlta/ns/md", "/v1/predict"),
    ("/v1/predict", "/mlta/ns/md", "/v1/predict"),          # prefix already stripped
    ("/mlta/ns/md", "/mlta/ns/md", ""),
    ("/mlta/ns/mdx/v1/predict", "/mlta/ns/md", "/mlta/ns/mdx/v1/predict"),  # not below it
])
def test_route_path_is_starlettes(path: str, root: str, expected: str) -> None:
    from starlette._utils import get_route_path

    scope = {"path": path, "root_path": root}
    assert route_path(scope) == expected == get_route_path(scope)  # type: ignore[arg-type]


def test_read_body_stops_at_a_disconnect() -> None:
    messages = [{"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.disconnect"}]

    async def receive() -> Message:
        return messages.pop(0)

    assert asyncio.run(read_body(receive)) is None
