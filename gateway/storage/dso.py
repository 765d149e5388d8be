"""DSO inputs and snapshots: the store's view of invoices and payments for DSO figures.

:class:`DsoStore` adds these methods to the store:

- :meth:`DsoStore.dso_invoices`: the invoices, from ``open_items`` (every status: a closed
  invoice still counts in sales and in average days to pay).
- :meth:`DsoStore.dso_payments`: the money put against those invoices, from
  ``cash_applications``: applications of kind payment, discount, deduction or write-off
  with an ``open_item_id``, not reversed, dated ``effective_date``; each carries its
  invoice's partner id and number (from ``open_items``), which is how the DSO ledger links
  it. Cash on account names no invoice and reduces no invoice's open amount, so it is not
  a payment here; a reversed application never happened as far as DSO goes.
- :meth:`DsoStore.put_dso_snapshots` and the readers of ``dso_snapshots``: one row per
  (partner, as-of date, period); the figures are the JSON of
  :meth:`gateway.dso.PartnerFigures.as_json`, stored as given.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.storage.base import StoreBase
from gateway.storage.rows import utcnow
from gateway.storage.schema import cash_applications, dso_snapshots, open_items

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

DSO_PAYMENT_KINDS: Final = ("payment", "discount", "deduction", "write_off")
"""Application kinds that lower an invoice's open amount, and so count as paid for DSO."""
_CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class DsoInvoiceRow:
    """One invoice as DSO sees it (an ``open_items`` row)."""

    partner_id: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DsoPaymentRow:
    """One application that pays an invoice, with that invoice's partner and number."""

    partner_id: str
    invoice_number: str
    effective_date: dt.date
    amount: Decimal
    kind: str


@dataclass(frozen=True, slots=True)
class DsoSnapshot:
    """One stored row of ``dso_snapshots``; ``figures`` is the JSON as stored."""

    partner_id: str
    as_of: dt.date
    period_days: int
    figures: dict[str, object]
    created_at: dt.datetime


def _money(value: Any) -> Decimal:
    return Decimal(value).quantize(_CENT)


def _snapshot(row: sa.Row[Any]) -> DsoSnapshot:
    m = row._mapping
    figures = m["figures"]
    return DsoSnapshot(
        partner_id=m["partner_id"],
        as_of=m["as_of"],
        period_days=int(m["period_days"]),
        figures=dict(figures) if isinstance(figures, dict) else {},
        created_at=m["created_at"],
    )


class DsoStore(StoreBase):
    """DSO snapshots, and invoices and payments read for DSO, on top of :class:`StoreBase`."""

    async def dso_invoices(
        self, *, until: dt.date | None = None, partner_id: str | None = None
    ) -> list[DsoInvoiceRow]:
        """Invoices (of one partner) dated on or before ``until``, by id."""
        c = open_items.c
        stmt = sa.select(
            c.partner_id, c.invoice_number, c.invoice_date, c.due_date, c.amount
        ).order_by(c.id)
        if until is not None:
            stmt = stmt.where(c.invoice_date <= until)
        if partner_id is not None:
            stmt = stmt.where(c.partner_id == partner_id)
        async with self._read() as conn:
            return [
                DsoInvoiceRow(p, number, date, due, _money(amount))
                for p, number, date, due, amount in await conn.execute(stmt)
            ]

    async def dso_payments(
        self, *, until: dt.date | None = None, partner_id: str | None = None
    ) -> list[DsoPaymentRow]:
        """Applications paying invoices (of one partner), both dated on or before ``until``.

        Only kinds in :data:`DSO_PAYMENT_KINDS` with an open item, not reversed; by id.
        """
        a, i = cash_applications.c, open_items.c
        stmt = (
            sa.select(i.partner_id, i.invoice_number, a.effective_date, a.amount, a.kind)
            .select_from(cash_applications.join(open_items, a.open_item_id == i.id))
            .where(a.reversed_at.is_(None), a.kind.in_(DSO_PAYMENT_KINDS))
            .order_by(a.id)
        )
        if until is not None:
            stmt = stmt.where(a.effective_date <= until, i.invoice_date <= until)
        if partner_id is not None:
            stmt = stmt.where(i.partner_id == partner_id)
        async with self._read() as conn:
            return [
                DsoPaymentRow(p, number, date, _money(amount), kind)
                for p, number, date, amount, kind in await conn.execute(stmt)
            ]

    async def put_dso_snapshots(
        self, as_of: dt.date, period_days: int, figures: Mapping[str, Mapping[str, object]]
    ) -> list[str]:
        """Store each partner's figures for ``(as_of, period_days)``; an existing row is updated.

        Returns the partner ids whose row this call inserted (sorted): of several processes
        storing the same day, exactly one inserts each row (the primary key decides), which
        is how the snapshotter picks the one process that alerts.
        """
        if not figures:
            return []
        now = utcnow()
        rows = [
            {
                "partner_id": partner_id,
                "as_of": as_of,
                "period_days": period_days,
                "figures": dict(values),
                "created_at": now,
            }
            for partner_id, values in figures.items()
        ]
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(dso_snapshots)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["partner_id", "as_of", "period_days"])
            .returning(dso_snapshots.c.partner_id)
        )
        c = dso_snapshots.c
        async with self._write() as conn:
            inserted = set((await conn.execute(stmt)).scalars())
            repeats = [
                {"p": row["partner_id"], "f": row["figures"]}
                for row in rows
                if row["partner_id"] not in inserted
            ]
            if repeats:
                update = (
                    sa.update(dso_snapshots)
                    .where(
                        c.partner_id == sa.bindparam("p"),
                        c.as_of == as_of,
                        c.period_days == period_days,
                    )
                    .values(figures=sa.bindparam("f"))
                )
                await conn.execute(update, repeats)
        return sorted(inserted)

    async def dso_snapshot(
        self, partner_id: str, as_of: dt.date, period_days: int
    ) -> DsoSnapshot | None:
        """One stored snapshot, or None."""
        c = dso_snapshots.c
        stmt = sa.select(dso_snapshots).where(
            c.partner_id == partner_id, c.as_of == as_of, c.period_days == period_days
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return _snapshot(row) if row is not None else None

    async def dso_snapshots(
        self,
        *,
        period_days: int,
        partner_id: str | None = None,
        as_of: dt.date | None = None,
        limit: int | None = None,
    ) -> list[DsoSnapshot]:
        """Stored snapshots over ``period_days`` (of one partner, of one day), newest first."""
        c = dso_snapshots.c
        stmt = (
            sa.select(dso_snapshots)
            .where(c.period_days == period_days)
            .order_by(c.as_of.desc(), c.partner_id)
        )
        if partner_id is not None:
            stmt = stmt.where(c.partner_id == partner_id)
        if as_of is not None:
            stmt = stmt.where(c.as_of == as_of)
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self._read() as conn:
            return [_snapshot(row) for row in await conn.execute(stmt)]

    async def previous_dso_snapshots(
        self, before: dt.date, period_days: int
    ) -> dict[str, DsoSnapshot]:
        """Each partner's latest snapshot over ``period_days`` dated before ``before``."""
        c = dso_snapshots.c
        latest = (
            sa.select(c.partner_id, sa.func.max(c.as_of).label("as_of"))
            .where(c.as_of < before, c.period_days == period_days)
            .group_by(c.partner_id)
            .subquery()
        )
        stmt = sa.select(dso_snapshots).join(
            latest,
            sa.and_(
                c.partner_id == latest.c.partner_id,
                c.as_of == latest.c.as_of,
                c.period_days == period_days,
            ),
        )
        async with self._read() as conn:
            return {row.partner_id: _snapshot(row) for row in await conn.execute(stmt)}
