"""Invoice helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.model import Invoice, LineItem


def test_lines_total_sums_priced_lines_without_rounding() -> None:
    invoice = Invoice(
        invoice_number="INV-1",
        invoice_date=dt.date(2024, 3, 1),
        lines=(
            LineItem(quantity=Decimal("3"), unit_price=Decimal("1.005")),
            LineItem(quantity=Decimal("2.5"), unit_price=Decimal("-4.00")),
            LineItem(quantity=Decimal("7")),  # unpriced lines do not count
        ),
        total_amount=Decimal("-6.99"),
    )
    assert invoice.lines_total == Decimal("-6.985")


def test_lines_total_of_no_lines_is_zero_and_not_serialised() -> None:
    invoice = Invoice(invoice_number="I", invoice_date=dt.date(2024, 3, 1), total_amount=0)
    assert invoice.lines_total == Decimal(0)
    assert isinstance(invoice.lines_total, Decimal)
    assert "lines_total" not in invoice.model_dump()
