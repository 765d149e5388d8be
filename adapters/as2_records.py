"""The ``as2_messages`` table: each AS2 message by direction and Message-ID, with its MDN.

Inbound rows (``in``) remember what a partner sent, so that a resent Message-ID is
answered with the original MDN and stored once. Outbound rows (``out``) remember what
we sent (MIC, document), so that an asynchronous MDN is matched to it.

Statuses. In: ``received`` (stored; the MDN, if any, was returned or is below),
``mdn-pending:N`` (stored; the async MDN has failed ``N`` deliveries so far),
``mdn-sent``, ``mdn-failed`` (async MDN given up), ``rejected`` (refused with a
negative MDN; a resend is processed again). Out: ``sending``, ``mdn-pending``,
``processed`` (positive MDN, MIC checked), ``failed`` (negative or bad MDN),
``mdn-overdue``, ``sent`` (no MDN asked for).

The ``mdn`` column holds the MDN as sent or received: header lines, an empty line,
the body. For an async MDN still to deliver, a first header ``X-O2C-Deliver-To``
holds the partner's ``Receipt-Delivery-Option`` URL (it is not sent).

Uses SQLAlchemy Core on the connection of a ``Store.unit()`` (the public
``Unit.connection``), so that these rows commit with the document they name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.storage.schema import as2_messages

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.ext.asyncio import AsyncConnection

DELIVER_TO = "X-O2C-Deliver-To"
PENDING = "mdn-pending"
_C = as2_messages.c


@dataclass(frozen=True, slots=True)
class As2Row:
    """One row of ``as2_messages``."""

    direction: str
    message_id: str
    partner_id: str | None
    document_id: int | None
    status: str
    mic: str | None
    mdn: bytes | None
    created_at: dt.datetime
    updated_at: dt.datetime


def utcnow() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


def _row(row: Any) -> As2Row:
    m = row._mapping
    return As2Row(
        direction=m["direction"],
        message_id=m["message_id"],
        partner_id=m["partner_id"],
        document_id=None if m["document_id"] is None else int(m["document_id"]),
        status=m["status"],
        mic=m["mic"],
        mdn=None if m["mdn"] is None else bytes(m["mdn"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


async def get_row(conn: AsyncConnection, direction: str, message_id: str) -> As2Row | None:
    """The row of ``message_id`` in ``direction``, or None."""
    stmt = sa.select(as2_messages).where(_C.direction == direction, _C.message_id == message_id)
    row = (await conn.execute(stmt)).first()
    return None if row is None else _row(row)


async def put_row(
    conn: AsyncConnection,
    direction: str,
    message_id: str,
    *,
    partner_id: str | None,
    status: str,
    document_id: int | None = None,
    mic: str | None = None,
    mdn: bytes | None = None,
) -> None:
    """Insert a row, or replace one of the same direction and Message-ID (a resend)."""
    now = utcnow()
    values = {
        "partner_id": partner_id,
        "document_id": document_id,
        "status": status,
        "mic": mic,
        "mdn": mdn,
        "updated_at": now,
    }
    where = (_C.direction == direction, _C.message_id == message_id)
    result = await conn.execute(sa.update(as2_messages).where(*where).values(**values))
    if result.rowcount == 0:
        await conn.execute(
            sa.insert(as2_messages).values(
                direction=direction, message_id=message_id, created_at=now, **values
            )
        )


async def set_status(
    conn: AsyncConnection,
    direction: str,
    message_id: str,
    status: str,
    *,
    only_from: Iterable[str] | None = None,
    only_at: dt.datetime | None = None,
    mdn: bytes | None = None,
) -> bool:
    """Change a row's status (and MDN); False when someone else changed it first.

    The change is made only while the status is one of ``only_from`` and (with
    ``only_at``) the row was last changed at ``only_at``.
    """
    stmt = sa.update(as2_messages).where(_C.direction == direction, _C.message_id == message_id)
    if only_from is not None:
        stmt = stmt.where(_C.status.in_(list(only_from)))
    if only_at is not None:
        stmt = stmt.where(_C.updated_at == only_at)
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if mdn is not None:
        values["mdn"] = mdn
    result = await conn.execute(stmt.values(**values))
    return bool(result.rowcount)


async def rows_with_status(
    conn: AsyncConnection, direction: str, prefix: str, *, limit: int = 100
) -> list[As2Row]:
    """Rows of ``direction`` whose status starts with ``prefix``, oldest change first."""
    stmt = (
        sa.select(as2_messages)
        .where(_C.direction == direction, _C.status.startswith(prefix, autoescape=True))
        .order_by(_C.updated_at)
        .limit(limit)
    )
    return [_row(r) for r in (await conn.execute(stmt)).all()]


def pack_mdn(headers: dict[str, str], body: bytes, *, deliver_to: str | None = None) -> bytes:
    """An MDN as stored: header lines, an empty line, the body (see the module docstring)."""
    lines = [f"{DELIVER_TO}: {deliver_to}"] if deliver_to else []
    lines += [f"{k}: {' '.join(v.split())}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def unpack_mdn(blob: bytes) -> tuple[dict[str, str], bytes, str | None]:
    """``(headers, body, deliver_to)`` of a stored MDN."""
    head, _, body = blob.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    deliver_to = None
    for line in head.decode("utf-8").split("\r\n"):
        key, _, value = line.partition(": ")
        if key == DELIVER_TO:
            deliver_to = value
        elif key:
            headers[key] = value
    return headers, body, deliver_to


def pending_attempts(status: str) -> int | None:
    """``N`` of an inbound ``mdn-pending:N`` status, else None."""
    prefix = PENDING + ":"
    if not status.startswith(prefix):
        return None
    tail = status[len(prefix) :]
    return int(tail) if tail.isdigit() else None
