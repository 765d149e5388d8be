"""The hypothesis strategies make valid canonical documents that keep to X12's limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from pydantic import BaseModel

from gateway.model import Invoice, PurchaseOrder, PurchaseOrderAck, parse_document
from tests.strategies import (
    MAX_DATE,
    MIN_DATE,
    X12_TEXT_ALPHABET,
    invoices,
    purchase_order_acks,
    purchase_orders,
)

# Fields whose Decimal value is money (at most 2 decimals); every other Decimal is a quantity.
MONEY_FIELDS = {
    "unit_price", "total_amount", "amount", "discount_amount", "discount_percent", "percent",
}  # fmt: skip


def _leaves(model: BaseModel) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for name, value in model.__dict__.items():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, BaseModel):
                found.extend(_leaves(item))
            else:
                found.append((name, item))
    return found


def _assert_x12_representable(document: BaseModel) -> None:
    for name, value in _leaves(document):
        if isinstance(value, str):
            assert value, name
            assert value == value.strip(), name
            assert set(value) <= set(X12_TEXT_ALPHABET), name
        elif isinstance(value, Decimal):
            exponent = value.as_tuple().exponent
            assert isinstance(exponent, int)
            assert exponent >= (-2 if name in MONEY_FIELDS else -4), name
            assert not (value.is_zero() and value.is_signed()), name
            assert abs(value) < 10**8, name
        elif isinstance(value, dt.date):
            assert MIN_DATE <= value <= MAX_DATE, name
        elif isinstance(value, dt.time):
            assert (value.second, value.microsecond) == (0, 0), name


@given(invoices(with_envelope=True))
def test_invoices_round_trip_and_keep_to_x12(invoice: Invoice) -> None:
    assert parse_document(invoice.model_dump_json()) == invoice
    _assert_x12_representable(invoice)
    assert 1 <= len(invoice.lines) <= 5
    assert [line.line_number for line in invoice.lines] == [
        str(n) for n in range(1, len(invoice.lines) + 1)
    ]
    assert len({p.role for p in invoice.parties}) == len(invoice.parties)
    for line in invoice.lines:
        assert None not in (line.uom, line.unit_price)
        qualifiers = [p.qualifier for p in line.product_ids]
        assert len(set(qualifiers)) == len(qualifiers) >= 1
        assert set(qualifiers) <= {"VN", "UP", "BP", "IN", "EN"}
    assert {p.role for p in invoice.parties} <= {"ST", "BT", "RE", "SU"}


@given(invoices())
def test_invoice_total_is_lines_plus_charges_minus_allowances(invoice: Invoice) -> None:
    signed = sum(
        (ac.amount or Decimal(0)) * (1 if ac.indicator == "C" else -1)
        for ac in invoice.allowances_charges
    )
    assert invoice.envelope is None
    assert abs(invoice.total_amount - (invoice.lines_total + signed)) <= Decimal("0.005")


@given(purchase_orders(with_envelope=True))
def test_purchase_orders_round_trip_and_keep_to_x12(order: PurchaseOrder) -> None:
    assert parse_document(order.model_dump_json()) == order
    _assert_x12_representable(order)
    for line in order.lines:
        assert line.price_basis is None or line.unit_price is not None
        assert len({d.location_qualifier for d in line.destinations}) <= 1


@given(purchase_order_acks())
def test_purchase_order_acks_round_trip_and_keep_to_x12(ack: PurchaseOrderAck) -> None:
    assert parse_document(ack.model_dump_json()) == ack
    _assert_x12_representable(ack)
    for line in ack.lines:
        assert (line.ack_quantity is None) == (line.ack_uom is None)
        assert (line.scheduled_date is None) == (line.scheduled_date_qualifier is None)
        if line.status is None:
            assert (line.ack_quantity, line.scheduled_date) == (None, None)
