"""Inbound X12 reading: element converters, and the segment groups every document shares."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.errors import MappingError
from gateway.mapping.x12_read import cents, clock, day, real
from gateway.model import Address, Contact, DateRef, Party, PurchaseOrder, Reference, Terms
from tests.gateway.mapping.trees import body, map_body

# -- element readers ---------------------------------------------------------------------------

SEG = body("XXX*1")[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20240315", dt.date(2024, 3, 15)),
        ("240315", dt.date(2024, 3, 15)),
        ("491231", dt.date(2049, 12, 31)),
        ("500101", dt.date(1950, 1, 1)),
        ("991231", dt.date(1999, 12, 31)),
        (" 20240229 ", dt.date(2024, 2, 29)),
        ("", None),
    ],
)
def test_day_reads_both_widths_with_the_century_window(raw: str, expected: dt.date) -> None:
    assert day(raw, SEG, 1, "date") == expected


@pytest.mark.parametrize("raw", ["20230229", "2024031", "2024-03-15", "ABCDEFGH", "²0240315"])
def test_day_rejects_what_is_not_a_date_naming_the_element(raw: str) -> None:
    with pytest.raises(MappingError, match=r"XXX01 \(date\) in segment 1") as info:
        day(raw, SEG, 1, "date")
    assert info.value.path == "XXX01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", Decimal(12)),
        ("12.50", Decimal("12.5")),
        ("-3.25", Decimal("-3.25")),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("1E3", Decimal(1000)),
        ("2.5E-2", Decimal("0.025")),
        (" 7 ", Decimal(7)),
    ],
)
def test_real_reads_x12_decimals_never_floats(raw: str, expected: Decimal) -> None:
    value = real(raw, SEG, 1, "quantity")
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize(
    "raw", ["+1", "1_000", "NaN", "Infinity", "1,5", "1.2.3", "١٢", "abc", ".", "-"]
)
def test_real_refuses_what_decimal_takes_but_x12_does_not(raw: str) -> None:
    with pytest.raises(MappingError, match=r"XXX01 .quantity.*expected a decimal number"):
        real(raw, SEG, 1, "quantity")


def test_real_needed_names_the_missing_element() -> None:
    with pytest.raises(MappingError, match=r"XXX02 \(quantity\) in segment 1: required") as info:
        real("", SEG, 2, "quantity", needed=True)
    assert info.value.path == "XXX02"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("150075", Decimal("1500.75")),
        ("-2500", Decimal("-25.00")),
        ("5", Decimal("0.05")),
        ("0", Decimal(0)),
        ("", None),
    ],
)
def test_cents_applies_the_two_implied_decimals(raw: str, expected: Decimal | None) -> None:
    assert cents(raw, SEG, 1, "amount") == expected


@pytest.mark.parametrize("raw", ["1500.75", "12a", "--5", "+5"])
def test_cents_refuses_an_explicit_decimal_point_or_junk(raw: str) -> None:
    with pytest.raises(MappingError, match=r"expected whole cents \(N2\)"):
        cents(raw, SEG, 1, "amount")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0930", dt.time(9, 30)),
        ("093015", dt.time(9, 30, 15)),
        ("0930155", dt.time(9, 30, 15, 500_000)),
        ("09301525", dt.time(9, 30, 15, 250_000)),
    ],
)
def test_clock_reads_tm_widths(raw: str, expected: dt.time) -> None:
    assert clock(raw, SEG, 1, "time") == expected


def test_clock_refuses_an_impossible_time() -> None:
    with pytest.raises(MappingError, match="XXX03"):
        clock("2460", SEG, 3, "time")


# -- segment groups, read by the base mappings ----------------------------------------------
# (the shared segment readers these cases were written for are now the engine's shapes)

HEAD = "BEG*00*SA*PO-1**20240101"
LINE = "PO1*1*1*EA"


def _order(*segments: str) -> PurchaseOrder:
    po = map_body("850", "\n".join([HEAD, *segments, LINE]))
    assert isinstance(po, PurchaseOrder)
    return po


def test_reference_strips_ids_and_keeps_the_description_as_text() -> None:
    po = _order("REF* DB*P7817948-20 *Caf\xc3\xa9 order", "REF*ZZ**free text")
    assert po.references == (
        Reference(qualifier="DB", value="P7817948-20", description="Café order"),
        Reference(qualifier="ZZ", value="", description="free text"),  # no value: ""
    )


def test_date_ref_reads_time_and_zone_and_falls_back_to_a_d8_period() -> None:
    po = _order("DTM*011*20240105*1430*ET", "DTM*007****RD8*20240101-20240131")
    assert po.dates == (
        DateRef(qualifier="011", date=dt.date(2024, 1, 5), time=dt.time(14, 30), time_code="ET"),
        DateRef(qualifier="007", date=dt.date(2024, 1, 1)),
    )
    with pytest.raises(MappingError, match="DTM02"):
        _order("DTM*002")


def test_terms_reads_every_itd_element_with_its_type() -> None:
    po = _order("ITD*01*3*2*20240325*10*20240414*30*1500****2% 10 NET 30")
    assert po.terms == Terms(
        terms_type="01",
        basis_date_code="3",
        discount_percent=Decimal(2),
        discount_due_date=dt.date(2024, 3, 25),
        discount_days=10,
        net_due_date=dt.date(2024, 4, 14),
        net_days=30,
        discount_amount=Decimal("15.00"),
        description="2% 10 NET 30",
    )


def test_party_reads_n1_to_per_and_leaves_out_an_empty_address() -> None:
    po = _order(
        "N1*BT*ACME  CORP*92*  1234",
        "N2*ACCOUNTS PAYABLE*FLOOR 3",
        "N3*1 MAIN ST*SUITE 5",
        "N3*BUILDING B",
        "N4*M\xc3\xbcnchen**80331*DE",
        "PER*IC*JANE DOE*TE*555-1234*EM*jane@example.com*TE*555-9999",
        "N1*ST*STORE 1",
        "N4",
    )
    assert po.parties == (
        Party(
            role="BT",
            name="ACME  CORP",
            id_qualifier="92",
            id="1234",
            additional_names=("ACCOUNTS PAYABLE", "FLOOR 3"),
            contacts=(
                Contact(
                    function_code="IC", name="JANE DOE", phone="555-1234", email="jane@example.com"
                ),
            ),
            address=Address(
                lines=("1 MAIN ST", "SUITE 5", "BUILDING B"),
                city="München",
                postal_code="80331",
                country="DE",
            ),
        ),
        Party(role="ST", name="STORE 1"),  # an empty N4 is no address
    )
