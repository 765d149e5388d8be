"""One write transaction of the store: :class:`Unit` and the document insert it shares.

Events and payload index rows are buffered and written together (one ``executemany``
each) just before the unit commits. New documents go out at once (their ids are needed
right away); :meth:`Unit.add_documents` adds many in one statement. Changes to one
document (:meth:`Unit.set_state`, :meth:`Unit.set_canonical`) are merged and written
as one UPDATE per document when the unit flushes: a set that is parsed, acknowledged
and mapped in one unit costs one statement, not three, while its timeline keeps an
event for each step. A missing document or a lost claim is found then and fails the
unit, as before. Any other statement on ``documents`` through the unit's connection
must come after :meth:`Unit.flush_updates` (the store's own methods do this).

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules, plus
:mod:`gateway.x12.control`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.errors import LeaseLostError as LeaseLostError  # re-exported: it was defined here
from gateway.storage.records import Controls, Direction, DocumentRecord, State
from gateway.storage.rows import (
    document_record,
    event_values,
    insert_payload_rows,
    reserve_controls,
    utcnow,
)
from gateway.storage.schema import documents, events

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from gateway.storage.payloads import Staged
    from gateway.x12.control import ControlKind


_DOCUMENT_FIELDS = (
    "direction",
    "partner_id",
    "channel",
    "doc_type",
    "format",
    "state",
    "payload_sha256",
    "size",
    "parent_id",
    "filename",
    "controls",
    "business_key",
    "canonical",
)


class Unit:
    """One transaction: documents added, states changed and events written commit together.

    Get one from :meth:`Store.unit`; it is bound to that transaction's connection. A unit
    opened with an ``owner`` (a worker's name) and a ``fence`` (the ids of the documents
    it works on under that owner's claims) changes those documents only while the owner
    still holds their claims; otherwise it raises :class:`LeaseLostError` and the whole
    unit rolls back. Other documents (the sets it adds, an 810 a received 997 settles)
    are not fenced.
    """

    def __init__(
        self, conn: AsyncConnection, owner: str | None = None, fence: Iterable[int] = ()
    ) -> None:
        self._conn = conn
        self._owner = owner
        self._fence = frozenset(fence) if owner is not None else frozenset()
        self._events: list[dict[str, Any]] = []
        self._updates: dict[int, dict[str, Any]] = {}
        self._payloads: dict[str, dict[str, Any]] = {}
        self.staged: dict[str, tuple[Staged, bytes]] = {}
        """Payload files written by this unit, made durable just before it commits."""

    @property
    def connection(self) -> AsyncConnection:
        """The connection of this unit's transaction (for the store's own statements).

        Changes to documents made through the unit may still be pending: call
        :meth:`flush_updates` before a statement that reads or writes ``documents``.
        """
        return self._conn

    async def add_document(
        self,
        *,
        direction: Direction,
        partner_id: str | None,
        channel: str | None,
        doc_type: str,
        format: str,
        state: State,
        payload_sha256: str,
        size: int,
        message: str,
        parent_id: int | None = None,
        filename: str | None = None,
        controls: Controls = Controls(),  # noqa: B008 (frozen, shared safely)
        business_key: str | None = None,
        canonical: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Insert a document in ``state`` and its first timeline event; return its id."""
        record = await self.insert(
            direction=direction,
            partner_id=partner_id,
            channel=channel,
            doc_type=doc_type,
            format=format,
            state=state,
            payload_sha256=payload_sha256,
            size=size,
            message=message,
            parent_id=parent_id,
            filename=filename,
            controls=controls,
            business_key=business_key,
            canonical=canonical,
            detail=detail,
        )
        return record.id

    async def insert(
        self, *, message: str, detail: dict[str, Any] | None, **fields: Any
    ) -> DocumentRecord:
        """:meth:`add_document`, returning the whole record (for :meth:`Store.receive`)."""
        row = await insert_document(self._conn, **fields)
        record = document_record(row)
        self.note_payload(record.payload_sha256, record.size, None)
        self._events.append(
            event_values(record.id, "state", message, state=record.state, detail=detail)
        )
        return record

    async def add_documents(self, docs: Sequence[NewDocument]) -> list[int]:
        """Insert several documents and their first events in one statement; their ids.

        The same as calling :meth:`add_document` for each, in one round trip.
        """
        if not docs:
            return []
        now = utcnow()
        fields = [{name: getattr(doc, name) for name in _DOCUMENT_FIELDS} for doc in docs]
        rows = [document_values(**f, now=now) for f in fields]
        stmt = sa.insert(documents).returning(documents.c.id, sort_by_parameter_order=True)
        ids = [int(i) for i in (await self._conn.execute(stmt, rows)).scalars()]
        for doc_id, doc in zip(ids, docs, strict=True):
            self.note_payload(doc.payload_sha256, doc.size, None)
            self._events.append(
                event_values(doc_id, "state", doc.message, state=doc.state, detail=doc.detail)
            )
        return ids

    async def set_states(
        self,
        doc_ids: Sequence[int],
        state: State,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        release: bool = True,
    ) -> None:
        """:meth:`set_state` for several documents at once (one statement).

        Raises:
            KeyError: one of the documents does not exist.
        """
        if not doc_ids:
            return
        values: dict[str, Any] = {
            "state": state.value,
            "next_attempt_at": None,
            "updated_at": utcnow(),
        }
        if release:
            values["lease_owner"] = None
            values["lease_expires_at"] = None
        ids = list(doc_ids)
        for doc_id in ids:
            if self._fenced(doc_id):
                await self._update(doc_id, values)
        await self.flush_updates()
        unfenced = [i for i in ids if not self._fenced(i)]
        if unfenced:
            stmt = sa.update(documents).where(documents.c.id.in_(unfenced)).values(**values)
            result = await self._conn.execute(stmt)
            if result.rowcount != len(set(unfenced)):
                raise KeyError(unfenced)
        for doc_id in ids:
            self._events.append(event_values(doc_id, "state", message, state=state, detail=detail))

    async def set_state(
        self,
        doc_id: int,
        state: State,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
        release: bool = True,
        reset_attempts: bool = False,
    ) -> None:
        """Move a document to ``state`` (may be its current state) and add a ``state`` event.

        ``error`` sets ``last_error`` (None leaves it); ``retry_at`` sets
        ``next_attempt_at`` (None clears it); ``release`` clears the lease;
        ``reset_attempts`` sets ``attempts`` to 0 (reprocessing).

        Raises:
            KeyError: there is no document ``doc_id``.
        """
        values: dict[str, Any] = {
            "state": state.value,
            "next_attempt_at": retry_at,
            "updated_at": utcnow(),
        }
        if error is not None:
            values["last_error"] = error
        if release:
            values["lease_owner"] = None
            values["lease_expires_at"] = None
        if reset_attempts:
            values["attempts"] = 0
        await self._update(doc_id, values)
        self._events.append(event_values(doc_id, "state", message, state=state, detail=detail))

    async def event(
        self, doc_id: int, kind: str, message: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Add a timeline event that does not change the state."""
        self._events.append(event_values(doc_id, kind, message, detail=detail))

    async def set_canonical(
        self, doc_id: int, canonical: dict[str, Any], business_key: str | None
    ) -> None:
        """Store the mapped canonical document and its business key (PO/invoice number).

        Raises:
            KeyError: there is no document ``doc_id``.
        """
        values = {"canonical": canonical, "business_key": business_key, "updated_at": utcnow()}
        await self._update(doc_id, values)

    async def next_controls(self, scope: str, kind: ControlKind, count: int = 1) -> int:
        """Reserve ``count`` consecutive control numbers in this transaction; return the first.

        The counter row stays locked until the unit ends, and a unit that rolls back
        hands its numbers out again. See :meth:`Store.next_controls`.
        """
        return await reserve_controls(self._conn, scope, kind, count)

    def note_payload(self, sha256: str, size: int, data: bytes | None) -> None:
        """Record a payload row at commit (``data`` only for payloads kept in the database)."""
        known = self._payloads.get(sha256)
        if known is None or (data is not None and known["data"] is None):
            self._payloads[sha256] = {
                "sha256": sha256,
                "size": size,
                "data": data,
                "created_at": utcnow(),
            }

    async def flush(self) -> None:
        """Write the pending document changes, payload rows and events (before commit)."""
        await self.flush_updates()
        rows, self._payloads = list(self._payloads.values()), {}
        await insert_payload_rows(self._conn, rows)
        if self._events:
            batch, self._events = self._events, []
            await self._conn.execute(sa.insert(events), batch)

    def _fenced(self, doc_id: int) -> bool:
        """Whether a change to ``doc_id`` must prove this unit's owner still holds its claim."""
        return doc_id in self._fence

    async def flush_updates(self) -> None:
        """Write the pending changes of documents, one UPDATE per document.

        Raises:
            KeyError: a changed document does not exist.
            LeaseLostError: a fenced document is no longer claimed by this unit's owner.
        """
        while self._updates:
            doc_id = next(iter(self._updates))
            values = self._updates.pop(doc_id)
            await self._write_update(doc_id, values)

    async def _update(self, doc_id: int, values: dict[str, Any]) -> None:
        """Merge ``values`` into ``doc_id``'s pending change (later values win)."""
        pending = self._updates.get(doc_id)
        if pending is None:
            self._updates[doc_id] = dict(values)
        else:
            pending.update(values)

    async def _write_update(self, doc_id: int, values: dict[str, Any]) -> None:
        stmt = sa.update(documents).where(documents.c.id == doc_id)
        if self._fenced(doc_id):
            stmt = stmt.where(documents.c.lease_owner == self._owner)
        result = await self._conn.execute(stmt.values(**values))
        if result.rowcount == 0:
            if self._fenced(doc_id):
                exists = await self._conn.scalar(
                    sa.select(documents.c.id).where(documents.c.id == doc_id)
                )
                if exists is not None:
                    raise LeaseLostError(doc_id, self._owner or "")
            raise KeyError(doc_id)


@dataclass(frozen=True, slots=True)
class NewDocument:
    """One document for :meth:`Unit.add_documents` (the arguments of :meth:`Unit.add_document`)."""

    direction: Direction
    partner_id: str | None
    channel: str | None
    doc_type: str
    format: str
    state: State
    payload_sha256: str
    size: int
    message: str
    parent_id: int | None = None
    filename: str | None = None
    controls: Controls = field(default_factory=Controls)
    business_key: str | None = None
    canonical: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None


def document_values(
    *,
    direction: Direction,
    partner_id: str | None,
    channel: str | None,
    doc_type: str,
    format: str,
    state: State,
    payload_sha256: str,
    size: int,
    parent_id: int | None = None,
    filename: str | None = None,
    controls: Controls = Controls(),  # noqa: B008 (frozen, shared safely)
    business_key: str | None = None,
    canonical: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The column values of a new ``documents`` row (attempts 0, no lease)."""
    now = now or utcnow()
    return {
        "direction": direction,
        "partner_id": partner_id,
        "channel": channel,
        "doc_type": doc_type,
        "format": format,
        "state": state.value,
        "payload_sha256": payload_sha256,
        "size": size,
        "parent_id": parent_id,
        "filename": filename,
        "sender_id": controls.sender_id,
        "receiver_id": controls.receiver_id,
        "interchange_control": controls.interchange_control,
        "group_control": controls.group_control,
        "transaction_control": controls.transaction_control,
        "business_key": business_key,
        "attempts": 0,
        "canonical": canonical,
        "created_at": now,
        "updated_at": now,
    }


async def insert_document(conn: AsyncConnection, **fields: Any) -> sa.Row[Any]:
    """Insert one ``documents`` row (see :func:`document_values`) and return it whole."""
    stmt = sa.insert(documents).values(**document_values(**fields)).returning(*documents.c)
    return (await conn.execute(stmt)).one()
