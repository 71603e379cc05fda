"""Allocating model versions ``v1, v2, ...`` safely across concurrent trainers.

Object stores have no exclusive create and pyarrow's filesystems expose none either, so the
allocation is a claim-and-check election that needs only put, list and delete with
read-after-write consistency (POSIX files, S3 since 2020):

1. pick ``n`` = one past the highest owned number, skipping numbers that hold a claim
   left by a crashed trainer (see :class:`_Staleness`);
2. write the claim ``_claims/{n}/{token}.{nonce}.claim`` (token = hash of the submission
   id, nonce = this attempt, so a twin run of the same submission never deletes ours);
3. list ``_claims/{n}/``: if every claim there is our token's, version ``n`` is ours, recorded in
   ``_claims/{n}/{token}.owner``; otherwise withdraw our claim, wait a jittered moment and
   retry (usually the same ``n``, so contention leaves no gaps in the numbering).

Why it is safe: a winner never withdraws. If A's listing did not show B's claim, B wrote
it after A listed, hence after A wrote, so B's listing shows A's claim and B backs off.
Two trainers that see each other both back off and retry with random delays.

Idempotency: the submission id is deterministic per CR generation, so a rerun finds
its ``.owner`` record (or its lone claim left by a crash before that record) and gets the
same version back instead of a new one.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass

from .. import storage
from ..errors import StorageError

CLAIMS_DIR = "_claims"
OWNER_SUFFIX = ".owner"
CLAIM_SUFFIX = ".claim"
#: A rival claim unowned for this long (seen by us) was left by a crashed trainer.
STALE_SECONDS = 5.0
#: A claim file older than this is from a crashed trainer whatever we have seen.
OLD_SECONDS = 300.0
ALLOCATE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Allocation:
    version: str
    reused: bool  # the submission already owned this version (a rerun)


def _token(submission_id: str) -> str:
    return hashlib.sha256(submission_id.encode()).hexdigest()[:40]


class _Claims:
    """The ``_claims`` tree of one model name."""

    def __init__(self, storage_uri: str, name: str) -> None:
        self.uri = storage.join(storage_uri, "registry", name, CLAIMS_DIR)
        self.fs, self.path = storage.resolve(self.uri)
        self.nonce = uuid.uuid4().hex[:16]
        try:  # directories are never removed, so listing never races their creation
            self.fs.create_dir(self.path, recursive=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.uri}: {exc}",
                               hint="check the storage URI and permissions") from exc

    def scan(self) -> dict[int, dict[str, float]]:
        """Number -> {file name: modification time (epoch s)} of claims and owner records."""
        import pyarrow.fs as pafs

        for attempt in range(5):
            try:
                infos = self.fs.get_file_info(
                    pafs.FileSelector(self.path, recursive=True, allow_not_found=True))
                break
            except FileNotFoundError:
                # A temporary file renamed away between readdir and stat: list again.
                if attempt == 4:
                    raise
            except OSError as exc:
                raise StorageError(f"listing {self.uri} failed: {exc}") from exc
        out: dict[int, dict[str, float]] = {}
        now = time.time()
        for info in infos:
            if info.type != pafs.FileType.File or info.base_name.startswith("."):
                continue
            parent = info.path.rsplit("/", 2)[-2]
            if parent.isdigit():
                mtime = info.mtime.timestamp() if info.mtime is not None else now
                out.setdefault(int(parent), {})[info.base_name] = mtime
        return out

    def files(self, number: int) -> dict[str, float]:
        return self.scan().get(number, {})

    def claim_name(self, token: str) -> str:
        return f"{token}.{self.nonce}{CLAIM_SUFFIX}"

    def claim(self, number: int, token: str, submission_id: str) -> None:
        storage.write_bytes_atomic(
            storage.join(self.uri, str(number), self.claim_name(token)), submission_id.encode())

    def withdraw(self, number: int, file_name: str) -> None:
        try:
            self.fs.delete_file(f"{self.path}/{number}/{file_name}")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"withdrawing claim {number}/{file_name} failed: {exc}") from exc

    def owner(self, number: int) -> str | None:
        """The submission id recorded as owner of ``number``, if any."""
        owners = [f for f in self.files(number) if f.endswith(OWNER_SUFFIX)]
        if not owners:
            return None
        return storage.read_bytes(storage.join(self.uri, str(number), owners[0])).decode()

    def set_owner(self, number: int, token: str, submission_id: str) -> None:
        storage.write_bytes_atomic(
            storage.join(self.uri, str(number), token + OWNER_SUFFIX), submission_id.encode())


def _claim_files(files: dict[str, float]) -> list[str]:
    return [f for f in files if f.endswith(CLAIM_SUFFIX)]


def _claims_of(files: dict[str, float]) -> set[str]:
    """The tokens (submissions) holding a claim among ``files``."""
    return {f.split(".", 1)[0] for f in _claim_files(files)}


def _owned(files: dict[str, float]) -> bool:
    return any(f.endswith(OWNER_SUFFIX) for f in files)


def _owned_by(tree: dict[int, dict[str, float]], token: str) -> int | None:
    return next((n for n in sorted(tree) if token + OWNER_SUFFIX in tree[n]), None)


def _previous(claims: _Claims, token: str, submission_id: str) -> int | None:
    """The version this submission already holds (a rerun), or None; drops stale claims."""
    tree = claims.scan()
    owned = _owned_by(tree, token)
    if owned is not None:
        return owned
    mine = [n for n in sorted(tree) if token in _claims_of(tree[n])]
    for number in mine:
        # Our claim survived a crash. With no owner and no rival claim we had won (a winner
        # is the only claimant); otherwise it is a lost claim and goes away.
        if not _owned(tree[number]) and _claims_of(claims.files(number)) == {token}:
            claims.set_owner(number, token, submission_id)
            return number
        for name in _claim_files(tree[number]):
            if name.split(".", 1)[0] == token:
                claims.withdraw(number, name)
    return None


class _Staleness:
    """Tells a contender that is alive (withdraws within moments) from a crashed one.

    A live trainer holds a losing claim only between its write and its listing, and a winner
    records its ``.owner`` file right after; a rival claim that stays unowned longer than
    ``after`` seconds (by our own clock, so storage clock skew does not matter) or whose file
    is older than ``OLD_SECONDS`` was left by a crash, and its number is skipped.
    """

    def __init__(self, after: float) -> None:
        self.after = after
        self.first_seen: dict[tuple[int, str], float] = {}

    def blocked(self, number: int, files: dict[str, float], token: str) -> bool:
        if _owned(files):
            return True
        now_wall, now = time.time(), time.monotonic()
        for rival in _claim_files(files):
            if rival.split(".", 1)[0] == token:
                continue
            seen = self.first_seen.setdefault((number, rival), now)
            if now - seen > self.after or now_wall - files[rival] > OLD_SECONDS:
                return True
        return False


def allocate_version(
    storage_uri: str, name: str, submission_id: str, *, stale_after: float = STALE_SECONDS
) -> Allocation:
    """The version for this submission: the one it already holds, or the next free ``v{n}``."""
    if not submission_id:
        raise StorageError("a submission id is required to allocate a model version")
    claims = _Claims(storage_uri, name)
    token = _token(submission_id)
    held = _previous(claims, token, submission_id)
    if held is not None:
        return Allocation(f"v{held}", reused=True)
    rng = random.Random()
    staleness = _Staleness(stale_after)
    deadline = time.monotonic() + ALLOCATE_TIMEOUT
    attempt = 0
    while time.monotonic() < deadline:
        tree = claims.scan()
        owned = _owned_by(tree, token)  # the same submission, running twice at once
        if owned is not None:
            return Allocation(f"v{owned}", reused=True)
        number = max((n for n, f in tree.items() if _owned(f)), default=0) + 1
        while staleness.blocked(number, tree.get(number, {}), token):
            number += 1
        claims.claim(number, token, submission_id)
        if _claims_of(claims.files(number)) == {token}:
            claims.set_owner(number, token, submission_id)
            return Allocation(f"v{number}", reused=False)
        claims.withdraw(number, claims.claim_name(token))
        # Back off for a random moment so that contenders stop colliding.
        attempt += 1
        time.sleep(rng.uniform(0.002, 0.02) * min(attempt, 10))
    raise StorageError(
        f"could not allocate a version of {name!r} within {ALLOCATE_TIMEOUT:.0f}s",
        hint="too many trainers register this model at once; retry the TrainingJob",
    )


def owner_of(storage_uri: str, name: str, version: str) -> str | None:
    """The submission id that owns ``version`` (e.g. ``v3``), if any."""
    if not version.startswith("v") or not version[1:].isdigit():
        return None
    return _Claims(storage_uri, name).owner(int(version[1:]))


def find_owned(storage_uri: str, name: str, submission_id: str) -> str | None:
    """The version owned by ``submission_id``, read-only (no claims touched), or None."""
    number = _owned_by(_Claims(storage_uri, name).scan(), _token(submission_id))
    return None if number is None else f"v{number}"
