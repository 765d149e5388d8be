"""810 invoices both ways: implied-decimal amounts, terms, lines, and the round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings

from gateway.errors import MappingError
from gateway.mapping import inbound_mapper, outbound_mapper
from gateway.mapping.x12_write import due_dates
from gateway.model import (
    Address,
    AllowanceCharge,
    Contact,
    DateRef,
    Destination,
    Invoice,
    LineItem,
    Party,
    ProductId,
    Reference,
    Terms,
)
from gateway.x12.control import MemoryControlNumbers
from gateway.x12.envelope import TransactionSet, read_envelopes
from gateway.x12.reader import Delimiters, X12Reader
from gateway.x12.writer import OutboundGroup, write_interchange
from tests.gateway.mapping.trees import (
    ENVELOPE,
    envelope_of,
    map_body,
    round_trip_segments,
    sample_documents,
    tree_of,
)
from tests.strategies import invoices

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.mapping import OutboundSet


def test_810_staedi_sample_two_invoices(samples_dir: Path) -> None:
    first, second = sample_documents(samples_dir / "810" / "staedi_810_two_invoices.edi")
    assert isinstance(first, Invoice) and isinstance(second, Invoice)
    assert (first.invoice_number, first.invoice_date) == ("00001", dt.date(1997, 12, 11))
    assert (first.po_number, first.po_date) == ("A99999-01", None)
    assert first.total_amount == Decimal("2554.38")  # TDS*255438
    assert first.terms == Terms(
        terms_type="01",
        basis_date_code="3",
        discount_percent=Decimal("1.000"),
        discount_days=15,
        net_days=16,
        description="1/15 NET 30",
    )
    assert [p.role for p in first.parties] == ["ST", "BT", "RE"]
    assert first.parties[2] == Party(
        role="RE",
        name="FOODSELLER",
        id_qualifier="9",
        id="12345QQQQ",
        address=Address(
            lines=("P.O. BOX 222222",), city="DALLAS", state="TX", postal_code="723224444"
        ),
    )
    assert len(first.lines) == 7
    assert first.lines[0] == LineItem(
        quantity=Decimal(16),
        uom="CA",
        unit_price=Decimal("12.34"),
        product_ids=(ProductId(qualifier="UA", value="002840022222"),),
        description="CRUNCHY CHIPS LSS",
    )
    assert [line.quantity for line in first.lines] == [
        Decimal(q) for q in (16, 13, 32, 51, 9, 85, 1)
    ]
    assert (second.invoice_number, second.po_number) == ("00001", "A99999-04")
    assert second.invoice_date == dt.date(1997, 12, 15)
    assert [(line.quantity, line.description) for line in second.lines] == [
        (Decimal(50), "CRUNCHY CHIPS LSS"),
        (Decimal(100), "BBQ CHIPS"),
    ]
    assert second.envelope is not None
    assert second.envelope.transaction_control == "000000002"


INVOICE_810 = """
BIG*20240320*INV-1001*20240315*PO-4711**CHG-1*CR
CUR*SE*CAD
REF*IA*VEND 22
N1*RE*WIDGETS INC*1*987654321
PER*AR*ACCOUNTS*EM*ar@widgets.example
ITD*01*3*2*20240330*10*20240419*30*300
DTM*011*20240318
IT1*1*10*EA*12.50*PE*VN*AB-1*UP*012345678905
PID*F****BLUE WIDGET
REF*LI*7
DTM*011*20240317
SAC*A*C310***125
IT1*2*1*EA*-5**VN*RET-1
TDS*-150075
SAC*C*D240***2500*5******06***FREIGHT
SAC*N*D240
SAC*A*C310***-100
CTT*2
"""


def test_810_maps_amounts_from_implied_decimals() -> None:
    inv = map_body("810", INVOICE_810)
    assert isinstance(inv, Invoice)
    assert inv.total_amount == Decimal("-1500.75")
    assert (inv.transaction_type, inv.release_number, inv.currency) == ("CR", None, "CAD")
    assert inv.terms is not None
    assert inv.terms.discount_amount == Decimal("3.00")
    assert inv.terms.discount_due_date == dt.date(2024, 3, 30)
    assert inv.terms.net_due_date == dt.date(2024, 4, 19)
    assert inv.parties[0].contacts == (
        Contact(function_code="AR", name="ACCOUNTS", email="ar@widgets.example"),
    )
    assert inv.dates == (DateRef(qualifier="011", date=dt.date(2024, 3, 18)),)
    # SAC*N (no allowance or charge) carries nothing; the others keep their sign
    assert inv.allowances_charges == (
        AllowanceCharge(
            indicator="C",
            code="D240",
            amount=Decimal("25.00"),
            percent_basis="5",
            method="06",
            description="FREIGHT",
        ),
        AllowanceCharge(indicator="A", code="C310", amount=Decimal("-1.00")),
    )
    assert inv.lines[0] == LineItem(
        line_number="1",
        quantity=Decimal(10),
        uom="EA",
        unit_price=Decimal("12.5"),
        price_basis="PE",
        product_ids=(
            ProductId(qualifier="VN", value="AB-1"),
            ProductId(qualifier="UP", value="012345678905"),
        ),
        description="BLUE WIDGET",
        references=(Reference(qualifier="LI", value="7"),),
        dates=(DateRef(qualifier="011", date=dt.date(2024, 3, 17)),),
        allowances_charges=(AllowanceCharge(indicator="A", code="C310", amount=Decimal("1.25")),),
    )
    assert inv.lines[1].unit_price == Decimal(-5)
    assert inv.envelope == ENVELOPE


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("TDS*-150075", "TDS*-1500.75"), "TDS01"),
        (("TDS*-150075\n", ""), "TDS01"),
        (("BIG*20240320*INV-1001", "BIG*20240320*"), "BIG02"),
        (("BIG*20240320*", "BIG**"), "BIG01"),
        (("IT1*2*1*EA", "IT1*2**EA"), "IT102"),
        (("ITD*01*3*2*20240330*10", "ITD*01*3*2*20240330*1O"), "ITD05"),
    ],
)
def test_810_names_the_element_it_cannot_map(change: tuple[str, str], path: str) -> None:
    with pytest.raises(MappingError) as info:
        map_body("810", INVOICE_810.replace(*change))
    assert info.value.path == path


INVOICE = Invoice(
    invoice_number="INV-1001",
    invoice_date=dt.date(2024, 3, 20),
    po_number="PO-4711",
    po_date=dt.date(2024, 3, 15),
    currency="USD",
    references=(Reference(qualifier="IA", value="VEND 22"),),
    parties=(
        Party(
            role="ST",
            name="STORE 12",
            id_qualifier="92",
            id="0012",
            address=Address(
                lines=("12 MARKET ST",), city="SPRINGFIELD", state="IL", postal_code="62701"
            ),
        ),
        Party(role="RE", name="WIDGETS INC"),
    ),
    terms=Terms(
        terms_type="01",
        basis_date_code="3",
        discount_percent=Decimal("2.00"),
        discount_days=10,
        net_days=30,
    ),
    dates=(DateRef(qualifier="011", date=dt.date(2024, 3, 18)),),
    lines=(
        LineItem(
            line_number="1",
            quantity=Decimal(120),
            uom="EA",
            unit_price=Decimal("9.250"),
            price_basis="PE",
            product_ids=(
                ProductId(qualifier="UP", value="012345678905"),
                ProductId(qualifier="VN", value="AB-3542"),
            ),
            description="SMALL BLUE WIDGET",
        ),
        LineItem(
            line_number="2",
            quantity=Decimal("2.5"),
            uom="CA",
            unit_price=Decimal(40),
            product_ids=(ProductId(qualifier="VN", value="CT-9"),),
            destinations=(
                Destination(location_qualifier="92", location="0012", quantity=Decimal("1.5")),
                Destination(location_qualifier="92", location="0044", quantity=Decimal(1)),
            ),
        ),
    ),
    allowances_charges=(
        AllowanceCharge(indicator="C", code="D240", amount=Decimal("25"), description="FREIGHT"),
        AllowanceCharge(indicator="A", code="C310", amount=Decimal("10.25")),
    ),
    total_amount=Decimal("1224.75"),
)


def test_810_outbound_segments() -> None:
    mapper = outbound_mapper("invoice")
    assert mapper is not None
    out = mapper(INVOICE, version="004010")
    assert (out.transaction_set, out.functional_id) == ("810", "IN")
    assert ["*".join(s) for s in out.segments] == [
        "BIG*20240320*INV-1001*20240315*PO-4711",
        "CUR*SE*USD",
        "REF*IA*VEND 22",
        "N1*ST*STORE 12*92*0012",
        "N3*12 MARKET ST",
        "N4*SPRINGFIELD*IL*62701",
        "N1*RE*WIDGETS INC",
        "ITD*01*3*2**10**30",
        "DTM*011*20240318",
        "IT1*1*120*EA*9.25*PE*UP*012345678905*VN*AB-3542",
        "PID*F****SMALL BLUE WIDGET",
        "IT1*2*2.5*CA*40**VN*CT-9",
        "SDQ*CA*92*0012*1.5*0044*1",
        "TDS*122475",
        "SAC*C*D240***2500**********FREIGHT",
        "SAC*A*C310***1025",
        "CTT*2",
    ]


def invoice_to_810(invoice: Invoice, *, version: str) -> OutboundSet:
    """The 810 body the outbound registry writes (the base mapping for ``version``)."""
    mapper = outbound_mapper("invoice")
    assert mapper is not None
    return mapper(invoice, version=version)


def test_810_outbound_can_fill_due_dates_from_the_invoice_date() -> None:
    assert INVOICE.terms is not None
    dated = INVOICE.model_copy(update={"terms": due_dates(INVOICE.terms, INVOICE.invoice_date)})
    out = invoice_to_810(dated, version="004010")
    assert "ITD*01*3*2*20240330*10*20240419*30" in ["*".join(s) for s in out.segments]
    other_basis = Terms(basis_date_code="2", net_days=30)
    assert due_dates(other_basis, dt.date(2024, 3, 20)) == other_basis


def test_810_outbound_refuses_fractions_of_a_cent_and_overlong_values() -> None:
    with pytest.raises(MappingError) as info:
        invoice_to_810(
            INVOICE.model_copy(update={"total_amount": Decimal("1.005")}), version="004010"
        )
    assert info.value.path == "TDS01"
    with pytest.raises(MappingError) as info:
        invoice_to_810(
            INVOICE.model_copy(update={"total_amount": Decimal("123456789.00")}), version="004010"
        )
    assert info.value.path == "TDS01"  # 11 digits: N2 1/10 in 004010
    big = invoice_to_810(
        INVOICE.model_copy(update={"total_amount": Decimal("123456789.00")}), version="005010"
    )
    assert big.segments[-4] == ["TDS", "12345678900"]


def test_810_round_trip_on_segments() -> None:
    back = round_trip_segments(invoice_to_810(INVOICE, version="004010").segments, "810")
    assert back == INVOICE.model_copy(update={"envelope": ENVELOPE})


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(invoices())
def test_810_round_trip_any_invoice(invoice: Invoice) -> None:
    for version in ("004010", "005010"):
        back = round_trip_segments(invoice_to_810(invoice, version=version).segments, "810")
        assert back == invoice.model_copy(update={"envelope": ENVELOPE})


def _through_the_writer(invoice: Invoice, version: str) -> Invoice:
    """Invoice -> 810 body -> written interchange bytes -> reader -> tree -> Invoice."""
    out = invoice_to_810(invoice, version=version)
    written = write_interchange(
        [OutboundGroup(out.functional_id, "SELLER", "BUYER", version, [out])],
        sender=("ZZ", "SELLER"),
        receiver=("ZZ", "BUYER"),
        delimiters=Delimiters(element="*", component=">", repetition="^", segment="~"),
        control_numbers=MemoryControlNumbers(),
        now=dt.datetime(2024, 3, 20, 12, 0, tzinfo=dt.UTC),
        version="00401" if version.startswith("004") else "00501",
    )
    (ts,) = [e for e in read_envelopes(X12Reader(written.data)) if isinstance(e, TransactionSet)]
    assert not ts.errors
    mapper = inbound_mapper(ts.code)
    assert mapper is not None
    delimiters = ts.group.interchange.delimiters
    back = mapper(tree_of(ts.segments, "810"), delimiters=delimiters, envelope=envelope_of(ts))
    assert isinstance(back, Invoice)
    return back


def test_810_round_trip_through_the_writer_and_reader() -> None:
    text = INVOICE.model_copy(update={"parties": (Party(role="RE", name="Müller & Söhne GmbH"),)})
    back = _through_the_writer(text, "005010")
    assert back.model_copy(update={"envelope": None}) == text
    assert back.parties[0].name == "Müller & Söhne GmbH"


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(invoices())
def test_810_round_trip_any_invoice_through_the_writer(invoice: Invoice) -> None:
    back = _through_the_writer(invoice, "004010")
    assert back.model_copy(update={"envelope": None}) == invoice
