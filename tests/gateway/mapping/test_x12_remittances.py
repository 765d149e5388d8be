"""820 remittances: payment, payer and payee, remitted items with their adjustments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.errors import MappingError
from gateway.model import Adjustment, DateRef, Party, Reference, Remittance, RemittanceLine
from tests.gateway.mapping.trees import ENVELOPE, map_body, sample_documents

if TYPE_CHECKING:
    from pathlib import Path


def test_820_indice_005010_with_adx_deductions(samples_dir: Path) -> None:
    (rem,) = sample_documents(samples_dir / "820" / "indice_820_005010_adx_deductions.edi")
    assert isinstance(rem, Remittance)
    assert (rem.handling_code, rem.credit_debit, rem.payment_method) == ("I", "C", "CHK")
    assert rem.payment_amount == Decimal("21298.97")
    assert rem.payment_date == dt.date(2019, 10, 29)
    assert rem.trace_number == "4529952"
    assert rem.currency == "USD"
    assert rem.payer == Party(role="PR", name="MART INC.", id_qualifier="UL", id="1238742000008")
    assert rem.payee == Party(role="PE", name="Test Company, LLC")
    assert rem.references == ()  # the REF*IA follows N1*PE, so it is the payee's
    assert len(rem.lines) == 7
    first = rem.lines[0]
    assert (first.reference_qualifier, first.reference) == ("IV", "26801")
    assert (first.paid_amount, first.invoice_amount, first.discount_amount) == (
        Decimal("4408.75"),
        Decimal("4650.41"),
        Decimal("97.9"),
    )
    assert first.adjustments == (
        Adjustment(
            amount=Decimal("-143.76"), reason_code="59", reference_qualifier="CM", reference="26801"
        ),
    )
    # the REFs after the ADX belong to the adjustment's loop, not to the item
    assert [r.qualifier for r in first.references] == ["DP", "MR", "PO", "MC", "19", "ST"]
    assert first.references[2] == Reference(qualifier="PO", value="1016071221")
    assert first.dates == (DateRef(qualifier="097", date=dt.date(2019, 9, 4)),)
    assert first.payer_location is None  # ENT*1 names no entity
    assert rem.lines[-1].reference == "27029"
    assert rem.lines[-1].paid_amount == Decimal("2006.57")
    assert rem.lines[-1].adjustments == ()
    assert sum((line.paid_amount or Decimal(0)) for line in rem.lines) + Decimal(
        "-143.76"
    ) == Decimal("21155.21")


def test_820_safeway_entities_and_trimmed_ids(samples_dir: Path) -> None:
    (rem,) = sample_documents(samples_dir / "820" / "oopfactory_820_safeway.txt")
    assert isinstance(rem, Remittance)
    assert rem.payment_amount == Decimal("416093.15")
    assert (rem.payment_method, rem.payment_date) == ("ACH", dt.date(2005, 10, 20))
    assert rem.trace_number == "4311000190"
    assert rem.dates == (DateRef(qualifier="020", date=dt.date(2005, 10, 19)),)
    assert rem.payer is not None and rem.payer.name == "Safeway - U. S. Corporate"
    assert rem.payee == Party(role="PE", name="Safeway Supplier Name", id_qualifier="92", id="2397")
    assert [(line.reference, line.payer_location) for line in rem.lines] == [
        ("6092392", "0091372090500"),
        ("6093694", "0091372091700"),
        ("6093695", "0091372091700"),
        ("6093696", "0091372091700"),
        ("P7340039-25PB", "0091372092500"),
        ("6093692", "0091372092700"),
    ]
    assert rem.lines[0] == RemittanceLine(
        reference_qualifier="IV",
        reference="6092392",
        paid_amount=Decimal("20430.34"),
        invoice_amount=Decimal("20851.11"),
        discount_amount=Decimal("420.77"),
        references=(Reference(qualifier="PO", value="999999999"),),
        dates=(DateRef(qualifier="003", date=dt.date(2005, 9, 23)),),
        payer_location="0091372090500",
    )
    assert rem.lines[4].discount_amount is None


REMITTANCE_820 = """
BPR*C*1234.56*C*ACH*CCP*01*011000015*DA*12345*1234567890**01*011000028*DA*98765*20240405
TRN*1* 12345 *CUSTID0001
CUR*PR*USD
REF*EV*ACME
N1*PR*ACME STORES
N1*PE*WIDGETS INC*92*V-77
RMR*IV*INV-1001**1000*1020.40*20.40
REF*PO*PO-4711
DTM*003*20240301
ADX*-50*CS*CM*CM-9
RMR*IV*INV-1002**234.56*234.56
ADX*-10.00*01
ADX*5*22
"""


def test_820_items_straight_under_the_header() -> None:
    rem = map_body("820", REMITTANCE_820)
    assert isinstance(rem, Remittance)
    assert rem.trace_number == "12345"
    assert rem.payment_date == dt.date(2024, 4, 5)
    assert rem.references == (Reference(qualifier="EV", value="ACME"),)
    assert rem.payee == Party(role="PE", name="WIDGETS INC", id_qualifier="92", id="V-77")
    assert rem.lines == (
        RemittanceLine(
            reference_qualifier="IV",
            reference="INV-1001",
            paid_amount=Decimal(1000),
            invoice_amount=Decimal("1020.40"),
            discount_amount=Decimal("20.40"),
            adjustments=(
                Adjustment(
                    amount=Decimal(-50),
                    reason_code="CS",
                    reference_qualifier="CM",
                    reference="CM-9",
                ),
            ),
            references=(Reference(qualifier="PO", value="PO-4711"),),
            dates=(DateRef(qualifier="003", date=dt.date(2024, 3, 1)),),
        ),
        RemittanceLine(
            reference_qualifier="IV",
            reference="INV-1002",
            paid_amount=Decimal("234.56"),
            invoice_amount=Decimal("234.56"),
            adjustments=(
                Adjustment(amount=Decimal("-10.00"), reason_code="01"),
                Adjustment(amount=Decimal(5), reason_code="22"),
            ),
        ),
    )
    assert rem.envelope == ENVELOPE


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("TRN*1* 12345 *CUSTID0001\n", ""), "TRN02"),
        (("TRN*1* 12345 *CUSTID0001", "TRN*1"), "TRN02"),
        (("BPR*C*1234.56*", "BPR*C*1234,56*"), "BPR02"),
        (("BPR*C*1234.56*C*ACH", "BPR*C*1234.56*C*"), "BPR04"),
        (("ADX*-50*CS", "ADX**CS"), "ADX01"),
        (("RMR*IV*INV-1002", "RMR*IV*"), "RMR02"),
        (("DTM*003*20240301", "DTM*003*20240399"), "DTM02"),
        (("BPR*C*1234.56*C*", "BPR*C*1234.56*X*"), "credit_debit"),
    ],
)
def test_820_names_what_it_cannot_map(change: tuple[str, str], path: str) -> None:
    with pytest.raises(MappingError) as info:
        map_body("820", REMITTANCE_820.replace(*change))
    assert info.value.path == path


def test_820_vics_without_trn_traces_the_cheque_number(samples_dir: Path) -> None:
    rem, *_ = sample_documents(samples_dir / "820" / "bots_820_004010vics_03_large.x12")
    assert isinstance(rem, Remittance)
    assert rem.trace_number == "2395888"  # REF*CK, as there is no TRN
    assert (rem.payment_method, rem.payment_amount) == ("CHK", Decimal("47828.63"))
    assert rem.payment_date == dt.date(2004, 8, 5)
    assert rem.lines[0] == RemittanceLine(
        reference_qualifier="IV",
        reference="0806170806",
        paid_amount=Decimal("2045.79"),
        invoice_amount=Decimal("1778.56"),
        discount_amount=Decimal("51.14"),
        references=(
            Reference(qualifier="PO", value="15302570000"),
            Reference(qualifier="SI", value="0806170806"),
        ),
        dates=(DateRef(qualifier="097", date=dt.date(2004, 8, 5)),),
    )
    assert len(rem.lines) == 7
