"""Applying payments: each line's invoice found by the rules, then settled, in a fixed order.

:func:`apply_payments` runs the matching stages of :mod:`gateway.cash.match` over every
line of every payment, one stage at a time, so that a line matched by its exact invoice
number is served before a near miss or an amount-only guess could take the same invoice.
Within a stage, lines go in input order (payment, then RMR position), which makes a run
deterministic. The :class:`~gateway.cash.ledger.Ledger` keeps what is still open on each
invoice, so no invoice receives more than was open on it.

Settling a found invoice (:func:`settle_line`):

- paid what is open: ``matched``; paid more: ``matched``, the excess stays unapplied on
  account;
- paid less, with a discount inside the invoice's terms plus the partner's grace days that
  accounts for the difference: ``matched`` (settled in full with the discount);
- otherwise paid less: ``partial``; the shortfall stays open, and when the line carries ADX
  adjustments it is recorded as a deduction with their reason codes. A discount taken late
  is not granted.

Imports only the standard library and ``gateway.cash``; must not import ``gateway.pipeline``,
``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from gateway.cash.match import (
    CENT,
    Amounts,
    Finding,
    by_amount,
    by_near_miss,
    by_reference,
    discount_allowed,
)
from gateway.cash.results import ZERO, CashRun, LineResult, PaymentResult

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from gateway.cash.items import OpenItem
    from gateway.cash.ledger import Ledger
    from gateway.cash.results import PaymentAdvice, Rule, Status
    from gateway.model import Remittance, RemittanceLine

_PAYMENT_DATES: Final = ("097", "009", "234", "003")


@dataclass(slots=True)
class _Work:
    advice: PaymentAdvice
    index: int
    line: RemittanceLine
    amounts: Amounts
    paid_on: dt.date | None


def apply_payments(
    ledger: Ledger,
    advices: Sequence[PaymentAdvice],
    *,
    progress: Callable[[int], None] | None = None,
) -> CashRun:
    """Apply every payment's lines against ``ledger`` and return the decisions.

    ``progress`` is called with the number of lines decided so far, now and then. The
    cyclic garbage collector is paused meanwhile: a run makes millions of short-lived
    objects and no cycles, and each full collection would walk the whole ledger again.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _apply(ledger, advices, progress)
    finally:
        if paused:
            gc.enable()


def _apply(
    ledger: Ledger, advices: Sequence[PaymentAdvice], progress: Callable[[int], None] | None
) -> CashRun:
    pending: list[_Work] = []
    decided: dict[tuple[int, int], LineResult] = {}
    for number, advice in enumerate(advices):
        paid_on = payment_date(advice.remittance)
        for index, line in enumerate(advice.remittance.lines):
            work = _Work(advice, index, line, Amounts.of(line), paid_on)
            refused = _refuse(work)
            if refused is None:
                pending.append(work)
            else:
                decided[(number, index)] = refused
    numbers = {id(advice): n for n, advice in enumerate(advices)}
    total = len(pending) + len(decided)
    tick = max(1, total // 200)
    for stage in (_stage_reference, _stage_near_miss, _stage_amount):
        still: list[_Work] = []
        for work in pending:
            finding = stage(ledger, work)
            if finding is None:
                still.append(work)
                continue
            decided[(numbers[id(work.advice)], work.index)] = _decide(ledger, work, finding)
            if progress is not None and len(decided) % tick == 0:
                progress(len(decided))
        pending = still
    if progress is not None:
        progress(total)
    return CashRun([_payment(advice, n, decided) for n, advice in enumerate(advices)])


def payment_date(remittance: Remittance) -> dt.date | None:
    """When the partner paid: BPR16, else a payment or creation date, else the ISA date."""
    if remittance.payment_date is not None:
        return remittance.payment_date
    dates = {d.qualifier: d.date for d in remittance.dates}
    for qualifier in _PAYMENT_DATES:
        if qualifier in dates:
            return dates[qualifier]
    envelope = remittance.envelope
    return envelope.interchange_date if envelope is not None else None


def _refuse(work: _Work) -> LineResult | None:
    line = work.line
    if line.paid_amount is None:
        return _unmatched(work, "the line carries no paid amount (RMR04)")
    if line.paid_amount <= 0:
        return _unmatched(
            work, f"paid amount {line.paid_amount} is not a payment (credits need a person)"
        )
    return None


def _stage_reference(ledger: Ledger, work: _Work) -> Finding | None:
    book = ledger.book(work.advice.partner_id)
    if book is None:
        return Finding(None, "none", 0.0, "the partner has no open items")
    return by_reference(ledger, book, work.line, work.amounts, work.advice.rules)


def _stage_near_miss(ledger: Ledger, work: _Work) -> Finding | None:
    book = ledger.book(work.advice.partner_id)
    assert book is not None  # stage 1 decided every line of a partner without a book
    return by_near_miss(ledger, book, work.line, work.amounts)


def _stage_amount(ledger: Ledger, work: _Work) -> Finding:
    advice = work.advice
    return by_amount(ledger, advice.partner_id, work.line, work.amounts, advice.rules)


def _decide(ledger: Ledger, work: _Work, finding: Finding) -> LineResult:
    item = finding.item
    if item is None:
        return _unmatched(work, finding.reason, rule=finding.rule)
    currency = work.advice.remittance.currency
    if currency and item.currency and currency != item.currency:
        return _unmatched(
            work,
            f"{finding.reason}, but the payment is in {currency} and the invoice in "
            f"{item.currency}",
            rule=finding.rule,
        )
    return settle_line(ledger, work.advice, work.index, item, finding=finding, amounts=work.amounts)


def settle_line(
    ledger: Ledger,
    advice: PaymentAdvice,
    index: int,
    item: OpenItem,
    *,
    finding: Finding,
    amounts: Amounts | None = None,
) -> LineResult:
    """Apply one line to ``item``, record it on the ledger and say what was done."""
    line = advice.remittance.lines[index]
    amounts = amounts or Amounts.of(line)
    remaining = ledger.remaining(item)
    paid = amounts.paid

    def result(status: Status, applied: Decimal, how: str, **more: Decimal) -> LineResult:
        return LineResult(
            index=index,
            reference=line.reference,
            invoice_number=item.invoice_number,
            status=status,
            applied_amount=applied,
            discount_amount=more.get("discount", ZERO),
            adjustment_amount=more.get("deduction", ZERO),
            confidence=finding.confidence,
            reason=f"{finding.reason}; {how}",
            rule=finding.rule,
            adjustment_codes=amounts.codes,
        )

    if paid >= remaining:
        ledger.settle(item, remaining)
        excess = paid - remaining
        how = "paid in full" if excess == 0 else f"overpaid by {excess}, left unapplied on account"
        return result("matched", remaining, how)
    short = remaining - paid
    granted, note = _discount(item, amounts, short, advice, payment_date(advice.remittance))
    ledger.settle(item, paid + granted)
    left = short - granted
    if left <= 0:
        return result("matched", paid, f"{note}, settled in full", discount=granted)
    deduction = left if amounts.codes else ZERO
    how = _short_note(left, amounts, advice, note)
    return result("partial", paid, how, discount=granted, deduction=deduction)


def _discount(
    item: OpenItem, amounts: Amounts, short: Decimal, advice: PaymentAdvice, paid_on: dt.date | None
) -> tuple[Decimal, str]:
    """The discount granted against ``short``, and a note saying why (or why not)."""
    allowed = discount_allowed(item)
    last = item.discount_date()
    explicit = amounts.discount > 0
    # Without RMR06, a shortfall the ADX adjustments do not explain, no larger than the
    # terms' discount, is a discount taken; anything larger is a plain short pay.
    claimed = amounts.discount if explicit else short - amounts.deduction
    if claimed <= 0 or (not explicit and (allowed <= 0 or claimed > allowed + CENT)):
        return ZERO, ""
    if allowed <= 0 or last is None:
        return ZERO, f"discount of {claimed} taken but the invoice's terms give none"
    grace = advice.rules.discount_grace_days
    deadline = last + dt.timedelta(days=grace)
    terms = f"{item.discount_percent}% by {last.isoformat()}" + (
        f" + {grace} grace days" if grace else ""
    )
    if paid_on is None:
        return ZERO, f"discount of {claimed} taken, but the payment has no date to check {terms}"
    if paid_on > deadline:
        late = (paid_on - deadline).days
        return ZERO, f"discount of {claimed} taken {late} days late ({terms}), not earned"
    if claimed > allowed + CENT:
        return ZERO, f"discount of {claimed} taken, more than the {allowed} the terms give"
    granted = min(claimed, short)
    return granted, f"discount of {granted} earned ({terms}, paid {paid_on.isoformat()})"


def _short_note(left: Decimal, amounts: Amounts, advice: PaymentAdvice, note: str) -> str:
    parts = [note] if note else []
    if amounts.codes:
        codes = ", ".join(amounts.codes)
        said = f"ADX adjustments total {amounts.deduction}"
        mismatch = "" if amounts.deduction == left else f" ({said})"
        parts.append(f"short by {left}, recorded as a deduction, reason {codes}{mismatch}")
    else:
        parts.append(f"short by {left}, which stays open on the invoice")
    tolerance = advice.rules.amount_tolerance
    if 0 < left <= tolerance:
        parts.append(f"within the partner's write-off tolerance of {tolerance}")
    return "; ".join(parts)


def _unmatched(work: _Work, reason: str, *, rule: Rule = "none") -> LineResult:
    return LineResult(
        index=work.index,
        reference=work.line.reference,
        invoice_number=None,
        status="unmatched",
        applied_amount=ZERO,
        discount_amount=ZERO,
        adjustment_amount=ZERO,
        confidence=0.0,
        reason=reason,
        rule=rule,
        adjustment_codes=work.amounts.codes,
    )


def _payment(
    advice: PaymentAdvice, number: int, decided: dict[tuple[int, int], LineResult]
) -> PaymentResult:
    remittance = advice.remittance
    lines = tuple(decided[(number, i)] for i in range(len(remittance.lines)))
    applied = sum((line.applied_amount for line in lines), ZERO)
    lines_total = sum((line.paid_amount or ZERO for line in remittance.lines), ZERO)
    return PaymentResult(
        trace_number=remittance.trace_number,
        payer_id=advice.partner_id,
        payment_amount=remittance.payment_amount,
        lines=lines,
        unapplied_amount=remittance.payment_amount - applied,
        lines_total=lines_total,
        currency=remittance.currency,
    )
