"""The A/B router: weights, stickiness, zero weights, validation."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from mlta.errors import ServingError
from mlta.serving.router import BUCKETS, Arm, Router, key_bucket, validate_arms


def test_keyed_split_converges_to_weights_on_10k_keys() -> None:
    router = Router([Arm("champion", 70), Arm("challenger", 25), Arm("canary", 5)])
    counts = Counter(router.choose(f"client-{i}") for i in range(10_000))
    assert abs(counts["champion"] / 10_000 - 0.70) < 0.02
    assert abs(counts["challenger"] / 10_000 - 0.25) < 0.02
    assert abs(counts["canary"] / 10_000 - 0.05) < 0.01


def test_unkeyed_split_converges_and_is_reproducible_with_a_seed() -> None:
    arms = [Arm("a", 80), Arm("b", 20)]
    router = Router(arms, seed=3)
    sequence = [router.choose() for _ in range(10_000)]
    again = Router(arms, seed=3)
    assert [again.choose() for _ in range(10_000)] == sequence
    share = sequence.count("b") / len(sequence)
    assert abs(share - 0.20) < 0.02


def test_same_key_always_same_variant() -> None:
    router = Router([Arm("a", 50), Arm("b", 50)], seed=1)
    for i in range(200):
        key = f"BTC/USDT-{i}"
        first = router.choose(key)
        assert all(router.choose(key) == first for _ in range(5))
    # keys are spread over both variants, not all on one
    assert {router.choose(f"k{i}") for i in range(200)} == {"a", "b"}


def test_key_bucket_is_stable_across_processes() -> None:
    keys = ["client-1", "ETH/BTC", "ünïcode-κλειδί", ""]
    code = ("from mlta.serving.router import key_bucket;"
            f"print([key_bucket(k) for k in {keys!r}])")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == str([key_bucket(k) for k in keys])
    assert all(0 <= key_bucket(k) < BUCKETS for k in keys)


def test_not_sticky_ignores_the_key() -> None:
    router = Router([Arm("a", 50), Arm("b", 50)], sticky=False, seed=5)
    assert {router.choose("same-key") for _ in range(200)} == {"a", "b"}


def test_zero_weight_variant_never_receives_traffic() -> None:
    router = Router([Arm("off", 0), Arm("on", 100), Arm("shadow", 0)], seed=2)
    keyed = {router.choose(f"k{i}") for i in range(5_000)}
    unkeyed = {router.choose() for _ in range(5_000)}
    assert keyed == unkeyed == {"on"}
    assert all(router.for_bucket(b) == "on" for b in range(BUCKETS))


def test_buckets_are_laid_out_in_declared_order() -> None:
    router = Router([Arm("a", 30), Arm("b", 0), Arm("c", 70)])
    assert [router.for_bucket(b) for b in (0, 29, 30, 99)] == ["a", "a", "c", "c"]
    assert router.describe() == "a=30,b=0,c=70"
    assert router.weights == {"a": 30, "b": 0, "c": 70}
    with pytest.raises(ServingError):
        router.for_bucket(100)


@pytest.mark.parametrize(("arms", "needle"), [
    ([], "no variants"),
    ([Arm("a", 60), Arm("b", 30)], "sum to 100, got 90"),
    ([Arm("a", 50), Arm("a", 50)], "repeated: a"),
    ([Arm("a", 150), Arm("b", -50)], "out of range"),
])
def test_invalid_splits_are_rejected_with_the_fix(arms: list[Arm], needle: str) -> None:
    with pytest.raises(ServingError) as info:
        validate_arms(arms)
    assert needle in str(info.value)
    with pytest.raises(ServingError):
        Router(arms)
