"""How every kind is wired into kopf: one loop per CR, the watch feeding wake-ups, a finalizer.

For each kind, :func:`register_kind` registers two handlers, and the module one for all:

- ``observe`` (``on.event``): every watch event goes to :meth:`Wakeups.observe`, which wakes
  the CR itself on a spec change and the CRs depending on it on a readiness change, and to
  :meth:`Loops.observe`, which starts the CR's loop (:func:`mlta_operator.loop.follow`) on
  the first event it sees of it (creation, or the listing after an operator restart),
  refreshes the loop's view of it on every event and stops the loop on its deletion mark;
- ``delete`` (``on.delete``, so kopf holds a finalizer): waits for the loop to end, then
  stops the CR's Ray job or deletes its Serve app;
- ``stop_loops`` (``on.cleanup``): at operator exit, every loop is stopped.

The loops are asyncio tasks of ours, not kopf daemons: a daemon costs ~40 KB per CR
(see :mod:`mlta_operator.loops`). Handlers only translate kopf's calls; everything they call
is tested without kopf.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import kopf

from mlta.errors import MltaError
from mlta.logs import correlated
from mlta.specs import API_GROUP, API_VERSION

from .. import metrics, naming
from ..kube import Ref
from ..loop import Context, Reconciler, follow

GROUP, VERSION = API_GROUP, API_VERSION
log = logging.getLogger("mlta_operator")

#: Cleans up after a deleted CR (stop its job, delete its Serve app); blocks, runs in a thread.
Finalizer = Callable[[dict[str, Any], Context], None]

#: How long a deletion waits for the CR's loop to finish a reconcile in flight.
LOOP_EXIT_SECONDS = 60.0
#: How long the loops get at operator exit to finish a reconcile in flight.
STOP_GRACE_SECONDS = 5.0


def context(memo: Any) -> Context:
    """The operator's shared context, put in kopf's memo by the start-up handler."""
    ctx = memo.get("context")
    if not isinstance(ctx, Context):
        raise kopf.TemporaryError("operator context not configured yet", delay=1)
    return ctx


def posting_context() -> contextvars.Context:
    """A context for a CR's loop with only what ``kopf.warn`` reads (its event queue, loop and
    settings), taken from the handler's context.

    A task copies its creator's context, and kopf's handler context holds the whole cause of
    the event (its full body, managedFields and all): ~13 KB kept alive per CR for as long as
    its loop runs. These three variables are kopf's (1.45, pinned); a test checks they exist.
    """
    from kopf._core.engines import posting

    clean = contextvars.Context()
    for var in (posting.event_queue_var, posting.event_queue_loop_var, posting.settings_var):
        try:
            clean.run(var.set, var.get())  # type: ignore[arg-type]
        except LookupError:  # outside kopf (a test calling the handler): nothing to carry
            pass
    return clean


def post_warning(body: dict[str, Any], reason: str, message: str) -> None:
    """A Kubernetes Warning event on the CR (``kubectl describe`` shows it)."""
    kopf.warn(kopf.Body(cast(kopf.RawBody, body)), reason=reason, message=message)


@contextlib.contextmanager
def handling(memo: Any, body: Any) -> Iterator[None]:
    """Correlate logs with the CR's generation; map mlta errors onto kopf's retry semantics."""
    meta = body["metadata"]
    kind = body["kind"]
    cid = naming.correlation_id(meta.get("uid", ""), int(meta.get("generation", 1)))
    started = time.perf_counter()
    result = "error"
    with correlated(cid):
        try:
            yield
            result = "ok"
        except kopf.PermanentError:
            raise
        except MltaError as exc:
            if exc.retryable:
                result = "retry"
                raise kopf.TemporaryError(str(exc), delay=context(memo).settings.operator.retry_delay_seconds
                                          ) from exc
            raise kopf.PermanentError(str(exc)) from exc
        finally:
            metrics.RECONCILES.labels(kind, result).inc()
            metrics.RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def register_kind(kind: str, plural: str, reconcile: Reconciler, finalize: Finalizer) -> None:
    """Register ``observe`` and ``delete`` for one kind (see the module doc)."""

    @kopf.on.event(GROUP, VERSION, plural, id="observe")
    async def observe(body: kopf.Body, type: str | None, memo: Any, **_: Any) -> None:
        ctx = memo.get("context")
        if not isinstance(ctx, Context):
            return
        deleted = type == "DELETED"
        ctx.wakeups.observe(body, deleted=deleted)
        ctx.loops.observe(body, deleted, lambda live, stopped: follow(
            live, ctx, reconcile, stopped, post_warning), context=posting_context)

    @kopf.on.delete(GROUP, VERSION, plural, id="delete")
    async def delete(body: kopf.Body, memo: Any, **_: Any) -> None:
        ctx = context(memo)
        ref = Ref.of(body)
        ctx.loops.stop(ref)  # observe has done so already, unless kopf called us first
        if not await ctx.wakeups.until_unregistered(ref, LOOP_EXIT_SECONDS):
            raise kopf.TemporaryError(f"{ref}: a reconcile is still running", delay=1)
        with handling(memo, body):
            await asyncio.to_thread(finalize, dict(body), ctx)
            metrics.forget(kind, ref.namespace, ref.name)


@kopf.on.cleanup()
async def stop_loops(memo: Any, **_: Any) -> None:
    """Operator exit: every loop ends after its reconcile in flight (cancelled after the grace)."""
    ctx = memo.get("context")
    if isinstance(ctx, Context):
        await ctx.loops.stop_all(STOP_GRACE_SECONDS)
