"""Rows to records, and the statements the store builds from arguments (search, upserts).

Imports only SQLAlchemy, :mod:`gateway.storage.records`, :mod:`gateway.storage.schema`
and :mod:`gateway.x12.control`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.errors import UsageError
from gateway.storage.records import (
    Controls,
    DocumentQuery,
    DocumentRecord,
    EventRecord,
    State,
)
from gateway.storage.schema import control_counters, documents, payloads
from gateway.x12.control import KINDS, MAX_CONTROL_NUMBER, ControlKind, ControlNumbersExhaustedError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.ext.asyncio import AsyncConnection


def utcnow() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def document_record(row: sa.Row[Any]) -> DocumentRecord:
    """A ``documents`` row as a :class:`DocumentRecord`."""
    m = row._mapping
    return DocumentRecord(
        id=m["id"],
        direction=m["direction"],
        partner_id=m["partner_id"],
        channel=m["channel"],
        doc_type=m["doc_type"],
        format=m["format"],
        state=State(m["state"]),
        payload_sha256=m["payload_sha256"],
        size=m["size"],
        parent_id=m["parent_id"],
        filename=m["filename"],
        controls=Controls(
            sender_id=m["sender_id"],
            receiver_id=m["receiver_id"],
            interchange_control=m["interchange_control"],
            group_control=m["group_control"],
            transaction_control=m["transaction_control"],
        ),
        business_key=m["business_key"],
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        last_error=m["last_error"],
        canonical=m["canonical"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        ack_due_at=m.get("ack_due_at"),
    )


def event_record(row: sa.Row[Any]) -> EventRecord:
    """An ``events`` row as an :class:`EventRecord`."""
    m = row._mapping
    return EventRecord(
        id=m["id"],
        document_id=m["document_id"],
        at=m["at"],
        kind=m["kind"],
        state=State(m["state"]) if m["state"] is not None else None,
        message=m["message"],
        detail=dict(m["detail"] or {}),
    )


def event_values(
    doc_id: int,
    kind: str,
    message: str,
    *,
    state: State | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one ``events`` row, stamped now."""
    return {
        "document_id": doc_id,
        "at": utcnow(),
        "kind": kind,
        "state": state.value if state is not None else None,
        "message": message,
        "detail": detail or {},
    }


def search_statement(query: DocumentQuery) -> sa.Select[Any]:
    """The ``SELECT`` for :meth:`Store.search`: every set filter, newest first."""
    c = documents.c
    stmt = sa.select(documents)
    equal = {
        c.partner_id: query.partner_id,
        c.direction: query.direction,
        c.doc_type: query.doc_type,
        c.state: query.state.value if query.state is not None else None,
        c.business_key: query.business_key,
        c.parent_id: query.parent_id,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if query.since is not None:
        stmt = stmt.where(c.created_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(c.created_at < query.until)
    if query.control_number is not None:
        number = query.control_number
        stmt = stmt.where(
            sa.or_(
                c.interchange_control == number,
                c.group_control == number,
                c.transaction_control == number,
            )
        )
    if query.before_id is not None:
        stmt = stmt.where(c.id < query.before_id)
    return stmt.order_by(c.id.desc()).limit(max(1, min(query.limit, 10_000)))


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_payload_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Record payloads (``data`` null when on disk); a payload already known is left alone."""
    if rows:
        stmt = _insert(conn, payloads).on_conflict_do_nothing(index_elements=["sha256"])
        await conn.execute(stmt, rows)


async def reserve_controls_many(
    conn: AsyncConnection, counts: Mapping[tuple[str, ControlKind], int]
) -> dict[tuple[str, ControlKind], int]:
    """:func:`reserve_controls` for several counters in one statement; the first of each.

    The rows are upserted in sorted order, so that two transactions reserving the same
    counters lock them in the same order and cannot deadlock.

    Raises:
        ControlNumbersExhaustedError: a counter would pass 999999999 (the caller's
            transaction must roll back: the other counters may have moved).
        UsageError: an unknown kind or a count below 1.
    """
    if len(counts) == 1:
        [(scope, kind)] = counts
        return {(scope, kind): await reserve_controls(conn, scope, kind, counts[scope, kind])}
    for (scope, kind), count in counts.items():
        if kind not in KINDS:
            raise UsageError(f"unknown control number kind {kind!r}; expected one of {KINDS}")
        if count < 1:
            raise UsageError(f"cannot reserve {count} control numbers")
        if count > MAX_CONTROL_NUMBER:
            raise ControlNumbersExhaustedError(scope, kind, MAX_CONTROL_NUMBER)
    if not counts:
        return {}
    c = control_counters.c
    stmt = _insert(conn, control_counters).values(
        [{"scope": s, "kind": k, "last": counts[s, k]} for s, k in sorted(counts)]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "kind"],
        set_={"last": c.last + stmt.excluded.last},
        where=c.last + stmt.excluded.last <= MAX_CONTROL_NUMBER,
    ).returning(c.scope, c.kind, c.last)
    firsts: dict[tuple[str, ControlKind], int] = {}
    for scope, kind, last in (await conn.execute(stmt)).all():
        firsts[scope, kind] = int(last) - counts[scope, kind] + 1
    for scope, kind in counts:
        if (scope, kind) not in firsts:
            raise ControlNumbersExhaustedError(scope, kind, MAX_CONTROL_NUMBER)
    return firsts


async def reserve_controls(conn: AsyncConnection, scope: str, kind: ControlKind, count: int) -> int:
    """Advance the ``(scope, kind)`` counter by ``count`` in ``conn``'s transaction.

    One atomic upsert, so concurrent callers (other processes too) never get the same
    number. Returns the first number reserved.

    Raises:
        ControlNumbersExhaustedError: the counter would pass 999999999 (it is not moved).
        UsageError: an unknown kind or a count below 1.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown control number kind {kind!r}; expected one of {KINDS}")
    if count < 1:
        raise UsageError(f"cannot reserve {count} control numbers")
    if count > MAX_CONTROL_NUMBER:
        raise ControlNumbersExhaustedError(scope, kind, MAX_CONTROL_NUMBER)
    last = control_counters.c.last
    stmt = (
        _insert(conn, control_counters)
        .values(scope=scope, kind=kind, last=count)
        .on_conflict_do_update(
            index_elements=["scope", "kind"],
            set_={"last": last + count},
            where=last + count <= MAX_CONTROL_NUMBER,
        )
        .returning(last)
    )
    new_last = (await conn.execute(stmt)).scalar_one_or_none()
    if new_last is None:
        raise ControlNumbersExhaustedError(scope, kind, MAX_CONTROL_NUMBER)
    return int(new_last) - count + 1
