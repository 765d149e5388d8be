"""The outbound 810 and 855 specs give the segments expected of them.

``tests/fixtures/expected/outbound/{810,855}.json`` hold what the hand-written writers
(``invoice_to_810``, ``purchase_order_ack_to_855``) gave for the invoices and acks below
and for 40 generated documents of each kind, per version, before the engine replaced them.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gateway.errors import ConfigError, MappingError
from gateway.mapping.loader import load_mapping, load_outbound
from gateway.model import (
    AckLine,
    Address,
    AllowanceCharge,
    Contact,
    DateRef,
    Destination,
    Invoice,
    LineItem,
    Party,
    ProductId,
    PurchaseOrderAck,
    Reference,
    Terms,
)

if TYPE_CHECKING:
    from gateway.mapping.engine_out import CompiledOutbound

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "mappings"
VERSIONS = ("004010", "005010")
EXPECTED = ROOT / "tests/fixtures/expected/outbound"
CASES = {
    code: json.loads((EXPECTED / f"{code}.json").read_text(encoding="utf-8"))
    for code in ("810", "855")
}


def _spec(version: str, code: str = "810") -> CompiledOutbound:
    return load_outbound(MAPPINGS, f"x12/{code}/out-{version}")


def _expected(code: str, name: str, version: str) -> dict[str, object]:
    (case,) = [c for c in CASES[code] if (c["name"], c["version"]) == (name, version)]
    return case  # type: ignore[no-any-return]


def _same(name: str, invoice: Invoice, version: str) -> list[list[str]]:
    """Render ``invoice`` and compare with the frozen case ``name``."""
    case = _expected("810", name, version)
    assert Invoice.model_validate(case["document"]) == invoice
    out = _spec(version).render(invoice)
    assert out.segments == case["segments"]
    assert (out.transaction_set, out.functional_id) == ("810", "IN")
    return out.segments


BASIC = Invoice(
    invoice_number="INV-1",
    invoice_date=dt.date(2024, 3, 1),
    lines=(LineItem(line_number="1", quantity=Decimal(2), uom="EA", unit_price=Decimal("1.50")),),
    total_amount=Decimal("3.00"),
)
ACME = Party(
    role="ST",
    name="Acme Store 12",
    id_qualifier="92",
    id="0012",
    additional_names=("Receiving", "Dock 4", "Back door"),
    address=Address(lines=("1 Main St", "Suite 2", "Floor 3"), city="Springfield", state="IL"),
    contacts=(Contact(function_code="IC", name="Pat", phone="555-0100", fax="555-0199"),),
)
FULL = BASIC.model_copy(
    update={
        "po_number": "PO-9",
        "po_date": dt.date(2024, 2, 20),
        "release_number": "R1",
        "transaction_type": "DI",
        "currency": "USD",
        "references": (Reference(qualifier="IA", value="V1", description="vendor"),),
        "parties": (
            ACME,
            Party(role="RE", name="Seller Inc", address=Address(country="US")),
            Party(role="BT", id_qualifier="1", id="123456789"),
        ),
        "terms": Terms(
            terms_type="01",
            basis_date_code="3",
            discount_percent=Decimal(2),
            discount_days=10,
            net_days=30,
            description="2% 10 NET 30",
        ),
        "dates": (DateRef(qualifier="011", date=dt.date(2024, 2, 28), time=dt.time(13, 5)),),
        "lines": (
            LineItem(
                line_number="1",
                quantity=Decimal("10.500"),
                uom="CA",
                unit_price=Decimal("12.25"),
                price_basis="PE",
                product_ids=(ProductId(qualifier="VP", value="SKU-1"),),
                description="Widget " * 20,
                destinations=(
                    *(
                        Destination(location_qualifier="92", location=f"S{i}", quantity=Decimal(1))
                        for i in range(12)
                    ),
                    Destination(location_qualifier="UL", location="G1", quantity=Decimal("0.5")),
                ),
            ),
            LineItem(
                quantity=Decimal(1),
                product_ids=(
                    ProductId(qualifier="VP", value="SKU-2"),
                    ProductId(qualifier="UP", value="012345678905"),
                    ProductId(qualifier="BP", value="B-2"),
                ),
                allowances_charges=(
                    AllowanceCharge(indicator="A", code="C310", percent=Decimal(5)),
                ),
            ),
        ),
        "allowances_charges": (
            AllowanceCharge(indicator="C", code="D240", amount=Decimal("12.50"), method="06"),
            AllowanceCharge(indicator="A", code="C310", amount=Decimal(1), description="promo"),
        ),
        "total_amount": Decimal("1500.75"),
    }
)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_small_invoice(version: str) -> None:
    assert _same("basic", BASIC, version) == [
        ["BIG", "20240301", "INV-1"],
        ["IT1", "1", "2", "EA", "1.5"],
        ["TDS", "300"],
        ["CTT", "1"],
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_full_invoice(version: str) -> None:
    segments = _same("full", FULL, version)
    assert ["CUR", "SE", "USD"] in segments
    assert ["ITD", "01", "3", "2", "", "10", "", "30", "", "", "", "", "2% 10 NET 30"] in segments
    assert ["N2", "Receiving", "Dock 4"] in segments
    assert ["N3", "Floor 3"] in segments
    assert ["N4", "", "", "", "US"] in segments
    assert ["PER", "IC", "Pat", "TE", "555-0100", "FX", "555-0199"] in segments
    assert [
        "IT1",
        "",
        "1",
        "",
        "",
        "",
        "VP",
        "SKU-2",
        "UP",
        "012345678905",
        "BP",
        "B-2",
    ] in segments
    assert sum(1 for s in segments if s[0] == "SDQ") == 3
    assert ["TDS", "150075"] in segments


@pytest.mark.parametrize("version", VERSIONS)
def test_without_currency_terms_or_parties(version: str) -> None:
    plain = FULL.model_copy(update={"currency": None, "terms": None, "parties": ()})
    segments = _same("full_plain", plain, version)
    assert not [s for s in segments if s[0] in ("CUR", "ITD", "N1")]


@pytest.mark.parametrize("version", VERSIONS)
def test_terms_with_dates_and_a_discount_amount(version: str) -> None:
    terms = Terms(
        terms_type="05",
        discount_due_date=dt.date(2024, 3, 11),
        net_due_date=dt.date(2024, 3, 31),
        discount_amount=Decimal("30.02"),
    )
    segments = _same("terms_dates", BASIC.model_copy(update={"terms": terms}), version)
    assert ["ITD", "05", "", "", "20240311", "", "20240331", "", "3002"] in segments


def test_the_same_errors_as_the_hand_written_mapper() -> None:
    cent = BASIC.model_copy(update={"total_amount": Decimal("1.005")})
    with pytest.raises(MappingError, match="TDS01 takes whole cents"):
        _spec("004010").render(cent)
    no_unit = LineItem(quantity=Decimal(1), destinations=(Destination(location="S", quantity=1),))
    with pytest.raises(MappingError, match="SDQ01 is required"):
        _spec("004010").render(BASIC.model_copy(update={"lines": (no_unit,)}))
    long_ref = BASIC.model_copy(update={"references": (Reference(qualifier="IA", value="x" * 40),)})
    with pytest.raises(MappingError, match="REF02 is 40 characters; 004010 allows 30"):
        _spec("004010").render(long_ref)
    assert _spec("005010").render(long_ref).segments == [
        ["BIG", "20240301", "INV-1"],
        ["REF", "IA", "x" * 40],
        ["IT1", "1", "2", "EA", "1.5"],
        ["TDS", "300"],
        ["CTT", "1"],
    ]


def _generated(code: str) -> list[dict[str, object]]:
    return [c for c in CASES[code] if str(c["name"]).startswith("generated-")]


@pytest.mark.parametrize("case", _generated("810"), ids=lambda c: f"{c['name']}-{c['version']}")
def test_generated_invoices(case: dict[str, object]) -> None:
    invoice = Invoice.model_validate(case["document"])
    out = _spec(str(case["version"])).render(invoice)
    assert (out.transaction_set, out.functional_id, out.segments) == ("810", "IN", case["segments"])


# -- 855 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES["855"], ids=lambda c: f"{c['name']}-{c['version']}")
def test_order_acks(case: dict[str, object]) -> None:
    ack = PurchaseOrderAck.model_validate(case["document"])
    out = _spec(str(case["version"]), "855").render(ack)
    assert (out.transaction_set, out.functional_id, out.segments) == ("855", "PR", case["segments"])


def test_855_every_line_status_gets_its_ack() -> None:
    ack = PurchaseOrderAck(
        purpose_code="00",
        ack_type="AC",
        po_number="PO-1",
        po_date=dt.date(2024, 3, 1),
        lines=tuple(
            AckLine(line_number=str(i), quantity=Decimal(1), status=status)
            for i, status in enumerate(("IA", "IB", "IC", "IR", "IQ", None), start=1)
        ),
    )
    segments = _spec("005010", "855").render(ack).segments
    assert [s for s in segments if s[0] == "ACK"] == [
        ["ACK", "IA"],
        ["ACK", "IB"],
        ["ACK", "IC"],
        ["ACK", "IR"],
        ["ACK", "IQ"],
    ]
    assert segments[0] == ["BAK", "00", "AC", "PO-1", "20240301"]
    assert segments[-1] == ["CTT", "6"]


def test_855_ack_details_need_a_status() -> None:
    line = AckLine(line_number="1", quantity=Decimal(1), scheduled_date=dt.date(2024, 3, 2))
    ack = PurchaseOrderAck(
        purpose_code="00", ack_type="AC", po_number="PO-1", po_date=dt.date(2024, 3, 1)
    )
    for version in VERSIONS:
        with pytest.raises(MappingError, match="ACK01 is required") as info:
            _spec(version, "855").render(ack.model_copy(update={"lines": (line,)}))
        assert info.value.path == "ACK01"


def test_855_lengths_are_checked_by_version() -> None:
    ack = PurchaseOrderAck(
        purpose_code="00", ack_type="AD", po_number="P" * 23, po_date=dt.date(2024, 3, 1)
    )
    with pytest.raises(MappingError, match="BAK03 is 23 characters; 005010 allows 22"):
        _spec("005010", "855").render(ack)


OUT = """\
direction: outbound
document: invoice
target: {format: x12, transaction_set: "810", functional_id: IN, version: "004010"}
segments:
  - segment: BIG
    elements:
      - {field: invoice_date, transform: x12_date}
      - invoice_number
  - loop: IT1
    each: lines
    segments:
      - {segment: IT1, elements: [line_number, {field: quantity, transform: decimal}]}
  - {segment: TDS, elements: [{field: total_amount, transform: cents}]}
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "x12/810").mkdir(parents=True, exist_ok=True)
    (tmp_path / "x12/810/out.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_outbound(tmp_path, "x12/810/out")
    return info.value.problems


def test_a_small_spec_loads_and_renders(tmp_path: Path) -> None:
    (tmp_path / "x12/810").mkdir(parents=True)
    (tmp_path / "x12/810/out.yaml").write_text(OUT)
    out = load_outbound(tmp_path, "x12/810/out").render(BASIC)
    assert out.segments == [["BIG", "20240301", "INV-1"], ["IT1", "1", "2"], ["TDS", "300"]]


def test_unknown_field_path(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, OUT.replace("[line_number,", "[line_numbr,"))
    assert problem.startswith(
        "mappings/x12/810/out.yaml:12: segments[1].segments[0].elements[0]: "
        "unknown field 'line_numbr' on LineItem (it has: line_number, quantity,"
    )


def test_unknown_transform(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, OUT.replace("transform: cents", "transform: pennies"))
    assert problem.startswith(
        "mappings/x12/810/out.yaml:13: segments[2].elements[0].transform: "
        "unknown transform 'pennies'; known outbound: "
    )
    assert "cents" in problem


def test_a_value_where_a_list_is_expected(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, OUT.replace("each: lines", "each: total_amount"))
    assert problem == "mappings/x12/810/out.yaml:10: segments[1].each: 'total_amount' is not a list"


def test_a_misspelt_key_names_the_segment_entry(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, OUT.replace("{segment: IT1,", "{segment: IT1, colour: red,"))
    assert problem == (
        "mappings/x12/810/out.yaml:12: segments[1].segments[0].colour: unknown key; "
        "expected one of: chunk, chunk_by, each, elements, segment, split, when"
    )


def test_each_direction_has_its_loader(tmp_path: Path) -> None:
    (tmp_path / "x12/810").mkdir(parents=True)
    (tmp_path / "x12/810/out.yaml").write_text(OUT)
    with pytest.raises(ConfigError, match=r"direction: expected an inbound mapping"):
        load_mapping(tmp_path, "x12/810/out")
    with pytest.raises(ConfigError, match=r"direction: expected an outbound mapping"):
        load_outbound(MAPPINGS, "x12/810/004010")
