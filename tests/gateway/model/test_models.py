"""Contract tests every canonical model must pass, run on fully populated examples."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

import gateway.model
from gateway.model import (
    AckLine,
    Address,
    Adjustment,
    AllowanceCharge,
    Contact,
    DateRef,
    Destination,
    ElementNote,
    Envelope,
    FunctionalAck,
    Invoice,
    LineItem,
    Party,
    ProductId,
    PurchaseOrder,
    PurchaseOrderAck,
    Reference,
    Remittance,
    RemittanceLine,
    SegmentNote,
    SetAck,
    Terms,
)

ENVELOPE = Envelope(
    sender_qualifier="ZZ",
    sender_id="ACMESUPPLY",
    receiver_qualifier="01",
    receiver_id="123456789",
    interchange_control="000000905",
    group_control="905",
    transaction_control="0001",
    version="005010X231A1",
    functional_id="IN",
    usage_indicator="T",
    interchange_date=dt.date(2024, 3, 1),
    interchange_time=dt.time(13, 5),
    interchange_version="00501",
    group_sender_id="ACMEAP",
    group_receiver_id="BUYERAP",
    implementation_reference="005010X231A1",
)
ADDRESS = Address(
    lines=("1 Main St", "Dock 4"), city="Columbus", state="OH", postal_code="43215", country="US"
)
CONTACT = Contact(
    function_code="IC", name="Pat Doe", phone="6145550100", email="pat@example.com", fax="1"
)
SHIP_TO = Party(
    role="ST",
    name="Store 42",
    id_qualifier="92",
    id="0042",
    additional_names=("Receiving",),
    address=ADDRESS,
    contacts=(CONTACT,),
)
REFERENCE = Reference(qualifier="DP", value="081", description="Housewares")
DATE = DateRef(qualifier="011", date=dt.date(2024, 3, 2), time=dt.time(9, 30), time_code="ET")
TERMS = Terms(
    terms_type="08",
    basis_date_code="3",
    discount_percent=Decimal("2.00"),
    discount_due_date=dt.date(2024, 3, 11),
    discount_days=10,
    net_due_date=dt.date(2024, 3, 31),
    net_days=30,
    discount_amount=Decimal("24.69"),
    description="2% 10 NET 30",
)
FREIGHT = AllowanceCharge(
    indicator="C",
    code="D240",
    amount=Decimal("15.00"),
    percent_basis="1",
    percent=Decimal("1.5"),
    method="06",
    description="Freight",
)
LINE = LineItem(
    line_number="1",
    quantity=Decimal("12"),
    uom="EA",
    unit_price=Decimal("102.875"),
    price_basis="PE",
    product_ids=(
        ProductId(qualifier="VN", value="W-100"),
        ProductId(qualifier="UP", value="012345678905"),
    ),
    description="Widget, blue",
    references=(REFERENCE,),
    dates=(DATE,),
    allowances_charges=(FREIGHT,),
    destinations=(Destination(location_qualifier="92", location="0042", quantity=Decimal("12")),),
)
PURCHASE_ORDER = PurchaseOrder(
    po_number="PO-4711",
    release_number="R1",
    po_date=dt.date(2024, 2, 28),
    purpose_code="00",
    order_type="SA",
    currency="USD",
    parties=(SHIP_TO,),
    references=(REFERENCE,),
    dates=(DATE,),
    terms=TERMS,
    allowances_charges=(FREIGHT,),
    lines=(LINE,),
    envelope=ENVELOPE,
)
INVOICE = Invoice(
    invoice_number="INV-1001",
    invoice_date=dt.date(2024, 3, 1),
    po_number="PO-4711",
    po_date=dt.date(2024, 2, 28),
    release_number="R1",
    transaction_type="DI",
    currency="USD",
    parties=(SHIP_TO,),
    references=(REFERENCE,),
    dates=(DATE,),
    terms=TERMS,
    lines=(LINE,),
    allowances_charges=(FREIGHT,),
    total_amount=Decimal("1249.50"),
    envelope=ENVELOPE,
)
REMITTANCE = Remittance(
    handling_code="C",
    trace_number="1234567890",
    payment_amount=Decimal("1214.81"),
    credit_debit="C",
    payment_method="ACH",
    payment_date=dt.date(2024, 3, 10),
    currency="USD",
    payer=Party(role="PR", name="Big Retail Inc"),
    payee=Party(role="PE", name="Acme Supply", id_qualifier="1", id="123456789"),
    references=(Reference(qualifier="CK", value="10021"),),
    dates=(DateRef(qualifier="097", date=dt.date(2024, 3, 9)),),
    lines=(
        RemittanceLine(
            reference_qualifier="IV",
            reference="INV-1001",
            paid_amount=Decimal("1214.81"),
            invoice_amount=Decimal("1249.50"),
            discount_amount=Decimal("24.69"),
            adjustments=(
                Adjustment(
                    amount=Decimal("-10.00"),
                    reason_code="01",
                    reference_qualifier="IV",
                    reference="INV-1001",
                ),
            ),
            dates=(DateRef(qualifier="003", date=dt.date(2024, 3, 1)),),
            references=(Reference(qualifier="PO", value="PO-4711"),),
            payer_location="STORE 42",
        ),
    ),
    envelope=ENVELOPE,
)
FUNCTIONAL_ACK = FunctionalAck(
    ack_type="999",
    functional_id="PO",
    group_control="905",
    version="005010X231A1",
    sets=(
        SetAck(
            transaction_set="850",
            control="0001",
            convention="005010X231A1",
            status="R",
            errors=("5",),
            segment_errors=(
                SegmentNote(
                    tag="BEG",
                    position=3,
                    loop_id="1000",
                    code="8",
                    element_errors=(
                        ElementNote(
                            position=5,
                            component=1,
                            repetition=1,
                            reference="373",
                            code="8",
                            bad_value="20241301",
                        ),
                    ),
                ),
            ),
        ),
    ),
    group_status="R",
    sets_included=1,
    sets_received=1,
    sets_accepted=0,
    group_errors=("5",),
    envelope=ENVELOPE,
)
PURCHASE_ORDER_ACK = PurchaseOrderAck(
    purpose_code="00",
    ack_type="AC",
    po_number="PO-4711",
    po_date=dt.date(2024, 2, 28),
    ack_date=dt.date(2024, 2, 29),
    release_number="R1",
    currency="USD",
    parties=(SHIP_TO,),
    references=(REFERENCE,),
    dates=(DATE,),
    lines=(
        AckLine(
            line_number="1",
            quantity=Decimal("12"),
            uom="EA",
            unit_price=Decimal("102.875"),
            price_basis="PE",
            product_ids=(ProductId(qualifier="VN", value="W-100"),),
            description="Widget, blue",
            status="IB",
            ack_quantity=Decimal("12"),
            ack_uom="EA",
            scheduled_date_qualifier="068",
            scheduled_date=dt.date(2024, 3, 15),
        ),
    ),
    envelope=ENVELOPE,
)
DOCUMENTS = (PURCHASE_ORDER, INVOICE, REMITTANCE, FUNCTIONAL_ACK, PURCHASE_ORDER_ACK)


def _collect(model: BaseModel, found: dict[type[BaseModel], BaseModel]) -> None:
    found.setdefault(type(model), model)
    for value in model.__dict__.values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, BaseModel):
                _collect(item, found)


EXAMPLES: dict[type[BaseModel], BaseModel] = {}
for _document in DOCUMENTS:
    _collect(_document, EXAMPLES)

MODEL_CLASSES = sorted(
    (
        obj
        for name in gateway.model.__all__
        if isinstance(obj := getattr(gateway.model, name), type) and issubclass(obj, BaseModel)
    ),
    key=lambda cls: cls.__name__,
)

# The field names the canonical-model contract fixes; models may add more.
CONTRACT_FIELDS: dict[type[BaseModel], set[str]] = {
    Envelope: {
        "sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id",
        "interchange_control", "group_control", "transaction_control", "version",
        "functional_id", "usage_indicator", "interchange_date", "interchange_time",
    },
    Address: {"lines", "city", "state", "postal_code", "country"},
    Party: {"role", "name", "id_qualifier", "id", "address"},
    Reference: {"qualifier", "value", "description"},
    DateRef: {"qualifier", "date", "time"},
    Terms: {
        "discount_percent", "discount_days", "net_days", "description", "terms_type",
        "basis_date_code", "discount_due_date", "net_due_date", "discount_amount",
    },
    ProductId: {"qualifier", "value"},
    Destination: {"location_qualifier", "location", "quantity"},
    LineItem: {
        "line_number", "quantity", "uom", "unit_price", "product_ids", "description",
        "destinations",
    },
    PurchaseOrder: {
        "type", "po_number", "release_number", "po_date", "purpose_code", "order_type",
        "currency", "parties", "references", "dates", "terms", "lines", "envelope",
    },
    AllowanceCharge: {"indicator", "code", "amount", "percent", "description", "method"},
    Invoice: {
        "type", "invoice_number", "invoice_date", "po_number", "po_date", "currency",
        "parties", "references", "terms", "lines", "allowances_charges", "total_amount",
        "envelope", "transaction_type",
    },
    Adjustment: {"amount", "reason_code", "reference"},
    RemittanceLine: {
        "reference_qualifier", "reference", "paid_amount", "invoice_amount",
        "discount_amount", "adjustments", "dates", "references", "payer_location",
    },
    Remittance: {
        "type", "trace_number", "payment_amount", "credit_debit", "payment_method",
        "payment_date", "payer", "payee", "lines", "envelope", "currency", "handling_code",
    },
    FunctionalAck: {
        "type", "ack_type", "functional_id", "group_control", "version", "sets",
        "group_status", "sets_included", "sets_received", "sets_accepted", "group_errors",
        "envelope",
    },
    SetAck: {"transaction_set", "control", "convention", "status", "errors", "segment_errors"},
    SegmentNote: {"tag", "position", "loop_id", "code", "element_errors"},
    ElementNote: {"position", "component", "repetition", "reference", "code", "bad_value"},
    PurchaseOrderAck: {
        "type", "purpose_code", "ack_type", "po_number", "po_date", "ack_date",
        "release_number", "currency", "parties", "references", "dates", "lines", "envelope",
    },
    AckLine: {
        "line_number", "quantity", "uom", "unit_price", "product_ids", "description",
        "status", "ack_quantity", "ack_uom", "scheduled_date",
    },
}  # fmt: skip

by_name = pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)


@by_name
def test_every_field_of_the_example_is_populated(cls: type[BaseModel]) -> None:
    example = EXAMPLES[cls]
    empty = [name for name, value in example.__dict__.items() if value is None or value == ()]
    assert empty == []


@by_name
def test_json_round_trip(cls: type[BaseModel]) -> None:
    example = EXAMPLES[cls]
    again = cls.model_validate_json(example.model_dump_json())
    assert again == example
    assert again.model_dump_json() == example.model_dump_json()


@by_name
def test_contract_field_names_in_json_dump(cls: type[BaseModel]) -> None:
    dumped = EXAMPLES[cls].model_dump(mode="json")
    assert CONTRACT_FIELDS.get(cls, set()) - set(dumped) == set()
    assert set(dumped) == set(cls.model_fields)


@by_name
def test_frozen(cls: type[BaseModel]) -> None:
    example = EXAMPLES[cls]
    name = next(iter(cls.model_fields))
    with pytest.raises(ValidationError, match="frozen"):
        setattr(example, name, getattr(example, name))


@by_name
def test_extra_field_rejected(cls: type[BaseModel]) -> None:
    data = {**EXAMPLES[cls].model_dump(), "surprise": "x"}
    with pytest.raises(ValidationError) as info:
        cls.model_validate(data)
    assert [(e["type"], e["loc"]) for e in info.value.errors()] == [
        ("extra_forbidden", ("surprise",))
    ]


@by_name
def test_hashable_and_equal_by_value(cls: type[BaseModel]) -> None:
    example = EXAMPLES[cls]
    twin = cls.model_validate(example.model_dump())
    assert twin is not example
    assert hash(twin) == hash(example)
    assert {twin, example} == {example}


def _scalars(value: object) -> list[object]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars(v)]
    return [value]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: type(d).__name__)
def test_json_has_no_floats(document: BaseModel) -> None:
    parsed = json.loads(document.model_dump_json())
    assert [v for v in _scalars(parsed) if isinstance(v, float)] == []


def test_decimals_dates_and_times_serialise_as_strings() -> None:
    dumped = INVOICE.model_dump(mode="json")
    assert dumped["total_amount"] == "1249.50"
    assert dumped["invoice_date"] == "2024-03-01"
    line = dumped["lines"][0]
    assert (line["quantity"], line["unit_price"]) == ("12", "102.875")
    assert dumped["dates"][0]["time"] == "09:30:00"
    assert dumped["envelope"]["interchange_time"] == "13:05:00"
