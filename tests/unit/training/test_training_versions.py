"""Version allocation: unique under concurrency (threads and processes), idempotent reruns."""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlta import storage
from mlta.errors import MltaError
from mlta.training.versions import (
    CLAIMS_DIR,
    allocate_version,
    find_owned,
    owner_of,
)


def _claims(root: str, name: str, number: int) -> list[str]:
    base = Path(root.removeprefix("file://")) / "registry" / name / CLAIMS_DIR / str(number)
    return sorted(p.name for p in base.iterdir()) if base.exists() else []


def test_first_version_is_v1_and_a_rerun_gets_it_back(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    first = allocate_version(root, "btc", "sub-a")
    assert (first.version, first.reused) == ("v1", False)
    assert allocate_version(root, "btc", "sub-b").version == "v2"
    again = allocate_version(root, "btc", "sub-a")
    assert (again.version, again.reused) == ("v1", True)
    assert owner_of(root, "btc", "v2") == "sub-b"
    assert find_owned(root, "btc", "sub-b") == "v2"
    assert find_owned(root, "btc", "sub-c") is None
    assert allocate_version(root, "eth", "sub-a").version == "v1"  # names are independent


def test_threads_never_share_a_version(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    workers, each = 8, 4
    barrier = threading.Barrier(workers)

    def work(worker: int) -> list[str]:
        barrier.wait()
        return [allocate_version(root, "m", f"t{worker}-{i}").version for i in range(each)]

    with ThreadPoolExecutor(workers) as pool:
        versions = [v for chunk in pool.map(work, range(workers)) for v in chunk]
    assert sorted(versions, key=lambda v: int(v[1:])) == [f"v{n}" for n in range(1, 33)]


def _process_worker(root: str, worker: int, each: int, barrier, results) -> None:
    barrier.wait()
    for i in range(each):
        sid = f"p{worker}-{i}"
        try:
            results.put((sid, allocate_version(root, "m", sid).version))
        except (MltaError, OSError) as exc:  # reported to the test instead of hanging it
            results.put((sid, f"error: {exc!r}"))


def test_processes_never_share_a_version(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    ctx = mp.get_context("fork")
    workers, each = 4, 5
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(root, w, each, barrier, results))
             for w in range(workers)]
    for proc in procs:
        proc.start()
    got = dict(results.get(timeout=60) for _ in range(workers * each))
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert sorted(got.values(), key=lambda v: int(v[1:])) == [f"v{n}" for n in range(1, 21)]
    # every version is recorded as owned by the submission that got it
    assert all(owner_of(root, "m", version) == sid for sid, version in got.items())


def test_same_submission_concurrently_gets_one_version(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    barrier = threading.Barrier(6)

    def work(_: int) -> str:
        barrier.wait()
        return allocate_version(root, "m", "same").version

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(work, range(6))) == {"v1"}


def test_lone_claim_left_by_a_crash_is_taken_back_by_the_rerun(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    allocate_version(root, "m", "a")
    # "b" crashed after claiming v2 and before recording itself as its owner
    from mlta.training.versions import _Claims, _token

    _Claims(root, "m").claim(2, _token("b"), "b")
    # a live rival would withdraw within moments; this one stays, so "c" skips v2
    assert allocate_version(root, "m", "c", stale_after=0.3).version == "v3"
    assert allocate_version(root, "m", "b").version == "v2"
    assert owner_of(root, "m", "v2") == "b"


def test_losing_claim_left_by_a_crash_is_withdrawn(tmp_path: Path) -> None:
    root = f"file://{tmp_path}"
    allocate_version(root, "m", "a")
    from mlta.training.versions import _Claims, _token

    _Claims(root, "m").claim(1, _token("b"), "b")  # b lost v1 to a and crashed
    got = allocate_version(root, "m", "b")
    assert (got.version, got.reused) == ("v2", False)
    assert not [f for f in _claims(root, "m", 1) if f.startswith(_token("b"))]
    assert owner_of(root, "m", "v1") == "a"
    assert not storage.exists(storage.join(root, "registry", "m", "v1", "metadata.json"))
