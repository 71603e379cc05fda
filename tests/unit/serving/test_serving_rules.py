"""Pure rules of the service: keys, buckets and leases, candles and gaps, outcomes, stats."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from datetime import UTC, datetime

import pytest

from mlta import registry
from mlta.errors import ServingError
from mlta.serving.auth import KeyStore, hash_secret, key_digest, presented_key
from mlta.serving.candles import Candle, parse_candle, parse_candles, plan_gap
from mlta.serving.layout import MAX_STATE_DIR, cluster_env, haproxy_pids, replica_env
from mlta.serving.limits import GlobalBuckets, Limiter, TokenBucket, lease_size
from mlta.serving.model import ServedModel
from mlta.serving.outcomes import OutcomeBook, Score, auc, score
from mlta.serving.stats import EDGES_MS, StatsBook, VariantStats, bucket_of, quantile
from mlta.serving.validation import RequestRejected
from mlta.specs.modeldeployment import AuthSpec, RateLimitSpec

STEP = 300_000
AUTH = AuthSpec.model_validate({"secretName": "keys", "keys": [
    {"name": "ops", "scopes": ["admin"], "rateLimit": {"requestsPerSecond": 1, "burst": 1}}]})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_hashed_scoped_and_checked_against_every_entry() -> None:
    data = {"ops": "o" * 20, "desk": "d" * 20}
    keys = hash_secret(data, AUTH, "salt")
    assert {k.name: [str(s) for s in k.scopes] for k in keys} == {
        "desk": ["predict", "stream"], "ops": ["admin"]}
    assert all("o" * 20 not in k.to_wire().values() for k in keys)
    assert keys[1].digest == key_digest("salt", "o" * 20)
    store = KeyStore(keys, "salt")
    assert len(store) == 2
    ops = store.authenticate("o" * 20)
    assert ops is not None and ops.allows("admin") and not ops.allows("predict")
    assert ops.rate_limit is not None and ops.rate_limit.burst == 1
    assert store.authenticate("d" * 19) is None and store.authenticate("") is None
    assert KeyStore(keys, "other").authenticate("o" * 20) is None  # digests depend on the salt
    assert KeyStore().authenticate("o" * 20) is None


@pytest.mark.parametrize(("data", "needle"), [
    ({"desk": "d" * 20}, "no entry for key(s) ['ops']"),
    ({"ops": "short", "x": "x" * 30}, "['ops'] are shorter than 16"),
])
def test_bad_secrets_are_named_without_their_values(data: dict[str, str], needle: str) -> None:
    with pytest.raises(ServingError) as info:
        hash_secret(data, AUTH, "salt")
    assert needle in str(info.value) and "short" not in info.value.message.replace(
        "shorter", "")
    with pytest.raises(ServingError, match="holds no keys"):
        hash_secret({}, AuthSpec(secret_name="k"), "s")


def test_presented_key_from_bearer_or_header() -> None:
    assert presented_key({"authorization": "Bearer abc"}) == "abc"
    assert presented_key({"authorization": "Basic abc"}) is None
    assert presented_key({"x-api-key": " k "}) == "k"
    assert presented_key({}) is None


def test_token_bucket_refills_and_says_how_long_to_wait() -> None:
    bucket = TokenBucket(2.0, 3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0
    assert TokenBucket(0.0, 1, 0.0).take(0.0) == 0.0
    granted, wait = TokenBucket(1.0, 2, 0.0).grant(0.0, 5)
    assert (granted, wait) == (2.0, 0.0)
    empty = TokenBucket(1.0, 1, 0.0)
    empty.grant(0.0, 1)
    assert empty.grant(0.25, 1) == (0.0, pytest.approx(0.75))
    assert lease_size(RateLimitSpec(requests_per_second=100, burst=5)) == 5.0
    assert lease_size(RateLimitSpec(requests_per_second=2, burst=5)) == 1.0


def test_local_limiter_per_key_and_default() -> None:
    clock = Clock()
    limiter = Limiter(RateLimitSpec(requests_per_second=1, burst=2), clock=clock)

    async def run() -> list[float]:
        return [await limiter.check("a") for _ in range(3)] + [await limiter.check("b")]

    waits = asyncio.run(run())
    assert waits[:2] == [0.0, 0.0] and waits[2] == pytest.approx(1.0) and waits[3] == 0.0
    limiter.reset(None)
    assert asyncio.run(limiter.check("a")) == 0.0


def test_leases_hold_one_global_limit_across_replicas() -> None:
    """Two replicas leasing from one hub bucket let through burst + rate * t, not twice it."""
    clock = Clock()
    hub = GlobalBuckets(clock)
    limit = RateLimitSpec(requests_per_second=100, burst=20)
    calls = []

    async def lease(key: str, spec: RateLimitSpec, want: float) -> tuple[float, float]:
        calls.append(want)
        return hub.grant(key, spec, want)

    replicas = [Limiter(limit, lease=lease, clock=clock) for _ in range(2)]

    async def run() -> int:
        allowed = 0
        for step in range(200):  # 2 s in 10 ms steps, 2 requests per step on each replica
            clock.now = 100.0 + step * 0.01
            for replica in replicas:
                for _ in range(2):
                    allowed += await replica.check("k") == 0.0
        return allowed

    allowed = asyncio.run(run())
    # 400/s asked of a 100/s limit: burst + rate * elapsed get through, not twice that;
    # leased tokens that expire unused make it a little less, never more.
    assert 0.8 * (20 + 100 * 1.99) <= allowed <= 20 + 100 * 1.99 + 1
    assert len(calls) < allowed / 2  # leased in batches, not one hub call per request


def test_candle_parsing_and_refusals() -> None:
    good = {"openTime": 3 * STEP, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5,
            "volume": 1.0}
    assert parse_candle(good, STEP, "c") == Candle(3 * STEP, 1.0, 2.0, 0.5, 1.5, 1.0)
    iso = dict(good, openTime="1970-01-01T00:15:00Z", closeTime=4 * STEP - 1)
    assert parse_candle(iso, STEP, "c").open_ms == 3 * STEP
    whole = parse_candle(dict(good, openTime=float(3 * STEP)), STEP, "c").open_ms  # 9e5 in JSON
    assert whole == 3 * STEP and isinstance(whole, int)
    bad = [
        ([], "is not an object"), ({"open": 1}, "lacks openTime"),
        (dict(good, openTime=True), "epoch milliseconds"),
        (dict(good, openTime="yesterday"), "not epoch milliseconds or ISO"),
        (dict(good, openTime=3 * STEP + 0.5), "not epoch milliseconds or ISO"),
        (dict(good, openTime="1970-01-01T00:15:00"), "no time zone"),
        (dict(good, close=float("nan")), "finite number"), (dict(good, low=-1.0), "positive"),
        (dict(good, high=1.2), "do not contain"), (dict(good, volume=-1.0), "negative"),
        (dict(good, openTime=STEP + 1), "not on the"),
        (dict(good, closeTime=5 * STEP), "closeTime does not match"),
    ]
    for raw, needle in bad:
        with pytest.raises(RequestRejected, match=needle):
            parse_candle(raw, STEP, "c")
    with pytest.raises(RequestRejected, match="has not closed yet"):
        parse_candle(good, STEP, "c", now_ms=3 * STEP + 10)
    with pytest.raises(RequestRejected, match="non-empty"):
        parse_candles([], STEP, 10)
    with pytest.raises(RequestRejected) as info:
        parse_candles([good] * 11, STEP, 10)
    assert info.value.status == 413
    with pytest.raises(RequestRejected, match=r"candles\[1\] is not after"):
        parse_candles([good, good], STEP, 10)


def test_gaps_are_filled_like_silver_or_rewarm_or_rejected() -> None:
    last = Candle(0, 1.0, 1.0, 1.0, 2.0, 1.0)
    assert plan_gap(None, last, STEP, "repair").missing == 0
    assert plan_gap(last, Candle(STEP, 1, 1, 1, 1, 1), STEP, "repair").missing == 0
    plan = plan_gap(last, Candle(3 * STEP, 1, 1, 1, 1, 1), STEP, "repair")
    assert plan.missing == 2 and [c.open_ms for c in plan.filled] == [STEP, 2 * STEP]
    assert plan.filled[0] == Candle(STEP, 2.0, 2.0, 2.0, 2.0, 0.0)
    assert plan_gap(last, Candle(20 * STEP, 1, 1, 1, 1, 1), STEP, "repair").rewarm
    for candle, status in ((Candle(0, 1, 1, 1, 1, 1), 409), (Candle(-STEP, 1, 1, 1, 1, 1), 409),
                           (Candle(3 * STEP, 1, 1, 1, 1, 1), 409)):
        with pytest.raises(RequestRejected) as info:
            plan_gap(last, candle, STEP, "reject")
        assert info.value.status == status


def test_auc_by_ranks_with_ties() -> None:
    assert auc(deque([(0.1, 0.0), (0.9, 1.0)])) == 1.0
    assert auc(deque([(0.5, 0.0), (0.5, 1.0)])) == 0.5
    assert auc(deque([(0.2, 1.0)])) is None


def _model(kind: str, dead_band: float = 0.0) -> ServedModel:
    meta = registry.ModelVersionMetadata(
        name=f"m-{kind}", version="v1", model_type="lightgbm", artifact="model.txt",
        feature_columns=["x"], target={"kind": kind, "horizon": 1}, metrics={}, lineage={},
        created_at=datetime.now(UTC))
    return ServedModel(name=meta.name, version="v1", model_type="lightgbm", feature_columns=["x"],
                       target_kind=kind, threshold=0.5, horizon=1, dead_band=dead_band,
                       metadata=meta, predict=lambda x: x)


def _book(models: dict[str, ServedModel], metric: str = "netReturn", window: int = 100
          ) -> OutcomeBook:
    return OutcomeBook(models, STEP, fee_bps=0.0, slippage_bps=0.0, window=window,
                       champion=next(iter(models)), metric=metric, alpha=0.05, min_samples=10,
                       scale=0.5)


def test_outcomes_skip_what_cannot_be_scored_and_keep_a_window_for_auc() -> None:
    model = _model("direction")
    assert score(model, math.nan, 0.01, 0.0) == Score(None, None)
    assert score(model, 0.7, math.inf, 0.0) == Score(None, None)
    closes = [100.0, 101.0, 99.0, 102.0, 103.0, 101.0, 104.0]
    preds = [math.nan, 0.9, 0.2, 0.6, 0.8, 0.3, 0.5]
    book = _book({"a": model}, window=3)
    for i, (close, p) in enumerate(zip(closes, preds, strict=True)):
        book.observe("S", i * STEP, close, {"a": p})
    # each prediction is scored on the next close (horizon 1); the NaN one is not scored
    outcomes = [(p, 1.0 if c1 > c0 else 0.0)
                for p, c0, c1 in zip(preds, closes, closes[1:], strict=False) if math.isfinite(p)]
    assert book.results["a"].scored == len(outcomes) == 5
    assert list(book.results["a"].pairs) == outcomes[-3:]  # the AUC window holds the last 3
    assert book.summary()["a"]["auc"] == auc(deque(outcomes[-3:]))


def test_the_hit_metric_pairs_only_outcomes_both_variants_have_a_hit_for() -> None:
    """Champion a and challenger b (dead band 0.1 %). Scored on the next close:
    t0 a up / b down, rises 1 %: a hit, b miss, difference -1;
    t1 only a predicted: nothing to pair;
    t2 both predicted, moves 0.05 %: within the band, no hit for either, skipped by ``hit``
    (``netReturn`` pairs it);
    t3 a down / b up, rises 0.95 %: a miss, b hit, difference +1."""
    closes = [100.0, 101.0, 100.0, 100.05, 101.0]
    preds: list[dict[str, float]] = [{"a": 0.7, "b": 0.3}, {"a": 0.7}, {"a": 0.2, "b": 0.8},
                                     {"a": 0.2, "b": 0.8}, {"a": 0.5, "b": 0.5}]
    tests = {}
    for metric in ("hit", "netReturn"):
        book = _book({"a": _model("direction", 0.001), "b": _model("direction", 0.001)}, metric)
        for i, (close, p) in enumerate(zip(closes, preds, strict=True)):
            book.observe("S", i * STEP, close, p)
        (tests[metric],) = book.rollout()
    assert tests["hit"]["samples"] == 2 and tests["hit"]["meanDifference"] == 0.0
    assert tests["netReturn"]["samples"] == 3  # t0, t2, t3: all with a net return each


def test_histograms_merge_and_give_quantiles_within_a_bucket() -> None:
    book = StatsBook()
    for ms in (1.0, 2.0, 3.0, 100.0):
        book.record("a", 200, ms)
    book.record("a", 429, 0.1)
    other = StatsBook()
    other.merge(book.drain())
    assert book.drain() == {}
    summary = other.variants["a"].summary()
    assert summary["requests"] == 5 and summary["errors"] == 1
    assert 1.6 <= summary["p50Ms"] <= 2.5 and summary["p99Ms"] >= 80
    assert quantile([0] * (len(EDGES_MS) + 1), 0.5) is None
    assert bucket_of(0.0) == 0 and VariantStats().summary()["p50Ms"] is None


def test_layout_env_and_state_dir_limit(tmp_path: object) -> None:
    env = cluster_env("/tmp/mlta-hp-x", stats_port=1, metrics_port=2)
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1" and env["RAY_SERVE_HAPROXY_STATS_PORT"] == "1"
    assert env["RAY_SERVE_HAPROXY_SOCKET_PATH"] == "/tmp/mlta-hp-x/admin.sock"
    assert env["RAY_SERVE_HAPROXY_METRICS_ENABLED"] == "0"  # HAProxy's exporter counts instead
    assert replica_env()["RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP"] == "0"
    with pytest.raises(ServingError, match="too long"):
        cluster_env("/" + "x" * MAX_STATE_DIR)
    assert haproxy_pids("/tmp/no-such-haproxy-dir") == []
