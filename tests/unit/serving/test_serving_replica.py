"""The Serve deployment classes without a Ray cluster: a one-replica service running its hub and
Binance feed in process, a service reaching the ``hub`` deployment through a handle, and what
the handle's failures (a dead hub replica, a refusal inside the hub) become for clients.

The replicas are built as Serve builds them (the deployment's class, its async constructor
awaited) and answer through their own ASGI app. The ``DeploymentHandle`` is faked
(:class:`FakeHandle`): a real one exists only inside a running Serve application. It calls the
real hub object and raises what Ray raises: the hub's exception as the ``cause`` of a
``RayTaskError``, and ``ActorDiedError`` for a hub replica that is gone.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import websockets
from ray.exceptions import ActorDiedError, RayTaskError
from tests.support.fake_binance import FakeBinance, FakeKlineStream
from tests.support.local_service import running
from tests.support.serving_world import SYMBOLS, World

from mlta.errors import MltaError
from mlta.serving import api, deployments, stream
from mlta.serving.asgi import LocalHub
from mlta.serving.deployments import HandleHub

DEAD_HUB = "the hub could not answer: " + str(ActorDiedError())


class FakeHandle:
    """What :class:`HandleHub` uses of a Serve ``DeploymentHandle``, over a hub object here:
    ``handle.<method>.remote(*args)`` (awaited; ``subscribe`` streams). The hub's errors come
    back as the ``cause`` of a ``RayTaskError``; a method named in ``down`` raises
    ``ActorDiedError`` (recorded in ``failed``)."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.down: set[str] = set()
        self.failed: list[str] = []

    def options(self, *, stream: bool = False) -> FakeHandle:
        return self

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        target = getattr(self.hub, method)
        run = self._stream if inspect.isasyncgenfunction(target) else self._call
        return SimpleNamespace(remote=lambda *args: run(method, target, args))

    def _reach(self, method: str) -> None:
        if method in self.down:
            self.failed.append(method)
            raise ActorDiedError()

    async def _call(self, method: str, target: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        self._reach(method)
        try:
            out = target(*args)
            return await out if inspect.isawaitable(out) else out
        except MltaError as exc:  # the hub's own errors, wrapped the way Ray wraps them
            raise RayTaskError(method, traceback.format_exc(), exc, proctitle="hub", pid=1,
                               ip="127.0.0.1") from None

    async def _stream(self, method: str, target: Callable[..., AsyncIterator[Any]],
                      args: tuple[Any, ...]) -> AsyncIterator[Any]:
        self._reach(method)
        async for item in target(*args):
            yield item


@pytest.fixture(autouse=True)
def replica_globals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A replica's constructor sets process-wide state: the serving logger (JSON, not
    propagated), the deployment module's app and the replica's service. Put it back after."""
    logger = logging.getLogger("mlta.serving")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    monkeypatch.setattr(api, "_REPLICA", {})
    monkeypatch.setattr(deployments.fastapi_app.state, "service", None, raising=False)
    yield
    logger.handlers[:] = handlers
    logger.propagate = propagate
    logger.setLevel(level)


async def construct(deployment: Any, *args: Any) -> Any:
    """A replica object the way Serve makes one: the class, then its async constructor."""
    cls = deployment.func_or_class
    replica = cls.__new__(cls)
    await replica.__init__(*args)
    return replica


async def stop(*replicas: Any) -> None:
    for replica in replicas:
        replica._stop.set()
        await asyncio.wait_for(asyncio.gather(*replica._tasks, return_exceptions=True), 10)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def client_of(replica: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=replica.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replica") as client:
        yield client


@pytest.fixture()
def binance_feed(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A Binance feed at a kline stream that stays quiet and an exchange that lists none of the
    symbols (its backfills fail, and are counted)."""
    with FakeBinance(tmp_path) as rest, FakeKlineStream(rest) as klines:
        yield {"type": "binance", "binance": {"wsUrl": klines.url, "restUrl": rest.url}}



def test_one_replica_runs_its_hub_and_binance_feed_in_process(
        serving_world: World, binance_feed: dict[str, Any]) -> None:
    wire = serving_world.args(feed=binance_feed).to_wire()

    async def scenario() -> None:
        replica = await construct(deployments.ServiceDeployment, wire)
        try:
            async with client_of(replica) as client:
                async def backfilled() -> bool:
                    status = (await client.get("/v1/status")).json()
                    return bool(status["feed"]["events"] == {"connected": 1,
                                                             "backfill_failed": len(SYMBOLS)})

                await eventually(backfilled, "the replica's feed to connect and backfill")
                metrics = await client.get("/metrics")
                assert metrics.status_code == 404
                assert metrics.json()["error"] == "metrics are exported by Ray"
        finally:
            await stop(replica)

    asyncio.run(scenario())


@asynccontextmanager
async def behind_a_handle(wire: dict[str, Any]) -> AsyncIterator[tuple[Any, FakeHandle, Any]]:
    """The ``hub`` deployment's object, a handle to it, and a service replica using it."""
    hub = await construct(deployments.Hub, wire)
    handle = FakeHandle(hub)
    replica = await construct(deployments.ServiceDeployment, wire, handle)
    try:
        yield hub, handle, replica
    finally:
        await stop(replica, hub)


def test_a_service_reaches_its_hub_through_a_handle(serving_world: World,
                                                    binance_feed: dict[str, Any]) -> None:
    wire = serving_world.args(feed=binance_feed).to_wire()
    symbol = SYMBOLS[0]

    async def scenario() -> None:
        async with behind_a_handle(wire) as (hub, handle, replica), client_of(replica) as client:
            feed = (await client.get("/v1/symbols")).json()
            assert feed["feed"] == "binance" and feed["stepMs"] == hub.core.step_ms
            none = await client.get(f"/v1/symbols/{symbol}/prediction")
            assert none.status_code == 404 and none.json()["error"] == \
                f"no prediction for {symbol!r} yet"
            candle = hub.core.last_candle(symbol).flat_after(hub.core.step_ms, 1)
            body = {"symbol": symbol, "candles": [candle.to_wire(hub.core.step_ms)]}
            assert (await client.post("/v1/candles", json=body)).status_code == 200
            latest = await client.get(f"/v1/symbols/{symbol}/prediction")
            assert latest.status_code == 200 and latest.json()["openTime"] == candle.open_ms
            again = await client.post("/v1/candles", json=body)  # refused inside the hub
            assert again.status_code == 409
            assert again.json()["error"] == f"duplicate candle at {candle.open_ms}: already applied"

            async def connected() -> bool:
                status = await client.get("/v1/status")
                return bool(status.json()["feed"]["events"].get("connected") == 1)

            await eventually(connected, "the hub's own feed to connect")
            handle.down = {"status"}
            dead = await client.get("/v1/status")
            assert dead.status_code == 503 and dead.json() == {
                "error": DEAD_HUB, "hint": "retry; check the Serve application status"}
            handle.down.clear()
            assert (await client.get("/v1/status")).status_code == 200

    asyncio.run(scenario())


def test_a_lost_report_does_not_stop_the_next_ones(serving_world: World) -> None:
    wire = serving_world.args(feed={"type": "none"}).to_wire()

    async def scenario() -> None:
        async with behind_a_handle(wire) as (hub, handle, replica), client_of(replica) as client:
            row = {c: 0.1 for c in replica.service.models["champion"].feature_columns}
            handle.down = {"report"}
            assert (await client.post("/v1/predict", json={"features": row})).status_code == 200

            async def failed() -> bool:
                return "report" in handle.failed

            await eventually(failed, "the replica's report to fail")
            handle.down.clear()
            assert (await client.post("/v1/predict", json={"features": row})).status_code == 200

            async def reported() -> bool:
                return any(v.summary()["requests"] for v in hub.core.stats.variants.values())

            await eventually(reported, "the next report to reach the hub")
            counts = [v.summary()["requests"] for v in hub.core.stats.variants.values()]
            assert sum(counts) == 1  # the first request went with the lost report

    asyncio.run(scenario())


def test_a_subscription_the_hub_cannot_confirm_is_an_error_frame(
        serving_world: World, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """A WebSocket client of a replica whose hub replica is down; once it is back, the
    replica's retried subscription lets the client subscribe."""
    monkeypatch.setattr(stream, "SUBSCRIBE_TIMEOUT_S", 1.0)
    unconfirmed = {"type": "error", "error": "the hub did not confirm the subscription",
                   "hint": "retry; check the deployment status"}
    with running(serving_world.args()) as svc, caplog.at_level(logging.WARNING, "mlta.serving"):
        handle = FakeHandle(LocalHub(svc.hub))
        handle.down = {"subscribe"}
        svc.service.hub = HandleHub(handle)  # type: ignore[arg-type]
        url = svc.url.replace("http://", "ws://") + "/v1/stream"
        subscribe = json.dumps({"type": "subscribe", "symbols": [SYMBOLS[0]]})

        async def scenario() -> None:
            async with websockets.connect(url) as ws:
                assert json.loads(await ws.recv())["type"] == "welcome"
                await ws.send(subscribe)
                assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == unconfirmed
                assert "subscribe" in handle.failed
                handle.down.clear()
                deadline = asyncio.get_running_loop().time() + 15
                while True:
                    await ws.send(subscribe)
                    answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if answer["type"] == "subscribed":
                        break
                    assert answer == unconfirmed
                    assert asyncio.get_running_loop().time() < deadline, "never confirmed"
                last = svc.hub.last_candle(SYMBOLS[0])
                candle = last.flat_after(svc.hub.step_ms, 1).to_wire(svc.hub.step_ms)
                resp = await asyncio.to_thread(httpx.post, f"{svc.url}/v1/candles",
                                               json={"symbol": SYMBOLS[0], "candles": [candle]})
                assert resp.status_code == 200
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert event["type"] == "prediction" and event["openTime"] == candle["openTime"]

        asyncio.run(scenario())
    ended = [r for r in caplog.records if r.getMessage() == "hub subscription ended"]
    assert ended and all(r.error.startswith(DEAD_HUB) for r in ended)  # type: ignore[attr-defined]
