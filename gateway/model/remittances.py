"""The remittance advice (820): a payment and the invoices it settles.

Each ``RemittanceLine`` names what is being paid (usually an invoice number),
how much, and why the amount differs from what was billed (adjustments with
their reason codes). Cash application reads these; nothing here matches them.

Imports only the standard library, pydantic and sibling modules of
``gateway.model``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.model.envelope import Envelope
from gateway.model.money import CurrencyCode
from gateway.model.parties import DateRef, Party, Reference


class Adjustment(BaseModel):
    """An adjustment to one remitted item (ADX), e.g. a short pay or a deduction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Decimal
    """Signed as the payer sent it; deductions are usually negative."""
    reason_code: str
    """Adjustment reason, e.g. ``01`` pricing error, ``19`` unearned discount, ``CS`` customer."""
    reference_qualifier: str | None = None
    reference: str | None = None


class RemittanceLine(BaseModel):
    """One item a payment settles (RMR loop), usually an invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference_qualifier: str
    """What ``reference`` is, e.g. ``IV`` invoice number, ``PO`` purchase order, ``CR`` credit."""
    reference: str
    paid_amount: Decimal | None = None
    invoice_amount: Decimal | None = None
    discount_amount: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()
    dates: tuple[DateRef, ...] = ()
    references: tuple[Reference, ...] = ()
    """Further references inside the item's loop, e.g. the purchase order of the invoice."""
    payer_location: str | None = None
    """The entity (store, division) the item belongs to, from the ENT loop."""


class Remittance(BaseModel):
    """A payment order / remittance advice (820)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["remittance"] = "remittance"
    handling_code: str | None = None
    """Transaction handling, e.g. ``C`` payment with remittance, ``I`` remittance only."""
    trace_number: str
    payment_amount: Decimal
    credit_debit: Literal["C", "D"]
    payment_method: str
    """Payment method, e.g. ``ACH``, ``CHK`` cheque, ``FWT`` wire, ``NON`` no payment."""
    payment_date: dt.date | None = None
    currency: CurrencyCode | None = None
    payer: Party | None = None
    payee: Party | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateRef, ...] = ()
    lines: tuple[RemittanceLine, ...] = ()
    envelope: Envelope | None = None
