"""Put a document back into the pipeline: :func:`reprocess`.

A received file (X12, XML or JSON) goes back to ``received`` and is processed again
from the start; a transaction set of an X12 file goes back to ``mapped`` (its ERP
push is idempotent); an outbound document goes back to ``queued`` and is sent again.
``force`` lets a file flagged ``duplicate`` through the duplicate check once (it is
recorded in the ``reprocess`` event, which the check reads). Attempts start from
zero, and the request is written to the audit log.

Reprocessing is idempotent: a file's sets are matched to the child documents
already there (no second child), no second ack is queued, and the ERP is never
asked for the same order twice (it answers "already there").

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from gateway.errors import UsageError
from gateway.storage import State

if TYPE_CHECKING:
    from gateway.pipeline.receiver import Wakeup
    from gateway.storage import DocumentRecord, Store


def reprocess_target(doc: DocumentRecord) -> State:
    """The state a reprocessed document goes back to.

    Raises:
        UsageError: the document cannot be reprocessed on its own (a set without
            canonical data: reprocess its file).
    """
    if doc.direction == "out":
        return State.QUEUED
    if doc.parent_id is None:
        return State.RECEIVED
    if doc.canonical is None:
        raise UsageError(
            f"document #{doc.id} is a transaction set that was never mapped: "
            f"reprocess its file, document #{doc.parent_id}"
        )
    return State.MAPPED


async def reprocess(
    store: Store,
    doc_id: int,
    actor: str,
    force: bool = False,
    *,
    wakeup: Wakeup | None = None,
    now: dt.datetime | None = None,
) -> DocumentRecord:
    """Send document ``doc_id`` through the pipeline again; return it as it is now.

    Raises:
        UsageError: no such document, it is being processed right now, or it cannot
            be reprocessed on its own.
    """
    doc = await store.get(doc_id)
    if doc is None:
        raise UsageError(f"no document #{doc_id}")
    now = now or dt.datetime.now(dt.UTC)
    if doc.lease_owner and doc.lease_expires_at is not None and doc.lease_expires_at > now:
        raise UsageError(
            f"document #{doc_id} is being processed by {doc.lease_owner}; try again shortly"
        )
    target = reprocess_target(doc)
    forced = " (forced past the duplicate check)" if force else ""
    detail = {"force": force, "actor": actor, "from_state": str(doc.state)}
    async with store.unit() as unit:
        await unit.event(doc.id, "reprocess", f"reprocess requested by {actor}{forced}", detail)
        await unit.set_state(
            doc.id,
            target,
            f"back to {target} for reprocessing (was {doc.state})",
            detail=detail,
            reset_attempts=True,
        )
    await store.audit(
        actor,
        "reprocess",
        f"document:{doc.id}",
        {"force": force, "from": str(doc.state), "to": str(target)},
    )
    if wakeup is not None:
        wakeup.notify()
    again = await store.get(doc.id)
    assert again is not None
    return again
