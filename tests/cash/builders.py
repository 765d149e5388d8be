"""Builders for cash-application tests: open items, remittance lines and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.cash.apply import apply_payments
from gateway.cash.items import OpenItem
from gateway.cash.ledger import Ledger
from gateway.cash.results import CashRun, PartnerRules, PaymentAdvice
from gateway.model import Adjustment, Remittance, RemittanceLine

PAID_ON = dt.date(2024, 6, 10)


def D(text: str) -> Decimal:
    return Decimal(text)


def item(
    number: str,
    amount: str,
    *,
    open_amount: str | None = None,
    partner: str = "ACME",
    po: str | None = None,
    invoice_date: dt.date = dt.date(2024, 5, 1),
    discount_percent: str = "0",
    discount_days: int | None = None,
    currency: str | None = "USD",
) -> OpenItem:
    return OpenItem(
        invoice_number=number,
        partner_id=partner,
        invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=30),
        amount=D(amount),
        open_amount=D(open_amount if open_amount is not None else amount),
        po_number=po,
        currency=currency,
        discount_percent=D(discount_percent),
        discount_days=discount_days,
    )


def rmr(
    reference: str,
    paid: str | None,
    *,
    qualifier: str = "IV",
    invoice_amount: str | None = None,
    discount: str | None = None,
    adjustments: tuple[tuple[str, str], ...] = (),
) -> RemittanceLine:
    return RemittanceLine(
        reference_qualifier=qualifier,
        reference=reference,
        paid_amount=D(paid) if paid is not None else None,
        invoice_amount=D(invoice_amount) if invoice_amount else None,
        discount_amount=D(discount) if discount else None,
        adjustments=tuple(Adjustment(amount=D(a), reason_code=c) for a, c in adjustments),
    )


def payment(
    *lines: RemittanceLine,
    amount: str | None = None,
    trace: str = "TRN1",
    paid_on: dt.date | None = PAID_ON,
    currency: str | None = "USD",
) -> Remittance:
    total = sum((line.paid_amount or Decimal(0) for line in lines), Decimal(0))
    return Remittance(
        trace_number=trace,
        payment_amount=D(amount) if amount is not None else total,
        credit_debit="C",
        payment_method="ACH",
        payment_date=paid_on,
        currency=currency,
        lines=lines,
    )


def apply(
    items: list[OpenItem],
    *remittances: Remittance,
    partner: str = "ACME",
    rules: PartnerRules | None = None,
) -> CashRun:
    advices = [PaymentAdvice(r, partner, rules or PartnerRules()) for r in remittances]
    return apply_payments(Ledger(items), advices)
