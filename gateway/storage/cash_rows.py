"""Records of the cash-application tables, and the rows-to-records conversions.

:class:`RemittanceRecord`, :class:`RemittanceLineRecord` (a line with the figures of its
remittance and of the invoice the engine chose) and :class:`ApplicationRecord` are what
:class:`gateway.storage.cash.CashStore` returns; :class:`NewRemittanceLine` and
:class:`NewApplication` are what it inserts. Amounts are ``Decimal`` with two places.

Imports SQLAlchemy, the standard library and :mod:`gateway.storage.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from gateway.storage.schema import cash_applications, open_items, remittance_lines, remittances

if TYPE_CHECKING:
    import datetime as dt

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
CASH_KINDS: Final = ("payment", "on_account")
"""Kinds that place the line's cash (the others settle an invoice without cash)."""


def money(value: Any) -> Decimal:
    """``value`` (Decimal, int, float or text from a driver) as a Decimal to the cent."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class RemittanceRecord:
    """One applied 820 transaction set (a ``remittances`` row)."""

    id: int
    document_id: int
    partner_id: str
    trace_number: str
    payer_id: str | None
    payment_amount: Decimal
    lines_total: Decimal
    unapplied_amount: Decimal
    currency: str | None
    payment_date: dt.date | None
    created_at: dt.datetime

    @property
    def total_mismatch(self) -> Decimal:
        """The payment amount minus the lines' total; anything but zero is flagged."""
        return self.payment_amount - self.lines_total


@dataclass(frozen=True, slots=True)
class NewRemittanceLine:
    """One RMR line and the engine's decision, to insert."""

    line_index: int
    reference_qualifier: str | None
    reference: str
    paid_amount: Decimal
    invoice_amount: Decimal | None
    discount_amount: Decimal
    adjustment_amount: Decimal
    adjustment_codes: tuple[str, ...]
    status: str
    review: str
    rule: str
    confidence: float
    reason: str
    invoice_number: str | None


@dataclass(frozen=True, slots=True)
class RemittanceLineRecord:
    """A ``remittance_lines`` row, its remittance's figures and the engine's invoice.

    ``placed`` is the line's cash put on invoices or on account by applications not
    reversed; ``item_id``/``item_open``/``item_status`` describe the open item named by
    ``invoice_number`` (None when there is none).
    """

    id: int
    remittance_id: int
    partner_id: str
    line_index: int
    reference_qualifier: str | None
    reference: str
    paid_amount: Decimal
    invoice_amount: Decimal | None
    discount_amount: Decimal
    adjustment_amount: Decimal
    adjustment_codes: tuple[str, ...]
    status: str
    review: str
    rule: str
    confidence: float
    reason: str
    invoice_number: str | None
    note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    document_id: int
    trace_number: str
    payment_date: dt.date | None
    received_at: dt.datetime
    placed: Decimal
    item_id: int | None
    item_open: Decimal | None
    item_status: str | None
    currency: str | None = None
    """The remittance's currency (CUR02), when it names one."""

    @property
    def unplaced(self) -> Decimal:
        """The line's cash on no invoice and not on account (never below zero)."""
        left = self.paid_amount - self.placed
        return left if left > 0 else ZERO

    @property
    def shortfall(self) -> Decimal:
        """For a partial line: what is still open on its invoice; else zero."""
        if self.status != "partial" or self.item_open is None or self.item_status != "open":
            return ZERO
        return self.item_open if self.item_open > 0 else ZERO


@dataclass(frozen=True, slots=True)
class NewApplication:
    """Money put against an invoice or on account, to insert (``erp_state`` pending)."""

    partner_id: str
    kind: str
    amount: Decimal
    effective_date: dt.date
    actor: str
    line_id: int | None = None
    open_item_id: int | None = None
    reason_code: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """A ``cash_applications`` row, with its invoice's number and ERP id, and trace number."""

    id: int
    line_id: int | None
    partner_id: str
    open_item_id: int | None
    kind: str
    amount: Decimal
    reason_code: str | None
    effective_date: dt.date
    actor: str
    created_at: dt.datetime
    reversed_at: dt.datetime | None
    reversed_by: str | None
    erp_state: str
    erp_reference: str | None
    erp_error: str | None
    erp_attempts: int
    invoice_number: str | None
    erp_invoice_id: str | None
    trace_number: str | None


def remittance_record(row: sa.Row[Any]) -> RemittanceRecord:
    """A ``remittances`` row as a record."""
    m = row._mapping
    return RemittanceRecord(
        id=m["id"],
        document_id=m["document_id"],
        partner_id=m["partner_id"],
        trace_number=m["trace_number"],
        payer_id=m["payer_id"],
        payment_amount=money(m["payment_amount"]),
        lines_total=money(m["lines_total"]),
        unapplied_amount=money(m["unapplied_amount"]),
        currency=m["currency"],
        payment_date=m["payment_date"],
        created_at=m["created_at"],
    )


def lines_statement() -> sa.Select[Any]:
    """Lines joined to their remittance, their placed cash and the engine's open item."""
    rl, r, ca, oi = remittance_lines.c, remittances.c, cash_applications.c, open_items.c
    placed = (
        sa.select(sa.func.coalesce(sa.func.sum(ca.amount), 0))
        .where(ca.line_id == rl.id, ca.reversed_at.is_(None), ca.kind.in_(CASH_KINDS))
        .scalar_subquery()
    )
    return (
        sa.select(
            remittance_lines,
            r.document_id,
            r.trace_number,
            r.payment_date,
            r.created_at.label("received_at"),
            r.currency,
            placed.label("placed"),
            oi.id.label("item_id"),
            oi.open_amount.label("item_open"),
            oi.status.label("item_status"),
        )
        .join(remittances, r.id == rl.remittance_id)
        .outerjoin(
            open_items,
            sa.and_(oi.partner_id == rl.partner_id, oi.invoice_number == rl.invoice_number),
        )
    )


def line_record(row: sa.Row[Any]) -> RemittanceLineRecord:
    """A row of :func:`lines_statement` as a record."""
    m = row._mapping
    return RemittanceLineRecord(
        id=m["id"],
        remittance_id=m["remittance_id"],
        partner_id=m["partner_id"],
        line_index=m["line_index"],
        reference_qualifier=m["reference_qualifier"],
        reference=m["reference"],
        paid_amount=money(m["paid_amount"]),
        invoice_amount=None if m["invoice_amount"] is None else money(m["invoice_amount"]),
        discount_amount=money(m["discount_amount"]),
        adjustment_amount=money(m["adjustment_amount"]),
        adjustment_codes=tuple(m["adjustment_codes"] or ()),
        status=m["status"],
        review=m["review"],
        rule=m["rule"],
        confidence=float(m["confidence"]),
        reason=m["reason"],
        invoice_number=m["invoice_number"],
        note=m["note"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        document_id=m["document_id"],
        trace_number=m["trace_number"],
        payment_date=m["payment_date"],
        received_at=m["received_at"],
        placed=money(m["placed"]),
        item_id=m["item_id"],
        item_open=None if m["item_open"] is None else money(m["item_open"]),
        item_status=m["item_status"],
        currency=m["currency"],
    )


def applications_statement() -> sa.Select[Any]:
    """Applications with their invoice's number and ERP id and their remittance's trace."""
    ca, oi, rl, r = cash_applications.c, open_items.c, remittance_lines.c, remittances.c
    return (
        sa.select(
            cash_applications,
            oi.invoice_number,
            oi.erp_invoice_id,
            r.trace_number,
        )
        .outerjoin(open_items, oi.id == ca.open_item_id)
        .outerjoin(remittance_lines, rl.id == ca.line_id)
        .outerjoin(remittances, r.id == rl.remittance_id)
    )


def application_record(row: sa.Row[Any]) -> ApplicationRecord:
    """A row of :func:`applications_statement` as a record."""
    m = row._mapping
    return ApplicationRecord(
        id=m["id"],
        line_id=m["line_id"],
        partner_id=m["partner_id"],
        open_item_id=m["open_item_id"],
        kind=m["kind"],
        amount=money(m["amount"]),
        reason_code=m["reason_code"],
        effective_date=m["effective_date"],
        actor=m["actor"],
        created_at=m["created_at"],
        reversed_at=m["reversed_at"],
        reversed_by=m["reversed_by"],
        erp_state=m["erp_state"],
        erp_reference=m["erp_reference"],
        erp_error=m["erp_error"],
        erp_attempts=int(m["erp_attempts"] or 0),
        invoice_number=m["invoice_number"],
        erp_invoice_id=m["erp_invoice_id"],
        trace_number=m["trace_number"],
    )
