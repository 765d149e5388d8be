"""Onboard a partner with YAML only, then translate its X12 and XML files correctly.

Nothing here is Python configuration: the test writes a profile (a new ISA
qualifier, an item cross-reference, a unit-of-measure table), an override of the
base 850 mapping, and a mapping for the partner's own XML order format by XPath,
into copies of the partners and mappings folders, and runs the ``o2c`` command.
"""

from __future__ import annotations

import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).parents[2]

PROFILE = """\
id: zenith
display_name: Zenith Office Supply
identity:
  isa:
    - {qualifier: "08", id: "0614141000012"}     # UCC/EAN location code: new to this gateway
  gs_ids: ["0614141000012"]
x12:
  "850": {version: "004010", functional_ack: "997"}
channels:
  inbound: {kind: folder, path: /srv/edi/zenith/in}
  outbound: {kind: folder, path: /srv/edi/zenith/out}
business:
  currency: USD
  item_xref:
    items:
      - {sku: CUP-12OZ, partner_part: ZN-CUP-12}
      - {sku: LID-12OZ, partner_part: ZN-LID-12, upc: "012345678905"}
  uom:
    - {partner_uom: BX, our_uom: EA, factor: 50}
    - {partner_uom: CS, our_uom: EA, factor: 1000}
mappings:
  "850": {base: x12/850/004010, override: zenith/850.yaml}
  xml.order: {base: xml/zenith-po}
"""

# Zenith's 850s: their unit codes go through the UOM table; nothing else differs.
OVERRIDE_850 = """\
shapes:
  line:
    uom: {path: PO103, transform: uom}
"""

XML_MAPPING = """\
# Zenith's own XML purchase order (namespace urn:zenith:po:1).
document: purchase_order
source:
  format: xml
  root: /z:PurchaseOrder
  namespaces: {z: "urn:zenith:po:1"}
fields:
  po_number: {path: z:Number, required: always}
  po_date: {path: z:Date, transform: iso_date}
  purpose_code: {constant: "00"}
  order_type: {constant: SA}
  currency: z:Currency
  parties:
    each: z:Deliver
    fields:
      role: {constant: ST}
      name: z:Name
      id_qualifier: {constant: "92"}
      id: "@code"
  lines:
    each: z:Item
    fields:
      line_number: "@no"
      quantity: {path: z:Qty, transform: decimal, required: always}
      uom: {path: z:Qty/@unit, transform: uom}
      unit_price: {path: z:Price, transform: decimal}
      product_ids:
        each: z:Part
        fields:
          qualifier: {constant: VN}
          value: {path: ".", transform: {xref: {by: part}}}
      description: z:Text
"""

ORDER_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<PurchaseOrder xmlns="urn:zenith:po:1">
  <Number>ZN-1001</Number><Date>2024-06-03</Date><Currency>USD</Currency>
  <Deliver code="WH7"><Name>Zenith Warehouse 7</Name></Deliver>
  <Item no="1"><Part>ZN-CUP-12</Part><Qty unit="BX">4</Qty><Price>12.50</Price><Text>Paper cups</Text></Item>
  <Item no="2"><Part>ZN-LID-12</Part><Qty unit="CS">2</Qty><Price>30</Price></Item>
</PurchaseOrder>
"""

ISA = "ISA*00*          *00*          *08*0614141000012  *ZZ*O2CGATEWAY     *240603*0900*U*00401*000000501*0*P*>~\n"
BODY = [
    "BEG*00*SA*ZN-2002**20240603",
    "N1*ST*ZENITH WAREHOUSE 7*92*WH7",
    "PO1*1*3*BX*12.5**VN*ZN-CUP-12",
    "PID*F****PAPER CUPS",
    "CTT*1",
]
X12 = (
    ISA
    + "GS*PO*0614141000012*O2CGATEWAY*20240603*0900*501*X*004010~\n"
    + "ST*850*0001~\n"
    + "".join(f"{s}~\n" for s in BODY)
    + f"SE*{len(BODY) + 2}*0001~\nGE*1*501~\nIEA*1*000000501~\n"
).encode()


@pytest.fixture
def onboarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    partners, mappings = tmp_path / "partners", tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    (partners / "zenith").mkdir(parents=True)
    (partners / "zenith.yaml").write_text(PROFILE)
    (partners / "zenith" / "850.yaml").write_text(OVERRIDE_850)
    (mappings / "xml" / "zenith-po.yaml").write_text(XML_MAPPING)
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(partners))
    monkeypatch.setenv("O2C_MAPPINGS_DIR", str(mappings))
    return tmp_path


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_the_new_partner_checks_out(onboarded: Path) -> None:
    sample = onboarded / "order.xml"
    sample.write_bytes(ORDER_XML)
    code, out = run("partners", "check", "zenith", "--sample", str(sample))
    assert code == 0, out
    assert "checked  mapping 850: x12/850/004010 + zenith/850.yaml" in out


def test_its_own_xml_format_translates_with_xref_and_uom(onboarded: Path) -> None:
    path = onboarded / "order.xml"
    path.write_bytes(ORDER_XML)
    code, out = run("translate", str(path), "--partner", "zenith")
    assert code == 0, out
    (po,) = json.loads(out)["documents"]
    assert po["po_number"] == "ZN-1001"
    assert po["po_date"] == "2024-06-03"
    assert po["parties"][0]["id"] == "WH7"
    cups, lids = po["lines"]
    assert cups["product_ids"] == [{"qualifier": "VN", "value": "CUP-12OZ"}]  # cross-referenced
    assert lids["product_ids"] == [{"qualifier": "VN", "value": "LID-12OZ"}]
    assert (cups["uom"], lids["uom"]) == ("EA", "EA")  # BX and CS through the UOM table
    assert Decimal(cups["quantity"]) == 4
    assert Decimal(cups["unit_price"]) == Decimal("12.50")


def test_its_850s_are_found_by_the_new_qualifier_and_use_the_override(onboarded: Path) -> None:
    path = onboarded / "po.x12"
    path.write_bytes(X12)
    code, out = run("translate", str(path))  # no --partner: found by ISA 08:0614141000012
    assert code == 0, out
    (po,) = json.loads(out)["documents"]
    assert po["po_number"] == "ZN-2002"
    assert po["lines"][0]["uom"] == "EA"  # the partner's override applied the UOM table


def test_a_broken_override_is_one_precise_message(onboarded: Path) -> None:
    override = onboarded / "partners" / "zenith" / "850.yaml"
    override.write_text("shapes:\n  line:\n    uom: {path: PO103, transform: frobnicate}\n")
    code, out = run("partners", "check", "zenith")
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, problems
    assert "partners/zenith/850.yaml:3" in problems[0]
    assert "unknown transform 'frobnicate'" in problems[0]
