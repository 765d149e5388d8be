"""The AR review queue's domain API: :class:`CashReview` (no web code).

The queue holds the remittance lines the automatic run left for a person (``review``
``open``): unmatched lines, partial payments, overpayments and the lines of remittances
held whole (see :mod:`gateway.pipeline.cash_flow`). A clerk puts a line's cash on
invoices (:meth:`CashReview.apply`), on account, records the shortfall as a deduction or
writes a small one off, notes, resolves, and reverses any application.

Every action checks everything first and raises :class:`CashActionError` (its text is for
the clerk) without changing anything; otherwise the action, the open items it changes and
its audit entry (``cash.<action>`` on ``remittance_line:<id>``, with the line's figures
before and after) commit in one ``store.unit()``. Open items change with an optimistic
check on their open amount, so two clerks (or a clerk and the worker) cannot both spend
what was open. A line leaves the queue by itself (``resolved``) once a money action
leaves no cash unplaced and no shortfall open.

Amounts are ``Decimal`` with at most two places; nothing goes below zero.

Imports the standard library, ``gateway.cash``, ``gateway.storage``, ``gateway.partners``,
``gateway.errors`` and ``gateway.model``; must not import ``gateway.pipeline``,
``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gateway.cash.candidates import LineFacts, rank
from gateway.cash.review_actions import CashActionError, ReviewActions

if TYPE_CHECKING:
    from collections.abc import Callable
    from decimal import Decimal

    from gateway.partners import PartnerRegistry
    from gateway.storage import Store
    from gateway.storage.cash_rows import ApplicationRecord, RemittanceLineRecord

Review = Literal["auto", "open", "resolved"]
ApplicationKind = Literal["payment", "discount", "deduction", "write_off", "on_account"]

__all__ = [
    "ApplicationKind",
    "ApplicationView",
    "Candidate",
    "CashActionError",
    "CashReview",
    "QueueFilter",
    "QueueLine",
    "Review",
]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which queue lines to list."""

    partner_id: str | None = None
    min_age_days: int | None = None
    """Age is today minus the payment date (else the day the 820 was received)."""
    max_age_days: int | None = None
    min_amount: Decimal | None = None
    """On the line's paid amount."""
    max_amount: Decimal | None = None
    limit: int = 200


@dataclass(frozen=True, slots=True)
class QueueLine:
    """One remittance line as the review queue shows it."""

    id: int
    partner_id: str
    remittance_id: int
    document_id: int
    trace_number: str
    payment_date: dt.date | None
    age_days: int
    line_index: int
    reference_qualifier: str | None
    reference: str
    paid_amount: Decimal
    """RMR04."""
    unplaced_amount: Decimal
    """Cash of this line on no invoice and not on account yet."""
    shortfall_amount: Decimal
    """Partial: what is still open on the matched invoice."""
    status: str
    """The engine's: matched, partial or unmatched."""
    review: Review
    reason: str
    confidence: float
    invoice_number: str | None
    """The engine's invoice, if any."""
    adjustment_codes: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open invoice of the line's partner the line's cash might belong to."""

    open_item_id: int
    invoice_number: str
    po_number: str | None
    invoice_date: dt.date
    due_date: dt.date
    amount: Decimal
    open_amount: Decimal
    score: float
    """0..1, best first."""
    reason: str
    """Plain language, e.g. "one digit differs; the amount equals what is open"."""


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """One application of a line's cash (or of a discount, deduction or write-off)."""

    id: int
    line_id: int | None
    open_item_id: int | None
    invoice_number: str | None
    kind: ApplicationKind
    amount: Decimal
    reason_code: str | None
    actor: str
    created_at: dt.datetime
    reversed_at: dt.datetime | None
    reversed_by: str | None
    erp_state: str


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def queue_line(record: RemittanceLineRecord, today: dt.date) -> QueueLine:
    """A stored line as the queue shows it, aged as of ``today``."""
    since = record.payment_date or record.received_at.date()
    review: Review = record.review  # type: ignore[assignment]
    return QueueLine(
        id=record.id,
        partner_id=record.partner_id,
        remittance_id=record.remittance_id,
        document_id=record.document_id,
        trace_number=record.trace_number,
        payment_date=record.payment_date,
        age_days=max((today - since).days, 0),
        line_index=record.line_index,
        reference_qualifier=record.reference_qualifier,
        reference=record.reference,
        paid_amount=record.paid_amount,
        unplaced_amount=record.unplaced,
        shortfall_amount=record.shortfall,
        status=record.status,
        review=review,
        reason=record.reason,
        confidence=record.confidence,
        invoice_number=record.invoice_number,
        adjustment_codes=record.adjustment_codes,
        note=record.note,
    )


def _application(record: ApplicationRecord) -> ApplicationView:
    kind: ApplicationKind = record.kind  # type: ignore[assignment]
    return ApplicationView(
        id=record.id,
        line_id=record.line_id,
        open_item_id=record.open_item_id,
        invoice_number=record.invoice_number,
        kind=kind,
        amount=record.amount,
        reason_code=record.reason_code,
        actor=record.actor,
        created_at=record.created_at,
        reversed_at=record.reversed_at,
        reversed_by=record.reversed_by,
        erp_state=record.erp_state,
    )


class CashReview(ReviewActions):
    """The review queue of one store; see the module docstring.

    Args:
        store: where remittances, lines, applications and open items are.
        partners: the profiles (their ``business.cash.amount_tolerance`` caps write-offs).
        today: the current date (ages, and the effective date of new applications).
    """

    def __init__(
        self, store: Store, partners: PartnerRegistry, *, today: Callable[[], dt.date] = _today
    ) -> None:
        super().__init__(store, partners, today=today)

    async def queue(self, filters: QueueFilter) -> list[QueueLine]:
        """The open lines that pass ``filters``, oldest first, at most ``filters.limit``."""
        records = await self._store.remittance_lines(
            review="open",
            partner_id=filters.partner_id,
            min_paid=filters.min_amount,
            max_paid=filters.max_amount,
        )
        today = self._today()
        lines = [queue_line(record, today) for record in records]
        if filters.min_age_days is not None:
            lines = [line for line in lines if line.age_days >= filters.min_age_days]
        if filters.max_age_days is not None:
            lines = [line for line in lines if line.age_days <= filters.max_age_days]
        lines.sort(key=lambda line: (-line.age_days, line.id))
        return lines[: max(filters.limit, 0)]

    async def line(self, line_id: int) -> QueueLine:
        """One line, whatever its review state.

        Raises:
            KeyError: there is no line ``line_id``.
        """
        record = await self._store.remittance_line(line_id)
        if record is None:
            raise KeyError(line_id)
        return queue_line(record, self._today())

    async def candidates(self, line_id: int, limit: int = 5) -> list[Candidate]:
        """Open invoices of the line's partner, best first (the engine's invoice first).

        Only invoices in the payment's currency (when the 820 names one) are offered.

        Raises:
            KeyError: there is no line ``line_id``.
        """
        record = await self._store.remittance_line(line_id)
        if record is None:
            raise KeyError(line_id)
        items = await self._store.open_items(partner_id=record.partner_id, status="open")
        facts = LineFacts(
            reference=record.reference,
            qualifier=record.reference_qualifier,
            paid=record.paid_amount,
            gross=record.paid_amount + record.discount_amount + record.adjustment_amount,
            engine_invoice=record.invoice_number,
        )
        usable = [
            i
            for i in items
            if i.open_amount > 0 and not (record.currency and i.currency != record.currency)
        ]
        ranked = rank(facts, usable, limit)
        by_id = {item.id: item for item in items}
        out = []
        for found, score, reason in ranked:
            item = by_id[found.id]
            out.append(
                Candidate(
                    open_item_id=item.id,
                    invoice_number=item.invoice_number,
                    po_number=item.po_number,
                    invoice_date=item.invoice_date,
                    due_date=item.due_date,
                    amount=item.amount,
                    open_amount=item.open_amount,
                    score=score,
                    reason=reason,
                )
            )
        return out

    async def applications(self, line_id: int) -> list[ApplicationView]:
        """The line's applications, oldest first, reversed ones too."""
        return [_application(r) for r in await self._store.cash_applications(line_id=line_id)]

    async def history(self, line_id: int) -> list[dict[str, Any]]:
        """The line's audit entries, oldest first: id, at, actor, action, target, detail."""
        return await self._store.audit_entries([f"remittance_line:{line_id}"])
