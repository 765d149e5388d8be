"""Open items, ERP cursors and outbound ack deadlines: the store's ERP-facing tables.

:class:`LedgerStore` adds these methods to the store. Each write joins the unit the
calling task holds open (see :class:`gateway.storage.base.StoreBase`), so that an
810, its open item and the advanced invoice cursor commit together or not at all.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gateway.storage.base import StoreBase
from gateway.storage.records import State
from gateway.storage.rows import document_record, event_values, utcnow
from gateway.storage.schema import documents, erp_cursors, events, open_items

if TYPE_CHECKING:
    import datetime as dt

    from gateway.storage.records import DocumentRecord

OpenItemStatus = Literal["open", "closed"]


@dataclass(frozen=True, slots=True)
class OpenItem:
    """One invoice a partner owes us (a row of ``open_items``).

    ``id`` is 0 on an item not stored yet; ``document_id`` is the 810 that carried it.
    """

    partner_id: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    currency: str
    po_number: str | None = None
    discount_percent: Decimal | None = None
    discount_days: int | None = None
    status: OpenItemStatus = "open"
    document_id: int | None = None
    erp_invoice_id: str | None = None
    id: int = 0
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


_ITEM_FIELDS = (
    "partner_id",
    "invoice_number",
    "invoice_date",
    "due_date",
    "amount",
    "open_amount",
    "currency",
    "po_number",
    "discount_percent",
    "discount_days",
    "status",
    "document_id",
    "erp_invoice_id",
)


def _open_item(row: sa.Row[Any]) -> OpenItem:
    m = row._mapping
    values = {name: m[name] for name in _ITEM_FIELDS}
    for money in ("amount", "open_amount"):
        values[money] = Decimal(values[money]).quantize(Decimal("0.01"))
    if values["discount_percent"] is not None:
        values["discount_percent"] = Decimal(values["discount_percent"])
    return OpenItem(**values, id=m["id"], created_at=m["created_at"], updated_at=m["updated_at"])


class LedgerStore(StoreBase):
    """Open items, ERP cursors and outbound ack deadlines on top of :class:`StoreBase`."""

    # -- ERP cursors ----------------------------------------------------------------------
    async def get_cursor(self, name: str, *, for_update: bool = False) -> str | None:
        """The stored cursor ``name`` (None before the first :meth:`set_cursor`, or empty).

        With ``for_update`` (inside a unit) the row stays locked until the unit ends on
        PostgreSQL; SQLite's unit holds the database's write lock anyway.
        """
        stmt = sa.select(erp_cursors.c.cursor).where(erp_cursors.c.name == name)
        if for_update:
            async with self._write() as conn:
                if self.dialect == "postgresql":
                    # a row to lock even before the first cursor: a second caller waits here
                    blank = {"name": name, "cursor": "", "updated_at": utcnow()}
                    await conn.execute(
                        postgresql.insert(erp_cursors).values(blank).on_conflict_do_nothing()
                    )
                    stmt = stmt.with_for_update()
                return (await conn.execute(stmt)).scalar_one_or_none() or None
        async with self._read() as conn:
            return (await conn.execute(stmt)).scalar_one_or_none() or None

    async def set_cursor(self, name: str, cursor: str) -> None:
        """Store ``cursor`` under ``name`` (in the caller's unit, when one is open)."""
        now = utcnow()
        async with self._write() as conn:
            updated = await conn.execute(
                sa.update(erp_cursors)
                .where(erp_cursors.c.name == name)
                .values(cursor=cursor, updated_at=now)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    sa.insert(erp_cursors).values(name=name, cursor=cursor, updated_at=now)
                )

    # -- open items -----------------------------------------------------------------------
    async def add_open_item(self, item: OpenItem) -> int:
        """Insert an open item; return its id.

        Raises:
            sqlalchemy.exc.IntegrityError: the partner already has this invoice number
                (the unit rolls back: an invoice is never recorded twice).
        """
        now = utcnow()
        values = {name: getattr(item, name) for name in _ITEM_FIELDS}
        stmt = (
            sa.insert(open_items)
            .values(**values, created_at=now, updated_at=now)
            .returning(open_items.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def open_item(self, partner_id: str, invoice_number: str) -> OpenItem | None:
        """The partner's item for ``invoice_number``, or None."""
        c = open_items.c
        stmt = sa.select(open_items).where(
            c.partner_id == partner_id, c.invoice_number == invoice_number
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return _open_item(row) if row is not None else None

    async def open_items(
        self, *, partner_id: str | None = None, status: OpenItemStatus | None = None
    ) -> list[OpenItem]:
        """Open items (of one partner, in one status), by due date then id."""
        c = open_items.c
        stmt = sa.select(open_items).order_by(c.due_date, c.id)
        if partner_id is not None:
            stmt = stmt.where(c.partner_id == partner_id)
        if status is not None:
            stmt = stmt.where(c.status == status)
        async with self._read() as conn:
            return [_open_item(row) for row in await conn.execute(stmt)]

    # -- outbound ack deadlines -----------------------------------------------------------
    async def set_ack_due(self, doc_id: int, due: dt.datetime | None) -> None:
        """Set when the partner's 997/999 for outbound document ``doc_id`` is due.

        Raises:
            KeyError: there is no document ``doc_id``.
        """
        stmt = sa.update(documents).where(documents.c.id == doc_id).values(ack_due_at=due)
        async with self._write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                raise KeyError(doc_id)

    async def mark_overdue(
        self, now: dt.datetime, *, message: str, limit: int = 500
    ) -> list[DocumentRecord]:
        """Move ``sent`` outbound documents whose ack was due by ``now`` to ``overdue``.

        One transaction; the update re-checks the state, so a document an ack settled in
        the meantime is left alone. Returns the documents moved, with a ``state`` event each.
        """
        c = documents.c
        due = (
            sa.select(c.id)
            .where(
                c.direction == "out",
                c.state == State.SENT.value,
                c.ack_due_at.is_not(None),
                c.ack_due_at <= now,
            )
            .order_by(c.ack_due_at, c.id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        async with self._write() as conn:
            ids = list((await conn.execute(due)).scalars())
            if not ids:
                return []
            stmt = (
                sa.update(documents)
                .where(c.id.in_(ids), c.state == State.SENT.value)
                .values(state=State.OVERDUE.value, updated_at=utcnow())
                .returning(*documents.c)
            )
            moved = sorted((document_record(r) for r in await conn.execute(stmt)), key=_id)
            rows = [
                event_values(
                    d.id,
                    "state",
                    message,
                    state=State.OVERDUE,
                    detail={"ack_due_at": d.ack_due_at.isoformat() if d.ack_due_at else None},
                )
                for d in moved
            ]
            if rows:
                await conn.execute(sa.insert(events), rows)
        return moved


def _id(doc: DocumentRecord) -> int:
    return doc.id
