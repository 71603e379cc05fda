"""The operator gives the memory of a burst back to the system once the burst is over."""

from __future__ import annotations

import asyncio
import platform

import kopf
import pytest

from mlta_operator import memory, metrics
from mlta_operator.handlers import startup


def test_trim_after_a_burst_only_once_it_is_over() -> None:
    """Activity in one period, then a quiet one: one trim; at rest: none."""
    counts = iter([0, 0, 5, 9, 9, 9, 9, 12, 12, 12])
    seen: list[float] = []
    trims: list[float] = []

    def activity() -> float:
        seen.append(next(counts))
        return seen[-1]

    def release() -> bool:
        trims.append(seen[-1])
        return True

    async def scenario() -> None:
        task = asyncio.create_task(memory.trim_after_bursts(0.001, activity, release))
        while len(seen) < 10:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(scenario())
    # 0 start, 0 quiet (never busy: no trim), 5 and 9 busy, 9 quiet: trim, 9 9 rest, 12 busy, 12 trim
    assert trims == [9, 12]


def test_reconciles_counts_every_kind_and_result() -> None:
    before = memory.reconciles()
    metrics.RECONCILES.labels("DataPipeline", "ok").inc()
    metrics.RECONCILES.labels("ModelDeployment", "retry").inc(2)
    assert memory.reconciles() == before + 3


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trim_calls_glibc() -> None:
    assert memory.trim() is True


def test_trim_without_malloc_trim_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_TRIM", None)
    assert memory.trim() is False
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: (_ for _ in ()).throw(OSError(name)))
    assert memory._libc_trim() is None


def test_housekeeping_starts_with_the_operator_and_stops_with_it() -> None:
    async def scenario() -> None:
        memo = kopf.Memo()
        await startup.start_housekeeping(memo=memo)
        task = memo["housekeeping"]
        assert isinstance(task, asyncio.Task) and not task.done()
        await startup.stop_housekeeping(memo=memo)
        assert task.cancelled()
        await startup.stop_housekeeping(memo=kopf.Memo())  # never started: nothing to stop
    asyncio.run(scenario())
