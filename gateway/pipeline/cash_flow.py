"""Applying an inbound remittance (820) in the worker's deliver stage: :func:`apply_remittance`.

The partner's open items are read (and locked, on PostgreSQL) inside the stage's unit,
closed ones too, so that a payment quoting a closed invoice is recognised and queued; the
matching engine (:func:`gateway.cash.apply.apply_payments`) decides each line with the
partner's ``business.cash`` rules, and the unit records one ``remittances`` row, one
``remittance_lines`` row per RMR, the applications (actor ``auto``) and the new open
amounts, then marks the document ``delivered``: all of it commits, or none of it.

What is applied automatically, and what goes to the AR review queue (``review``):

- ``matched``: the cash (and an earned discount) goes on the invoice, which closes;
  ``auto``. An overpayment leaves the excess on the line, unplaced: ``open``, so that a
  person decides between on account and a refund.
- ``partial``: the cash (and an earned discount) goes on the invoice, which stays open;
  ``open``. ADX deductions are not recorded automatically: the clerk records the
  shortfall as a deduction (with its reason code) or writes it off.
- ``unmatched``: nothing applied; ``open``.
- The whole remittance is held (nothing applied, every line ``open``, the engine's
  choice kept as a proposal) when its figures cannot be trusted: BPR02 differs from the
  sum of the RMR paid amounts (which figure is right is for a person to find out), the
  payment is a debit (BPR03 ``D``), it has no RMR lines at all (then one queue line holds
  the whole payment, so that the cash is not lost from sight), or another document of
  the partner already brought a payment with the same trace number and amount (the same
  820 sent twice under a new ISA13). Applying cash to the wrong invoice is worse than not
  applying it.

Safety: the document's remittance row is unique, so a reprocessed document is only marked
delivered again. Each open item is updated with an optimistic check on the amount read;
a concurrent change raises :class:`~gateway.errors.TransientDeliveryError`, the unit
rolls back and the worker retries the document.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Final

from gateway.business import CashTolerances
from gateway.cash.apply import apply_payments, payment_date
from gateway.cash.items import OpenItem as EngineItem
from gateway.cash.ledger import Ledger
from gateway.cash.results import PartnerRules, PaymentAdvice
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.pipeline.context import log_extra
from gateway.storage import State
from gateway.storage.cash_rows import NewApplication, NewRemittanceLine

if TYPE_CHECKING:
    import datetime as dt

    from gateway.cash.results import LineResult, PaymentResult
    from gateway.model import Remittance, RemittanceLine
    from gateway.pipeline.context import StageContext
    from gateway.storage import DocumentRecord, OpenItem, Store

log = logging.getLogger(__name__)

_CENT: Final = Decimal("0.01")
_ZERO: Final = Decimal("0.00")
_NO_DETAIL: Final = "(no remittance detail)"
"""The reference of the one queue line a payment without RMR lines gets."""


def _money(value: Decimal | None) -> Decimal:
    return (value or _ZERO).quantize(_CENT, ROUND_HALF_UP)


@dataclass
class _Plan:
    """What one remittance's writes will be."""

    lines: list[NewRemittanceLine] = field(default_factory=list)
    applications: list[tuple[int, NewApplication]] = field(default_factory=list)
    """(line position, application without its line id yet)."""
    reductions: dict[int, Decimal] = field(default_factory=dict)
    """Open item id → amount taken off it."""
    cash_applied: Decimal = _ZERO


async def apply_remittance(sc: StageContext, doc: DocumentRecord, remittance: Remittance) -> None:
    """Apply ``remittance`` (document ``doc``) and mark ``doc`` delivered, in one unit.

    Raises:
        PermanentDeliveryError: the document names no partner.
        TransientDeliveryError: an open item changed meanwhile (the worker retries).
    """
    if doc.partner_id is None:
        raise PermanentDeliveryError("a remittance without a partner cannot be applied")
    partner_id = doc.partner_id
    profile = sc.partner(partner_id)
    # without a profile: the profile defaults (no amount-only matching), not the engine's
    cash = profile.business.cash if profile is not None else CashTolerances()
    rules = PartnerRules.from_profile(cash)
    store = sc.store
    async with sc.unit(doc) as unit:
        if await store.remittance_of_document(doc.id) is not None:
            await unit.set_state(
                doc.id, State.DELIVERED, "cash was applied before; nothing applied again"
            )
            return
        stored = await store.partner_items(partner_id, lock=True)
        ledger = Ledger(_engine_item(item) for item in stored)
        result = apply_payments(ledger, [PaymentAdvice(remittance, partner_id, rules)]).payments[0]
        hold = await _hold_reason(store, partner_id, remittance, result)
        effective = payment_date(remittance) or sc.clock().date()
        plan = _plan(result, remittance, stored, hold=hold, partner_id=partner_id, day=effective)
        remittance_id = await _write(store, doc, remittance, result, plan, stored)
        message, detail = _summary(result, plan, hold, remittance_id)
        await unit.set_state(doc.id, State.DELIVERED, message, detail=detail)
        # the audit trail of the automatic run; each application also names actor "auto"
        await store.audit("auto", "cash.apply", f"remittance:{remittance_id}", detail)
    log.info("remittance applied", extra=log_extra(doc, remittance_id=remittance_id))


def _engine_item(item: OpenItem) -> EngineItem:
    """A stored open item as the engine's; a closed one has nothing open."""
    return EngineItem(
        invoice_number=item.invoice_number,
        partner_id=item.partner_id,
        invoice_date=item.invoice_date,
        due_date=item.due_date,
        amount=item.amount,
        open_amount=item.open_amount if item.status == "open" else _ZERO,
        po_number=item.po_number,
        currency=item.currency,
        discount_percent=item.discount_percent or Decimal(0),
        discount_days=item.discount_days,
    )


async def _hold_reason(
    store: Store, partner_id: str, remittance: Remittance, result: PaymentResult
) -> str | None:
    """Why nothing of this remittance may be applied automatically, or None."""
    if remittance.credit_debit != "C":
        return "the payment is a debit (BPR03 D), not money paid to us"
    if not remittance.lines:
        return "the payment carries no remittance lines (RMR): nothing names an invoice"
    if result.total_mismatch != 0:
        return (
            f"the payment amount {_money(result.payment_amount)} differs from the lines' "
            f"total {_money(result.lines_total)}"
        )
    for earlier in await store.remittances_with_trace(partner_id, remittance.trace_number):
        if earlier.payment_amount == _money(remittance.payment_amount):
            return (
                f"trace number {remittance.trace_number} for {earlier.payment_amount} was "
                f"already applied from document #{earlier.document_id}: a duplicate payment?"
            )
    return None


def _plan(
    result: PaymentResult,
    remittance: Remittance,
    stored: list[OpenItem],
    *,
    hold: str | None,
    partner_id: str,
    day: dt.date,
) -> _Plan:
    items = {item.invoice_number: item for item in stored}
    plan = _Plan()
    for position, (decided, line) in enumerate(zip(result.lines, remittance.lines, strict=True)):
        item = items.get(decided.invoice_number or "")
        applies = hold is None and item is not None and decided.status != "unmatched"
        paid = _money(line.paid_amount)
        applied = _money(decided.applied_amount) if applies else _ZERO
        discount = _money(decided.discount_amount) if applies else _ZERO
        review = "auto" if applies and decided.status == "matched" and applied == paid else "open"
        reason = decided.reason if hold is None else f"held, {hold}; the engine: {decided.reason}"
        plan.lines.append(_line(decided, line, paid=paid, review=review, reason=reason))
        if not applies or item is None:
            continue
        for kind, amount in (("payment", applied), ("discount", discount)):
            if amount > 0:
                app = NewApplication(partner_id, kind, amount, day, "auto", open_item_id=item.id)
                plan.applications.append((position, app))
        plan.reductions[item.id] = plan.reductions.get(item.id, _ZERO) + applied + discount
        plan.cash_applied += applied
    if not remittance.lines and hold is not None:
        # cash with no RMR at all: one queue line for the whole payment, or no one sees it
        plan.lines.append(
            NewRemittanceLine(
                line_index=0,
                reference_qualifier=None,
                reference=_NO_DETAIL,
                paid_amount=_money(result.payment_amount),
                invoice_amount=None,
                discount_amount=_ZERO,
                adjustment_amount=_ZERO,
                adjustment_codes=(),
                status="unmatched",
                review="open",
                rule="none",
                confidence=0.0,
                reason=f"held, {hold}",
                invoice_number=None,
            )
        )
    return plan


def _line(
    decided: LineResult, line: RemittanceLine, *, paid: Decimal, review: str, reason: str
) -> NewRemittanceLine:
    return NewRemittanceLine(
        line_index=decided.index,
        reference_qualifier=line.reference_qualifier[:8] or None,
        reference=line.reference,
        paid_amount=paid,
        invoice_amount=None if line.invoice_amount is None else _money(line.invoice_amount),
        discount_amount=_money(line.discount_amount),
        adjustment_amount=_money(decided.adjustment_amount),
        adjustment_codes=decided.adjustment_codes,
        status=decided.status,
        review=review,
        rule=decided.rule,
        confidence=decided.confidence,
        reason=reason,
        invoice_number=decided.invoice_number,
    )


async def _write(
    store: Store,
    doc: DocumentRecord,
    remittance: Remittance,
    result: PaymentResult,
    plan: _Plan,
    stored: list[OpenItem],
) -> int:
    assert doc.partner_id is not None
    payer = remittance.payer
    remittance_id = await store.add_remittance(
        document_id=doc.id,
        partner_id=doc.partner_id,
        trace_number=remittance.trace_number,
        payer_id=payer.id if payer is not None else None,
        payment_amount=_money(result.payment_amount),
        lines_total=_money(result.lines_total),
        unapplied_amount=_money(result.payment_amount) - plan.cash_applied,
        currency=remittance.currency,
        payment_date=payment_date(remittance),
    )
    line_ids = [
        await store.add_remittance_line(remittance_id, doc.partner_id, line) for line in plan.lines
    ]
    for position, app in plan.applications:
        await store.add_cash_application(_with_line(app, line_ids[position]))
    before = {item.id: item for item in stored}  # what the engine worked from
    for item_id, taken in plan.reductions.items():
        item = before[item_id]
        new = item.open_amount - taken
        if new < 0:
            raise PermanentDeliveryError(
                f"invoice {item.invoice_number}: applying {taken} would take it below zero"
            )
        if not await store.change_open_amount(item_id, expected=item.open_amount, new=new):
            raise TransientDeliveryError(
                f"invoice {item.invoice_number} changed while the payment was applied; "
                "it is applied again"
            )
    return remittance_id


def _with_line(app: NewApplication, line_id: int) -> NewApplication:
    return NewApplication(
        partner_id=app.partner_id,
        kind=app.kind,
        amount=app.amount,
        effective_date=app.effective_date,
        actor=app.actor,
        line_id=line_id,
        open_item_id=app.open_item_id,
        reason_code=app.reason_code,
    )


def _summary(
    result: PaymentResult, plan: _Plan, hold: str | None, remittance_id: int
) -> tuple[str, dict[str, Any]]:
    counts = Counter(line.status for line in result.lines)
    to_review = sum(1 for line in plan.lines if line.review == "open")
    tally = (
        f"{counts['matched']} matched, {counts['partial']} partial, "
        f"{counts['unmatched']} unmatched ({to_review} to review)"
    )
    mismatch = _money(result.payment_amount) - _money(result.lines_total)
    if hold is not None:
        message = f"cash held for review, nothing applied: {hold}; the engine found {tally}"
    else:
        message = f"cash applied: {tally}"
    detail: dict[str, Any] = {
        "remittance_id": remittance_id,
        "matched": counts["matched"],
        "partial": counts["partial"],
        "unmatched": counts["unmatched"],
        "to_review": to_review,
        "applied": str(plan.cash_applied),
        "total_mismatch": str(mismatch),
        "held": hold,
    }
    return message, detail
