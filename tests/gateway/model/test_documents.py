"""The discriminated union of canonical documents and ``parse_document``."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.errors import MappingError
from gateway.model import (
    DOCUMENT_ADAPTER,
    FunctionalAck,
    Invoice,
    LineItem,
    PurchaseOrder,
    PurchaseOrderAck,
    Remittance,
    parse_document,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

MINIMAL: tuple[BaseModel, ...] = (
    PurchaseOrder(po_number="PO1", purpose_code="00", order_type="SA"),
    Invoice(invoice_number="INV1", invoice_date=dt.date(2024, 3, 1), total_amount=Decimal("0")),
    Remittance(
        trace_number="T1", payment_amount=Decimal("1"), credit_debit="C", payment_method="ACH"
    ),
    FunctionalAck(
        ack_type="997",
        functional_id="PO",
        group_control="1",
        group_status="A",
        sets_included=0,
        sets_received=0,
        sets_accepted=0,
    ),
    PurchaseOrderAck(
        purpose_code="00", ack_type="AK", po_number="PO1", po_date=dt.date(2024, 1, 2)
    ),
)
TYPES = {
    "purchase_order": PurchaseOrder,
    "invoice": Invoice,
    "remittance": Remittance,
    "functional_ack": FunctionalAck,
    "purchase_order_ack": PurchaseOrderAck,
}


@pytest.mark.parametrize("document", MINIMAL, ids=lambda d: type(d).__name__)
def test_parse_document_picks_the_class_named_by_type(document: BaseModel) -> None:
    text = document.model_dump_json()
    parsed = parse_document(text)
    assert type(parsed) is TYPES[json.loads(text)["type"]]
    assert parsed == document
    assert parse_document(text.encode()) == document


@pytest.mark.parametrize("document", MINIMAL, ids=lambda d: type(d).__name__)
def test_adapter_round_trips_python_and_json(document: BaseModel) -> None:
    assert DOCUMENT_ADAPTER.validate_python(document.model_dump()) == document
    assert DOCUMENT_ADAPTER.dump_json(document) == document.model_dump_json().encode()


def test_hand_written_document_needs_only_required_fields() -> None:
    text = """{"type": "invoice", "invoice_number": "INV-7", "invoice_date": "2024-05-01",
               "lines": [{"quantity": 2.5, "unit_price": "4.10"}], "total_amount": "10.25"}"""
    invoice = parse_document(text)
    assert isinstance(invoice, Invoice)
    assert invoice.envelope is None
    assert invoice.lines == (LineItem(quantity=Decimal("2.5"), unit_price=Decimal("4.10")),)
    assert invoice.lines[0].quantity.as_tuple().exponent == -1  # read from the JSON text, no float


def test_error_message_lists_location_and_message() -> None:
    text = json.dumps(
        {
            "type": "invoice",
            "invoice_number": "INV-7",
            "invoice_date": "2024-13-01",
            "lines": [{"quantity": "SECRET-VALUE"}],
        }
    )
    with pytest.raises(MappingError) as info:
        parse_document(text)
    message = str(info.value)
    assert message.splitlines() == [
        "not a valid canonical document (3 problems):",
        "  invoice.invoice_date: Input should be a valid date or datetime, "
        "month value is outside expected range of 1-12",
        "  invoice.lines[0].quantity: Input should be a valid decimal",
        "  invoice.total_amount: Field required",
    ]
    assert "SECRET-VALUE" not in message
    assert info.value.path == "invoice.invoice_date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type": "shipment"}', "(document): Input tag 'shipment' found using 'type'"),
        ("{}", "(document): Unable to extract tag using discriminator 'type'"),
        ("[1, 2]", "(document): Input should be an object"),
        ("{not json", "(document): Invalid JSON"),
        (b"\xff\xfe", "(document): Invalid JSON"),
    ],
    ids=["unknown-type", "no-type", "not-an-object", "bad-json", "bad-bytes"],
)
def test_error_message_for_non_documents(text: str | bytes, expected: str) -> None:
    with pytest.raises(MappingError, match="not a valid canonical document") as info:
        parse_document(text)
    assert expected in str(info.value)
    assert info.value.path == "(document)"


def test_long_error_lists_are_cut_short() -> None:
    lines = [{"quantity": "x"} for _ in range(30)]
    text = json.dumps({"type": "purchase_order", "po_number": "P", "purpose_code": "00",
                       "order_type": "SA", "lines": lines})  # fmt: skip
    with pytest.raises(MappingError) as info:
        parse_document(text)
    shown = str(info.value).splitlines()
    assert shown[0] == "not a valid canonical document (30 problems):"
    assert len(shown) == 1 + 20 + 1
    assert shown[-1] == "  ... and 10 more"
