"""850 purchase orders in, 855 acknowledgments both ways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings

from gateway.errors import MappingError
from gateway.mapping import outbound_mapper
from gateway.model import (
    AckLine,
    Address,
    AllowanceCharge,
    DateRef,
    Destination,
    LineItem,
    Party,
    ProductId,
    PurchaseOrder,
    PurchaseOrderAck,
    Reference,
    Terms,
)
from tests.gateway.mapping.trees import (
    ENVELOPE,
    map_body,
    round_trip_segments,
    sample_documents,
)
from tests.strategies import purchase_order_acks

if TYPE_CHECKING:
    from pathlib import Path

PO_850 = """
ST*850*0001
BEG*00*SA*PO-4711**20240315
CUR*BY*USD
REF*DP*038
REF*IA*VEND 22*Main vendor
PER*BD*JOHN BUYER*TE*555-0100
SAC*C*D240***1500
ITD*01*3*2**10**30
DTM*002*20240401
DTM*010*240320*0800
N1*ST*Caf\xc3\xa9 Store 12*92*0012
N2*RECEIVING DOCK
N3*12 MARKET ST
N4*SPRINGFIELD*IL*62701*US
N1*BY*BUYING CO*1*123456789
PO1*1*120*EA*9.25*PE*UP*012345678905*VN*AB-3542
PID*F****SMALL
PID*F****BLUE WIDGET
SAC*A*C310***250**2.5
SDQ*EA*92*0012*60*0044*60
PO1*2*2.5*CA**
PID*F****CARTON
PO1*3*1*EA*100*CT*BP* B-77 *VN*
CTT*3*123.5
SE*25*0001
"""


def test_850_maps_every_group_to_business_fields() -> None:
    po = map_body("850", PO_850)
    assert isinstance(po, PurchaseOrder)
    assert (po.po_number, po.purpose_code, po.order_type) == ("PO-4711", "00", "SA")
    assert po.release_number is None
    assert po.po_date == dt.date(2024, 3, 15)
    assert po.currency == "USD"
    assert po.envelope == ENVELOPE
    assert po.references == (
        Reference(qualifier="DP", value="038"),
        Reference(qualifier="IA", value="VEND 22", description="Main vendor"),
    )
    assert po.dates == (
        DateRef(qualifier="002", date=dt.date(2024, 4, 1)),
        DateRef(qualifier="010", date=dt.date(2024, 3, 20), time=dt.time(8, 0)),
    )
    assert po.terms == Terms(
        terms_type="01",
        basis_date_code="3",
        discount_percent=Decimal(2),
        discount_days=10,
        net_days=30,
    )
    assert po.allowances_charges == (
        AllowanceCharge(indicator="C", code="D240", amount=Decimal("15.00")),
    )
    assert po.parties == (
        Party(
            role="ST",
            name="Café Store 12",
            id_qualifier="92",
            id="0012",
            additional_names=("RECEIVING DOCK",),
            address=Address(
                lines=("12 MARKET ST",),
                city="SPRINGFIELD",
                state="IL",
                postal_code="62701",
                country="US",
            ),
        ),
        Party(role="BY", name="BUYING CO", id_qualifier="1", id="123456789"),
    )


def test_850_lines_carry_ids_descriptions_allowances_and_destinations() -> None:
    po = map_body("850", PO_850)
    assert isinstance(po, PurchaseOrder)
    first, second, third = po.lines
    assert first == LineItem(
        line_number="1",
        quantity=Decimal(120),
        uom="EA",
        unit_price=Decimal("9.25"),
        price_basis="PE",
        product_ids=(
            ProductId(qualifier="UP", value="012345678905"),
            ProductId(qualifier="VN", value="AB-3542"),
        ),
        description="SMALL BLUE WIDGET",
        allowances_charges=(
            AllowanceCharge(
                indicator="A", code="C310", amount=Decimal("2.50"), percent=Decimal("2.5")
            ),
        ),
        destinations=(
            Destination(location_qualifier="92", location="0012", quantity=Decimal(60)),
            Destination(location_qualifier="92", location="0044", quantity=Decimal(60)),
        ),
    )
    assert second == LineItem(
        line_number="2", quantity=Decimal("2.5"), uom="CA", description="CARTON"
    )
    # a stray space is trimmed; a qualifier without its value is no product id
    assert third.product_ids == (ProductId(qualifier="BP", value="B-77"),)
    assert third.unit_price == Decimal(100)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (("BEG*00*SA*PO-4711**20240315", "BEG*00*SA***20240315"), "BEG03", "required"),
        (("BEG*00*SA*PO-4711**20240315", "BEG*00*SA*PO-4711**20240231"), "BEG05", "20240231"),
        (("PO1*2*2.5*CA**", "PO1*2**CA**"), "PO102", "quantity ordered"),
        (("PO1*2*2.5*CA**", "PO1*2*2,5*CA**"), "PO102", "'2,5'"),
        (("SAC*C*D240***1500", "SAC*C*D240***15.00"), "SAC05", "whole cents"),
        (("BEG*00*SA*PO-4711**20240315\n", ""), "BEG03", "segment is absent"),
    ],
)
def test_850_names_the_element_it_cannot_map(
    change: tuple[str, str], path: str, message: str
) -> None:
    with pytest.raises(MappingError, match=message) as info:
        map_body("850", PO_850.replace(*change))
    assert info.value.path == path


def test_850_model_rule_breaks_become_mapping_errors() -> None:
    with pytest.raises(MappingError, match="currency") as info:
        map_body("850", PO_850.replace("CUR*BY*USD", "CUR*BY*usd"))
    assert info.value.path == "currency"


def test_850_ctt_disagreeing_with_the_lines_is_ignored() -> None:
    po = map_body("850", PO_850.replace("CTT*3*123.5", "CTT*7"))
    assert isinstance(po, PurchaseOrder)
    assert len(po.lines) == 3


def test_850_vics_sample(samples_dir: Path) -> None:
    (po,) = sample_documents(samples_dir / "850" / "nodex12_850_vics.edi")
    assert isinstance(po, PurchaseOrder)
    assert (po.po_number, po.po_date, po.order_type) == ("08292233294", dt.date(2010, 11, 27), "SA")
    assert po.references == (
        Reference(qualifier="DP", value="038"),
        Reference(qualifier="PS", value="R"),
    )
    assert po.terms == Terms(
        terms_type="14",
        basis_date_code="3",
        discount_percent=Decimal(2),
        discount_days=45,
        net_days=46,
    )
    assert po.dates == (DateRef(qualifier="002", date=dt.date(2010, 12, 14)),)
    assert po.parties == (
        Party(
            role="ST",
            name="XYZ RETAIL",
            id_qualifier="9",
            id="0003947268292",
            address=Address(
                lines=("31875 SOLON RD",), city="SOLON", state="OH", postal_code="44139"
            ),
        ),
    )
    assert [line.line_number for line in po.lines] == ["1", "2", "3", "4", "5", "6"]
    assert po.lines[0] == LineItem(
        line_number="1",
        quantity=Decimal(120),
        uom="EA",
        unit_price=Decimal("9.25"),
        price_basis="TE",
        product_ids=(
            ProductId(qualifier="CB", value="065322-117"),
            ProductId(qualifier="PR", value="RO"),
            ProductId(qualifier="VN", value="AB3542"),
        ),
        description="SMALL WIDGET",
    )
    assert po.lines[5].quantity == Decimal(696)
    assert po.lines[5].unit_price == Decimal("9.55")
    assert po.lines[5].description == "ORANGE WIDGET"
    assert po.envelope is not None
    assert (po.envelope.interchange_control, po.envelope.transaction_control) == (
        "000003438",
        "000000010",
    )


# -- 855 ---------------------------------------------------------------------------------------


def test_855_stedi_sample(samples_dir: Path) -> None:
    (ack,) = sample_documents(samples_dir / "855" / "stedi_855_005010.edi")
    assert isinstance(ack, PurchaseOrderAck)
    assert (ack.purpose_code, ack.ack_type, ack.po_number) == ("00", "AD", "365465413")
    assert ack.po_date == dt.date(2022, 9, 14)
    assert ack.ack_date == dt.date(2022, 9, 13)
    assert ack.references == (Reference(qualifier="CO", value="ACME-4567"),)
    assert [p.role for p in ack.parties] == ["SE", "ST"]
    assert ack.parties[1].address == Address(
        lines=("111 Canyon Court",), city="Phoenix", state="AZ", postal_code="85001", country="US"
    )
    assert ack.lines == (
        AckLine(
            line_number="item-1",
            quantity=Decimal(8),
            uom="EA",
            unit_price=Decimal(400),
            product_ids=(
                ProductId(qualifier="VC", value="VND1234567"),
                ProductId(qualifier="SK", value="ACM/8900-400"),
            ),
            description="400 pound anvil",
            status="IA",
            ack_quantity=Decimal(8),
            ack_uom="EA",
        ),
        AckLine(
            line_number="item-2",
            quantity=Decimal(4),
            uom="EA",
            unit_price=Decimal(125),
            product_ids=(
                ProductId(qualifier="VC", value="VND000111222"),
                ProductId(qualifier="SK", value="ACM/1100-001"),
            ),
            description="Detonator",
            status="IA",
            ack_quantity=Decimal(4),
            ack_uom="EA",
        ),
    )


def test_855_keeps_the_first_ack_and_its_scheduled_date() -> None:
    ack = map_body(
        "855",
        """
        BAK*00*AC*PO-1*20240301****20240302
        PO1*1*10*EA*5
        ACK*IQ*8*EA*068*20240310
        ACK*IB*2*EA*068*20240401
        PO1*2*3*EA
        """,
    )
    assert isinstance(ack, PurchaseOrderAck)
    assert ack.lines[0].status == "IQ"
    assert ack.lines[0].ack_quantity == Decimal(8)
    assert ack.lines[0].scheduled_date_qualifier == "068"
    assert ack.lines[0].scheduled_date == dt.date(2024, 3, 10)
    assert ack.lines[1] == AckLine(line_number="2", quantity=Decimal(3), uom="EA")


def test_855_without_po_date_is_refused() -> None:
    with pytest.raises(MappingError) as info:
        map_body("855", "BAK*00*AC*PO-1\nPO1*1*10*EA")
    assert info.value.path == "BAK04"


ACK = PurchaseOrderAck(
    purpose_code="00",
    ack_type="AC",
    po_number="PO-4711",
    po_date=dt.date(2024, 3, 15),
    ack_date=dt.date(2024, 3, 16),
    currency="USD",
    references=(Reference(qualifier="VN", value="SO-99"),),
    dates=(DateRef(qualifier="017", date=dt.date(2024, 4, 1)),),
    parties=(Party(role="SU", name="WIDGETS INC", id_qualifier="1", id="987654321"),),
    lines=(
        AckLine(
            line_number="1",
            quantity=Decimal(120),
            uom="EA",
            unit_price=Decimal("9.25"),
            product_ids=(ProductId(qualifier="VN", value="AB-3542"),),
            description="SMALL BLUE WIDGET",
            status="IA",
            ack_quantity=Decimal(120),
            ack_uom="EA",
            scheduled_date_qualifier="068",
            scheduled_date=dt.date(2024, 3, 20),
        ),
        AckLine(line_number="2", quantity=Decimal("2.50"), uom="CA", status="IR"),
        AckLine(line_number="3", quantity=Decimal(1), uom="EA"),
    ),
)


def test_855_outbound_segments() -> None:
    mapper = outbound_mapper("purchase_order_ack")
    assert mapper is not None
    out = mapper(ACK, version="004010")
    assert (out.transaction_set, out.functional_id) == ("855", "PR")
    assert ["*".join(s) for s in out.segments] == [
        "BAK*00*AC*PO-4711*20240315*****20240316",
        "CUR*SE*USD",
        "REF*VN*SO-99",
        "DTM*017*20240401",
        "N1*SU*WIDGETS INC*1*987654321",
        "PO1*1*120*EA*9.25**VN*AB-3542",
        "PID*F****SMALL BLUE WIDGET",
        "ACK*IA*120*EA*068*20240320",
        "PO1*2*2.5*CA",
        "ACK*IR",
        "PO1*3*1*EA",
        "CTT*3",
    ]


def test_855_outbound_refuses_ack_details_without_a_status() -> None:
    mapper = outbound_mapper("purchase_order_ack")
    assert mapper is not None
    line = AckLine(line_number="1", quantity=Decimal(1), ack_quantity=Decimal(1))
    with pytest.raises(MappingError) as info:
        mapper(ACK.model_copy(update={"lines": (line,)}), version="004010")
    assert info.value.path == "ACK01"


def test_855_round_trip_on_segments() -> None:
    mapper = outbound_mapper("purchase_order_ack")
    assert mapper is not None
    back = round_trip_segments(mapper(ACK, version="005010").segments, "855")
    assert back == ACK.model_copy(update={"envelope": ENVELOPE})


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(purchase_order_acks())
def test_855_round_trip_any_ack(ack: PurchaseOrderAck) -> None:
    mapper = outbound_mapper("purchase_order_ack")
    assert mapper is not None
    back = round_trip_segments(mapper(ack, version="004010").segments, "855")
    assert back == ack.model_copy(update={"envelope": ENVELOPE})
