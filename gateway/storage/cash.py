"""Remittances, their lines and cash applications: the store's cash-application tables.

:class:`CashStore` adds these methods to the store. Each write joins the unit the calling
task holds open (see :class:`gateway.storage.base.StoreBase`); so does each read made while
that task holds a unit, so that a cash action sees its own changes and, on PostgreSQL,
the rows it locked. The records are in :mod:`gateway.storage.cash_rows`.

Open items change only through :meth:`CashStore.change_open_amount`, an optimistic update
that names the amount it expects to find: a concurrent change makes it answer False and
the caller rolls its unit back.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gateway.errors import UsageError
from gateway.storage.base import StoreBase
from gateway.storage.cash_rows import (
    ZERO,
    ApplicationRecord,
    NewApplication,
    NewRemittanceLine,
    RemittanceLineRecord,
    RemittanceRecord,
    application_record,
    applications_statement,
    line_record,
    lines_statement,
    remittance_record,
)
from gateway.storage.ledger import OpenItem, _open_item
from gateway.storage.rows import utcnow
from gateway.storage.schema import (
    audit_log,
    cash_applications,
    open_items,
    remittance_lines,
    remittances,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import AsyncIterator, Collection, Iterable
    from decimal import Decimal

    from sqlalchemy.ext.asyncio import AsyncConnection

_PUSH_STATES = ("pending", "failed")


class CashStore(StoreBase):
    """Remittances, remittance lines and cash applications on top of :class:`StoreBase`."""

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """The open unit's connection when this task holds one, else a read connection."""
        active = self._active()
        if active is not None:
            yield active.unit.connection
            return
        async with self._read() as conn:
            yield conn

    def _locked(self, stmt: sa.Select[Any], lock: bool) -> sa.Select[Any]:
        """``stmt`` with ``FOR UPDATE`` on PostgreSQL when ``lock`` (SQLite's unit is locked)."""
        return stmt.with_for_update() if lock and self.dialect == "postgresql" else stmt

    # -- remittances ----------------------------------------------------------------------
    async def add_remittance(
        self,
        *,
        document_id: int,
        partner_id: str,
        trace_number: str,
        payment_amount: Decimal,
        lines_total: Decimal,
        unapplied_amount: Decimal,
        payer_id: str | None = None,
        currency: str | None = None,
        payment_date: dt.date | None = None,
    ) -> int:
        """Insert a remittance; return its id.

        Raises:
            sqlalchemy.exc.IntegrityError: the document already has one (the unit rolls back).
        """
        stmt = (
            sa.insert(remittances)
            .values(
                document_id=document_id,
                partner_id=partner_id,
                trace_number=trace_number[:80],
                payer_id=payer_id[:80] if payer_id else None,
                payment_amount=payment_amount,
                lines_total=lines_total,
                unapplied_amount=unapplied_amount,
                currency=currency,
                payment_date=payment_date,
                created_at=utcnow(),
            )
            .returning(remittances.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def remittance(self, remittance_id: int) -> RemittanceRecord | None:
        """The remittance with this id, or None."""
        stmt = sa.select(remittances).where(remittances.c.id == remittance_id)
        async with self._reading() as conn:
            row = (await conn.execute(stmt)).first()
        return remittance_record(row) if row is not None else None

    async def remittance_of_document(self, document_id: int) -> RemittanceRecord | None:
        """The remittance recorded for document ``document_id``, or None."""
        stmt = sa.select(remittances).where(remittances.c.document_id == document_id)
        async with self._reading() as conn:
            row = (await conn.execute(stmt)).first()
        return remittance_record(row) if row is not None else None

    async def remittances_with_trace(
        self, partner_id: str, trace_number: str
    ) -> list[RemittanceRecord]:
        """The partner's remittances with this trace number (TRN02), oldest first."""
        c = remittances.c
        stmt = (
            sa.select(remittances)
            .where(c.partner_id == partner_id, c.trace_number == trace_number[:80])
            .order_by(c.id)
        )
        async with self._reading() as conn:
            return [remittance_record(row) for row in await conn.execute(stmt)]

    async def add_remittance_line(
        self, remittance_id: int, partner_id: str, line: NewRemittanceLine
    ) -> int:
        """Insert one line of a remittance; return its id."""
        now = utcnow()
        stmt = (
            sa.insert(remittance_lines)
            .values(
                remittance_id=remittance_id,
                partner_id=partner_id,
                line_index=line.line_index,
                reference_qualifier=line.reference_qualifier,
                reference=line.reference[:80],
                paid_amount=line.paid_amount,
                invoice_amount=line.invoice_amount,
                discount_amount=line.discount_amount,
                adjustment_amount=line.adjustment_amount,
                adjustment_codes=list(line.adjustment_codes),
                status=line.status,
                review=line.review,
                rule=line.rule,
                confidence=line.confidence,
                reason=line.reason,
                invoice_number=line.invoice_number,
                note=None,
                created_at=now,
                updated_at=now,
            )
            .returning(remittance_lines.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    # -- lines ------------------------------------------------------------------------------
    async def remittance_lines(
        self,
        *,
        remittance_id: int | None = None,
        review: str | None = None,
        partner_id: str | None = None,
        min_paid: Decimal | None = None,
        max_paid: Decimal | None = None,
    ) -> list[RemittanceLineRecord]:
        """Lines (of one remittance, in one review state...), by remittance then position."""
        rl = remittance_lines.c
        stmt = lines_statement().order_by(rl.remittance_id, rl.line_index)
        if remittance_id is not None:
            stmt = stmt.where(rl.remittance_id == remittance_id)
        if review is not None:
            stmt = stmt.where(rl.review == review)
        if partner_id is not None:
            stmt = stmt.where(rl.partner_id == partner_id)
        if min_paid is not None:
            stmt = stmt.where(rl.paid_amount >= min_paid)
        if max_paid is not None:
            stmt = stmt.where(rl.paid_amount <= max_paid)
        async with self._reading() as conn:
            return [line_record(row) for row in await conn.execute(stmt)]

    async def remittance_line(
        self, line_id: int, *, lock: bool = False
    ) -> RemittanceLineRecord | None:
        """One line, or None; ``lock`` (inside a unit) keeps others off it until the unit ends."""
        if lock:
            target = sa.select(remittance_lines.c.id).where(remittance_lines.c.id == line_id)
            async with self._write() as conn:
                await conn.execute(self._locked(target, True))
        stmt = lines_statement().where(remittance_lines.c.id == line_id)
        async with self._reading() as conn:
            row = (await conn.execute(stmt)).first()
        return line_record(row) if row is not None else None

    async def update_remittance_line(
        self, line_id: int, *, review: str | None = None, note: str | None = None
    ) -> None:
        """Set a line's review state and/or note.

        Raises:
            KeyError: there is no line ``line_id``.
        """
        values: dict[str, Any] = {"updated_at": utcnow()}
        if review is not None:
            values["review"] = review
        if note is not None:
            values["note"] = note
        stmt = sa.update(remittance_lines).where(remittance_lines.c.id == line_id).values(values)
        async with self._write() as conn:
            if (await conn.execute(stmt)).rowcount == 0:
                raise KeyError(line_id)

    # -- open items -------------------------------------------------------------------------
    async def partner_items(self, partner_id: str, *, lock: bool = False) -> list[OpenItem]:
        """Every item of the partner, open and closed, by id.

        With ``lock`` (inside a unit) the rows stay locked until it ends on PostgreSQL;
        rows are locked in id order, the order every cash writer locks items in, so that
        two writers never wait on each other in a circle.
        """
        c = open_items.c
        stmt = sa.select(open_items).where(c.partner_id == partner_id).order_by(c.id)
        async with self._reading() as conn:
            return [_open_item(row) for row in await conn.execute(self._locked(stmt, lock))]

    async def open_item_by_id(self, item_id: int, *, lock: bool = False) -> OpenItem | None:
        """The open item with this id, or None."""
        stmt = sa.select(open_items).where(open_items.c.id == item_id)
        async with self._reading() as conn:
            row = (await conn.execute(self._locked(stmt, lock))).first()
        return _open_item(row) if row is not None else None

    async def change_open_amount(self, item_id: int, *, expected: Decimal, new: Decimal) -> bool:
        """Set an item's open amount to ``new`` if it still is ``expected``.

        ``status`` follows: ``closed`` at zero, ``open`` above. Returns False (nothing
        changed) when the amount is no longer ``expected``: another writer got there first.
        """
        if new < 0:
            raise UsageError(f"open item {item_id}: open amount {new} would be below zero")
        c = open_items.c
        stmt = (
            sa.update(open_items)
            .where(c.id == item_id, c.open_amount == expected)
            .values(
                open_amount=new, status="closed" if new == ZERO else "open", updated_at=utcnow()
            )
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    # -- applications -----------------------------------------------------------------------
    async def add_cash_application(self, application: NewApplication) -> int:
        """Insert an application (``erp_state`` pending); return its id."""
        stmt = (
            sa.insert(cash_applications)
            .values(
                line_id=application.line_id,
                partner_id=application.partner_id,
                open_item_id=application.open_item_id,
                kind=application.kind,
                amount=application.amount,
                reason_code=application.reason_code,
                effective_date=application.effective_date,
                actor=application.actor,
                created_at=utcnow(),
                erp_state="pending",
                erp_attempts=0,
            )
            .returning(cash_applications.c.id)
        )
        async with self._write() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def cash_applications(
        self,
        *,
        line_id: int | None = None,
        open_item_id: int | None = None,
        partner_id: str | None = None,
    ) -> list[ApplicationRecord]:
        """Applications (of one line, item or partner), oldest first, reversed ones too."""
        ca = cash_applications.c
        stmt = applications_statement().order_by(ca.id)
        if line_id is not None:
            stmt = stmt.where(ca.line_id == line_id)
        if open_item_id is not None:
            stmt = stmt.where(ca.open_item_id == open_item_id)
        if partner_id is not None:
            stmt = stmt.where(ca.partner_id == partner_id)
        async with self._reading() as conn:
            return [application_record(row) for row in await conn.execute(stmt)]

    async def cash_application(
        self, application_id: int, *, lock: bool = False
    ) -> ApplicationRecord | None:
        """One application, or None."""
        if lock:
            target = sa.select(cash_applications.c.id).where(
                cash_applications.c.id == application_id
            )
            async with self._write() as conn:
                await conn.execute(self._locked(target, True))
        stmt = applications_statement().where(cash_applications.c.id == application_id)
        async with self._reading() as conn:
            row = (await conn.execute(stmt)).first()
        return application_record(row) if row is not None else None

    async def reverse_cash_application(self, application_id: int, actor: str) -> bool:
        """Mark an application reversed (and to push again); False if it already was."""
        ca = cash_applications.c
        stmt = (
            sa.update(cash_applications)
            .where(ca.id == application_id, ca.reversed_at.is_(None))
            .values(reversed_at=utcnow(), reversed_by=actor, erp_state="pending", erp_error=None)
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    # -- the ERP pusher -----------------------------------------------------------------------
    async def applications_to_push(
        self, limit: int = 100, *, exclude: Collection[int] = ()
    ) -> list[ApplicationRecord]:
        """Applications to push (``pending``, then ``failed``), oldest first.

        ``exclude`` (ids waiting out a backoff) are left out, so that rows the ERP keeps
        refusing never hold back new ones.
        """
        ca = cash_applications.c
        stmt = (
            applications_statement()
            .where(ca.erp_state.in_(_PUSH_STATES))
            .order_by(sa.case((ca.erp_state == "pending", 0), else_=1), ca.id)
            .limit(limit)
        )
        if exclude:
            stmt = stmt.where(ca.id.not_in(list(exclude)))
        async with self._reading() as conn:
            return [application_record(row) for row in await conn.execute(stmt)]

    async def set_application_erp_state(
        self,
        application_id: int,
        *,
        reversed_: bool,
        state: str,
        reference: str | None = None,
        error: str | None = None,
    ) -> bool:
        """Record a push's outcome (``pushed``, ``failed`` or ``unsupported``).

        Only while the row is still to push and still as reversed as ``reversed_`` says:
        a reversal made during the push leaves it pending, so the reversal is pushed next.
        """
        ca = cash_applications.c
        values: dict[str, Any] = {"erp_state": state, "erp_error": error}
        if reference is not None:
            values["erp_reference"] = reference[:128]
        if state == "failed":
            values["erp_attempts"] = ca.erp_attempts + 1
        stmt = (
            sa.update(cash_applications)
            .where(
                ca.id == application_id,
                ca.erp_state.in_(_PUSH_STATES),
                ca.reversed_at.is_not(None) if reversed_ else ca.reversed_at.is_(None),
            )
            .values(values)
        )
        async with self._write() as conn:
            return bool((await conn.execute(stmt)).rowcount == 1)

    # -- audit ----------------------------------------------------------------------------------
    async def audit_entries(self, targets: Iterable[str]) -> list[dict[str, Any]]:
        """Audit entries about ``targets``, oldest first: id, at, actor, action, target, detail."""
        stmt = (
            sa.select(audit_log)
            .where(audit_log.c.target.in_(list(targets)))
            .order_by(audit_log.c.id)
        )
        async with self._reading() as conn:
            return [dict(row._mapping) for row in await conn.execute(stmt)]
