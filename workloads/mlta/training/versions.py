"""Allocating model versions ``v1, v2, ...`` safely across concurrent trainers.

Object stores have no exclusive create and pyarrow's filesystems expose none either, so the
allocation is a claim-and-check election that needs only put, list and delete with
read-after-write consistency (POSIX files, S3 since 2020):

1. pick ``n`` = one past the highest number anyone has claimed;
2. write the claim ``_claims/{n}/{token}.claim`` (token = hash of the submission id);
3. list ``_claims/{n}/``: if our claim is the only one, version ``n`` is ours, recorded in
   ``_claims/{n}/owner.json``; otherwise withdraw our claim, wait a jittered moment, retry.

Why it is safe: a winner never withdraws. If A's listing did not show B's claim, B wrote
it after A listed, hence after A wrote, so B's listing shows A's claim and B backs off.
Two trainers that see each other both back off and retry with random delays.

Idempotency: the submission id is deterministic per CR generation, so a rerun finds
``owner.json`` naming it (or its lone claim left by a crash before owner.json) and gets the
same version back instead of a new one.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass

from .. import storage
from ..errors import StorageError

CLAIMS_DIR = "_claims"
OWNER_FILE = "owner.json"
CLAIM_SUFFIX = ".claim"
MAX_ATTEMPTS = 60


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

    def scan(self) -> dict[int, set[str]]:
        """Number -> names of the files in its directory (claims and owner record)."""
        import pyarrow.fs as pafs

        try:
            infos = self.fs.get_file_info(
                pafs.FileSelector(self.path, recursive=True, allow_not_found=True))
        except OSError as exc:
            raise StorageError(f"listing {self.uri} failed: {exc}") from exc
        out: dict[int, set[str]] = {}
        for info in infos:
            if info.type != pafs.FileType.File or info.base_name.startswith("."):
                continue
            parent = info.path.rsplit("/", 2)[-2]
            if parent.isdigit():
                out.setdefault(int(parent), set()).add(info.base_name)
        return out

    def files(self, number: int) -> set[str]:
        return self.scan().get(number, set())

    def claim(self, number: int, token: str, submission_id: str) -> None:
        storage.write_bytes_atomic(
            storage.join(self.uri, str(number), token + CLAIM_SUFFIX), submission_id.encode())

    def withdraw(self, number: int, token: str) -> None:
        try:
            self.fs.delete_file(f"{self.path}/{number}/{token}{CLAIM_SUFFIX}")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"withdrawing claim {number}/{token} failed: {exc}") from exc

    def owner(self, number: int) -> str | None:
        uri = storage.join(self.uri, str(number), OWNER_FILE)
        if not storage.exists(uri):
            return None
        return str(storage.read_json(uri).get("submissionId"))

    def set_owner(self, number: int, submission_id: str) -> None:
        storage.write_json_atomic(storage.join(self.uri, str(number), OWNER_FILE),
                                  {"submissionId": submission_id})


def _claims_of(files: set[str]) -> set[str]:
    return {f[: -len(CLAIM_SUFFIX)] for f in files if f.endswith(CLAIM_SUFFIX)}


def _previous(claims: _Claims, token: str, submission_id: str) -> int | None:
    """The version this submission already holds (a rerun), or None; drops stale claims."""
    tree = claims.scan()
    for number in sorted(tree):
        if OWNER_FILE in tree[number] and claims.owner(number) == submission_id:
            return number
    mine = [n for n in sorted(tree) if token + CLAIM_SUFFIX in tree[n]]
    for number in mine:
        # Our claim survived a crash. With no owner and no rival claim we had won (a winner
        # is the only claimant); otherwise it is a lost claim and goes away.
        if OWNER_FILE not in tree[number] and _claims_of(claims.files(number)) == {token}:
            claims.set_owner(number, submission_id)
            return number
        claims.withdraw(number, token)
    return None


def allocate_version(storage_uri: str, name: str, submission_id: str) -> Allocation:
    """The version for this submission: the one it already holds, or a fresh ``v{n}``."""
    if not submission_id:
        raise StorageError("a submission id is required to allocate a model version")
    claims = _Claims(storage_uri, name)
    token = _token(submission_id)
    held = _previous(claims, token, submission_id)
    if held is not None:
        return Allocation(f"v{held}", reused=True)
    rng = random.Random()
    for attempt in range(MAX_ATTEMPTS):
        number = max(claims.scan(), default=0) + 1
        claims.claim(number, token, submission_id)
        if _claims_of(claims.files(number)) == {token}:
            claims.set_owner(number, submission_id)
            return Allocation(f"v{number}", reused=False)
        claims.withdraw(number, token)
        # Back off for a random moment so that two contenders stop colliding.
        time.sleep(rng.uniform(0.005, 0.02) * (1 + min(attempt, 10)))
    raise StorageError(
        f"could not allocate a version of {name!r} after {MAX_ATTEMPTS} attempts",
        hint="too many trainers register this model at once; retry the TrainingJob",
    )


def owner_of(storage_uri: str, name: str, version: str) -> str | None:
    """The submission id that owns ``version`` (e.g. ``v3``), if any."""
    if not version.startswith("v") or not version[1:].isdigit():
        return None
    return _Claims(storage_uri, name).owner(int(version[1:]))


def find_owned(storage_uri: str, name: str, submission_id: str) -> str | None:
    """The version owned by ``submission_id``, read-only (no claims touched), or None."""
    claims = _Claims(storage_uri, name)
    tree = claims.scan()
    for number in sorted(tree):
        if OWNER_FILE in tree[number] and claims.owner(number) == submission_id:
            return f"v{number}"
    return None
