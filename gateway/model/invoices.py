"""The invoice (810) a seller sends for what it shipped.

Lines are the same ``LineItem`` as on a purchase order. ``total_amount`` is the
amount due in currency units, allowances and charges included, exactly as the
seller stated it; nothing here recomputes or checks it.

Imports only the standard library, pydantic and sibling modules of
``gateway.model``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.model.envelope import Envelope
from gateway.model.money import AllowanceCharge, CurrencyCode, Terms
from gateway.model.orders import LineItem
from gateway.model.parties import DateRef, Party, Reference


class Invoice(BaseModel):
    """An invoice (810)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["invoice"] = "invoice"
    invoice_number: str
    invoice_date: dt.date
    po_number: str | None = None
    po_date: dt.date | None = None
    release_number: str | None = None
    transaction_type: str | None = None
    """Transaction type code, e.g. ``DI`` debit invoice, ``CR`` credit memo."""
    currency: CurrencyCode | None = None
    parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateRef, ...] = ()
    terms: Terms | None = None
    lines: tuple[LineItem, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    total_amount: Decimal
    envelope: Envelope | None = None

    @property
    def lines_total(self) -> Decimal:
        """Sum of quantity × unit price over the lines that have a price, unrounded."""
        return sum(
            (line.quantity * line.unit_price for line in self.lines if line.unit_price is not None),
            Decimal(0),
        )
