"""XML orders through XML mapping specs: cXML OrderRequest and Globex's own format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import ConfigError, MappingError, UnsafeXmlError
from gateway.mapping.engine_xml import map_xml
from gateway.mapping.loader import load_mapping
from gateway.model import PurchaseOrder
from gateway.model.orders import ProductId

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "mappings"
CXML = ROOT / "partners/acme-procure/samples/order_request.xml"
GLOBEX = ROOT / "partners/globex/samples/order.xml"
LIMIT = 1_000_000


def _order(base: str, data: bytes) -> PurchaseOrder:
    order = map_xml(load_mapping(MAPPINGS, base), data, max_bytes=LIMIT)
    assert isinstance(order, PurchaseOrder)
    return order


def test_cxml_order_request_header() -> None:
    order = _order("xml/cxml-orderrequest", CXML.read_bytes())
    assert order.po_number == "AP-2024-000517"
    assert order.po_date == dt.date(2024, 4, 15)  # from 2024-04-15T13:58:00-05:00
    assert (order.purpose_code, order.order_type, order.currency) == ("00", "SA", "USD")
    ship_to, bill_to = order.parties
    assert (ship_to.role, ship_to.name, ship_to.id) == (
        "ST",
        "Acme Procurement, Dallas Site",
        "ACME-DAL-01",
    )
    assert ship_to.address is not None
    assert ship_to.address.lines == ("Receiving Dock 4", "1200 Industrial Blvd")
    assert (ship_to.address.city, ship_to.address.state) == ("Dallas", "TX")
    assert (ship_to.address.postal_code, ship_to.address.country) == ("75207", "US")
    assert (bill_to.role, bill_to.name) == ("BT", "Acme Procurement Accounts Payable")
    assert bill_to.address is not None
    assert bill_to.address.lines == ("PO Box 4410",)
    assert bill_to.address.postal_code == "75244"


def test_cxml_order_request_lines() -> None:
    order = _order("xml/cxml-orderrequest", CXML.read_bytes())
    assert [line.line_number for line in order.lines] == ["1", "2", "3"]
    first, second, third = order.lines
    assert (first.quantity, first.uom, first.unit_price) == (Decimal(10), "EA", Decimal("3.15"))
    assert first.product_ids == (
        ProductId(qualifier="VN", value="O2C-WIDGET-A"),
        ProductId(qualifier="BP", value="ACM-55120"),
    )
    assert first.description == "Widget A, zinc plated"
    assert (second.quantity, second.uom, second.unit_price) == (Decimal(4), "BX", Decimal("27.50"))
    assert third.unit_price == Decimal("158.95")
    assert third.description == "Gearbox 20:1, aluminium housing"
    total = sum(line.quantity * (line.unit_price or 0) for line in order.lines)
    assert total == Decimal("1095.20")  # the document's Total/Money


def test_cxml_supplier_part_auxiliary_id_is_read_when_sent() -> None:
    data = CXML.read_bytes().replace(
        b"<SupplierPartID>O2C-WIDGET-A</SupplierPartID>",
        b"<SupplierPartID>O2C-WIDGET-A</SupplierPartID>"
        b"<SupplierPartAuxiliaryID>ZINC</SupplierPartAuxiliaryID>",
    )
    first = _order("xml/cxml-orderrequest", data).lines[0]
    assert [(p.qualifier, p.value) for p in first.product_ids] == [
        ("VN", "O2C-WIDGET-A"),
        ("VA", "ZINC"),
        ("BP", "ACM-55120"),
    ]


def test_globex_order() -> None:
    order = _order("xml/globex-order", GLOBEX.read_bytes())
    assert (order.po_number, order.po_date) == ("GX-77120", dt.date(2024, 5, 2))
    assert order.currency == "USD"
    assert [(p.role, p.id, p.name) for p in order.parties] == [
        ("ST", "GX-PLANT-2", "Globex Plant 2"),
        ("BT", "GX-AP", "Globex Corporation Accounts Payable"),
    ]
    ship_to = order.parties[0].address
    assert ship_to is not None
    assert ship_to.lines == ("77 Cypress Creek Road",)
    assert (ship_to.city, ship_to.state, ship_to.postal_code) == ("Cypress Creek", "OR", "97000")
    assert [(d.qualifier, d.date) for d in order.dates] == [("002", dt.date(2024, 5, 16))]
    assert order.terms is not None
    assert (order.terms.net_days, order.terms.description) == (60, "NET 60")
    assert [(line.line_number, line.quantity, line.uom) for line in order.lines] == [
        ("1", Decimal(12), "BX"),
        ("2", Decimal(250), "EA"),
    ]
    assert order.lines[1].unit_price == Decimal("3.05")
    assert order.lines[0].product_ids == (
        ProductId(qualifier="VN", value="O2C-BOLT-M8"),
        ProductId(qualifier="BP", value="GX-HB-M8"),
    )
    total = sum(line.quantity * (line.unit_price or 0) for line in order.lines)
    assert total == Decimal("1092.50")  # the document's Summary/Amount


XML_BASE = """\
document: purchase_order
source: {format: xml, root: /g:Order, namespaces: {g: "urn:globex:orders:v2"}}
fields:
  po_number: {path: g:Header/g:OrderNo, required: always}
  purpose_code: {constant: "00"}
  order_type: {constant: SA}
  lines: {each: g:Lines/g:Line, fields: {quantity: {path: g:Qty, transform: decimal}}}
"""


def _load(tmp_path: Path, text: str) -> object:
    (tmp_path / "xml").mkdir(exist_ok=True)
    (tmp_path / "xml/order.yaml").write_text(text)
    return load_mapping(tmp_path, "xml/order")


def test_a_bad_xpath_is_one_precise_config_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, XML_BASE.replace("path: g:Qty,", 'path: "g:Qty]",'))
    [problem] = info.value.problems
    assert problem.startswith("mappings/xml/order.yaml:7: fields.lines.fields.quantity.path: ")
    assert "bad XPath 'g:Qty]'" in problem


def test_an_undeclared_prefix_is_a_config_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, XML_BASE.replace("g:Header/g:OrderNo", "h:Header/h:OrderNo"))
    [problem] = info.value.problems
    assert problem.startswith("mappings/xml/order.yaml:4: fields.po_number.path: ")
    assert "h:Header/h:OrderNo" in problem


def test_x12_only_options_are_refused_in_xml_specs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, XML_BASE + "  currency: {qualified: [g:Currency], code: USD}\n")
    assert info.value.problems == [
        "mappings/xml/order.yaml:8: fields.currency.qualified: qualified is for X12 specs, not XML"
    ]


def test_a_doctype_is_refused_before_mapping() -> None:
    data = CXML.read_bytes().replace(
        b"<cXML ",
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.060/cXML.dtd">\n<cXML ',
        1,
    )
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        _order("xml/cxml-orderrequest", data)


def test_a_missing_required_field_names_its_xpath() -> None:
    data = CXML.read_bytes().replace(b' orderID="AP-2024-000517"', b"")
    with pytest.raises(MappingError) as info:
        _order("xml/cxml-orderrequest", data)
    assert "XPath 'OrderRequestHeader/@orderID' (po_number): required" in str(info.value)


def test_a_bad_value_names_its_xpath() -> None:
    data = GLOBEX.read_bytes().replace(b'<Qty unit="EA">250</Qty>', b'<Qty unit="EA">lots</Qty>')
    with pytest.raises(MappingError) as info:
        _order("xml/globex-order", data)
    assert str(info.value) == "XPath 'g:Qty' (quantity): expected a decimal number, found 'lots'"


def test_the_wrong_document_element_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match=r"expected the document element '/g:Order'"):
        _order("xml/globex-order", CXML.read_bytes())


def test_an_x12_mapping_cannot_read_xml() -> None:
    with pytest.raises(ConfigError, match="'x12' cannot read XML"):
        map_xml(load_mapping(MAPPINGS, "x12/850/004010"), GLOBEX.read_bytes(), max_bytes=LIMIT)
