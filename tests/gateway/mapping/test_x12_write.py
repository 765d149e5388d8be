"""Outbound X12 writing: element formatting and the shared segment renderers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateway.errors import MappingError
from gateway.mapping import outbound_mapper
from gateway.mapping.x12_write import fmt_cents, fmt_date, fmt_real, fmt_time, segment
from gateway.model import Invoice, LineItem

# -- writers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.50"), "12.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("-0.00"), "0"),
        (Decimal("-3.10"), "-3.1"),
        (None, None),
    ],
)
def test_fmt_real_is_plain_and_short(value: Decimal | None, expected: str | None) -> None:
    assert fmt_real(value) == expected


def test_fmt_cents_writes_whole_cents_and_refuses_fractions() -> None:
    assert fmt_cents(Decimal("1500.75"), "TDS01") == "150075"
    assert fmt_cents(Decimal("-25"), "TDS01") == "-2500"
    assert fmt_cents(Decimal("0.10"), "TDS01") == "10"
    with pytest.raises(MappingError, match=r"TDS01 takes whole cents; 10\.005") as info:
        fmt_cents(Decimal("10.005"), "TDS01")
    assert info.value.path == "TDS01"


def test_fmt_date_and_time() -> None:
    assert fmt_date(dt.date(1999, 1, 2)) == "19990102"
    assert fmt_time(dt.time(9, 5)) == "0905"
    assert fmt_time(dt.time(9, 5, 7)) == "090507"
    assert fmt_time(dt.time(9, 5, 7, 500_000)) == "0905075"
    with pytest.raises(MappingError):
        fmt_time(dt.time(9, 5, 7, 123))


def test_segment_drops_trailing_empties_and_checks_lengths_by_version() -> None:
    assert segment("ITD", "01", None, "2", None, None) == ["ITD", "01", "", "2"]
    ref = "R" * 40
    with pytest.raises(MappingError, match="REF02 is 40 characters; 004010 allows 30"):
        segment("REF", "IA", ref, version="004010")
    assert segment("REF", "IA", ref, version="005010") == ["REF", "IA", ref]


def test_pid_segments_split_long_descriptions_at_spaces() -> None:
    words = " ".join(["WIDGET"] * 20)  # 139 characters
    invoice = Invoice(
        invoice_number="INV-1",
        invoice_date=dt.date(2024, 3, 1),
        lines=(LineItem(quantity=Decimal(1), description=words),),
        total_amount=Decimal(0),
    )
    mapper = outbound_mapper("invoice")
    assert mapper is not None
    pids = [s for s in mapper(invoice, version="004010").segments if s[0] == "PID"]
    assert [p[:5] for p in pids] == [["PID", "F", "", "", ""]] * 2
    assert all(len(p[5]) <= 80 for p in pids)
    assert " ".join(p[5] for p in pids) == words
    long_word = invoice.lines[0].model_copy(update={"description": "X" * 81})
    with pytest.raises(MappingError, match="PID05"):
        mapper(invoice.model_copy(update={"lines": (long_word,)}), version="004010")
