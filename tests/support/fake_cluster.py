"""An in-memory Kubernetes API for mlta CRs: what the operator's core reads and writes.

It keeps the API server's rules that reconciliation relies on: ``metadata.generation``
moves only when the spec changes, every write gets a new ``resourceVersion``, status is a
JSON merge patch on the status subresource (lists are replaced, ``None`` deletes a key),
a missing object is a 404 (``get_resource`` returns None, a status patch fails with
:class:`BackendError` as the real helper does), and deleting an object that holds
finalizers only sets ``deletionTimestamp`` until the last finalizer is removed.

Every change is announced to subscribers as a watch event (``ADDED``, ``MODIFIED``,
``DELETED``), which is how the loop tests drive the operator's wake-ups. Faults are
injected per operation with :meth:`FakeCluster.fail_next`.
"""

from __future__ import annotations

import copy
import itertools
import threading
import uuid
from collections.abc import Callable
from typing import Any

from mlta.errors import BackendError
from mlta.specs import API_GROUP, API_VERSION

WatchFn = Callable[[str, dict[str, Any]], None]
Key = tuple[str, str, str]


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch: nested objects merge, lists replace, None removes."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class FakeCluster:
    """Implements ``mlta_operator.kube.Cluster`` plus what a test needs to play the user."""

    def __init__(self) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str, str]] = []   # (operation, kind, namespace, name)
        self._versions = itertools.count(1)
        self._faults: dict[str, list[Exception]] = {}
        self._watchers: list[WatchFn] = []
        self._lock = threading.RLock()   # loops call in from worker threads
        #: Called with (kind, namespace, name) on every read, before it is answered: a test
        #: uses it to change the world in the middle of a reconcile.
        self.on_get: Callable[[str, str, str], None] | None = None

    # -- the Cluster protocol ---------------------------------------------------------------
    def get_resource(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        if self.on_get is not None:
            self.on_get(kind, namespace, name)
        with self._lock:
            self._record("get", kind, namespace, name)
            obj = self.objects.get((kind, namespace, name))
            return copy.deepcopy(obj) if obj is not None else None

    def patch_status(self, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._record("patch_status", kind, namespace, name)
            obj = self.objects.get((kind, namespace, name))
            if obj is None:
                raise BackendError(f"patching {kind} {namespace}/{name} status failed: Not Found")
            obj["status"] = merge_patch(obj.get("status") or {}, status)
            return self._modified(obj)

    # -- the user's side --------------------------------------------------------------------
    def create(self, kind: str, name: str, spec: dict[str, Any], namespace: str = "default",
               finalizers: tuple[str, ...] = ()) -> dict[str, Any]:
        with self._lock:
            key = (kind, namespace, name)
            if key in self.objects:
                raise AssertionError(f"{kind} {namespace}/{name} already exists")
            obj: dict[str, Any] = {
                "apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": kind,
                "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4()),
                             "generation": 1, "resourceVersion": str(next(self._versions)),
                             "finalizers": list(finalizers)},
                "spec": copy.deepcopy(spec),
            }
            self.objects[key] = obj
            snapshot = copy.deepcopy(obj)
        self._announce("ADDED", snapshot)
        return snapshot

    def update_spec(self, kind: str, name: str, spec: dict[str, Any],
                    namespace: str = "default") -> dict[str, Any]:
        """Replace the spec; the generation moves only when it really changed."""
        with self._lock:
            obj = self.objects[(kind, namespace, name)]
            if obj["spec"] != spec:
                obj["spec"] = copy.deepcopy(spec)
                obj["metadata"]["generation"] += 1
            return self._modified(obj)

    def set_status(self, kind: str, name: str, status: dict[str, Any],
                   namespace: str = "default") -> dict[str, Any]:
        """Play another controller: replace status wholesale (for dependencies in tests)."""
        with self._lock:
            obj = self.objects[(kind, namespace, name)]
            obj["status"] = copy.deepcopy(status)
            return self._modified(obj)

    def delete(self, kind: str, name: str, namespace: str = "default") -> None:
        """Mark for deletion while finalizers remain; remove the object when none do."""
        with self._lock:
            obj = self.objects[(kind, namespace, name)]
            if obj["metadata"].get("finalizers"):
                obj["metadata"].setdefault("deletionTimestamp", "2026-01-01T00:00:00Z")
                self._modified(obj)
                return
            del self.objects[(kind, namespace, name)]
            snapshot = copy.deepcopy(obj)
        self._announce("DELETED", snapshot)

    def remove_finalizer(self, kind: str, name: str, finalizer: str,
                         namespace: str = "default") -> None:
        with self._lock:
            obj = self.objects[(kind, namespace, name)]
            obj["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"]["finalizers"]:
                del self.objects[(kind, namespace, name)]
                snapshot = copy.deepcopy(obj)
            else:
                self._modified(obj)
                return
        self._announce("DELETED", snapshot)

    def status(self, kind: str, name: str, namespace: str = "default") -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.objects[(kind, namespace, name)].get("status") or {})

    # -- faults and watches -----------------------------------------------------------------
    def fail_next(self, operation: str, exc: Exception, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` ("get", "patch_status") raise ``exc``."""
        self._faults.setdefault(operation, []).extend([exc] * times)

    def subscribe(self, fn: WatchFn) -> None:
        self._watchers.append(fn)

    def count(self, operation: str, kind: str | None = None, name: str | None = None) -> int:
        return sum(1 for op, k, _, n in self.calls
                   if op == operation and kind in (None, k) and name in (None, n))

    def _record(self, operation: str, kind: str, namespace: str, name: str) -> None:
        self.calls.append((operation, kind, namespace, name))
        pending = self._faults.get(operation)
        if pending:
            raise pending.pop(0)

    def _modified(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["resourceVersion"] = str(next(self._versions))
        snapshot = copy.deepcopy(obj)
        self._announce("MODIFIED", snapshot)
        return copy.deepcopy(snapshot)

    def _announce(self, event: str, body: dict[str, Any]) -> None:
        for fn in list(self._watchers):
            fn(event, copy.deepcopy(body))
