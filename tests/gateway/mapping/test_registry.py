"""The registry of inbound and outbound mappers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.errors import MappingError, UsageError
from gateway.mapping import inbound_mapper, outbound_mapper
from gateway.mapping.loader import load_mapping
from gateway.model import AckLine, Invoice, PurchaseOrderAck, Reference
from gateway.partners import PartnerRegistry
from gateway.pipeline.routing import PartnerMappings
from gateway.settings import Settings


def test_registry_knows_its_codes() -> None:
    assert {c for c in ("850", "810", "820", "855", "997", "999") if inbound_mapper(c)} == {
        "850",
        "810",
        "820",
        "855",
        "997",
        "999",
    }
    assert inbound_mapper("856") is None
    assert outbound_mapper("invoice") is not None
    assert outbound_mapper("purchase_order_ack") is not None
    assert outbound_mapper("purchase_order") is None


ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = ROOT / "mappings"
ACK = PurchaseOrderAck(
    purpose_code="00",
    ack_type="AC",
    po_number="PO-1",
    po_date=dt.date(2024, 3, 1),
    currency="USD",
    lines=(AckLine(line_number="1", quantity=Decimal(2), status="IA"),),
)


def test_inbound_sets_map_through_the_base_mapping_of_their_version() -> None:
    for code in ("850", "810", "820", "855"):
        for version, base in (("004010", "004010"), ("005010X222A1", "005010")):
            mapper = inbound_mapper(code, version, mappings_dir=MAPPINGS)
            compiled = load_mapping(MAPPINGS, f"x12/{code}/{base}")
            assert getattr(mapper, "__self__", None) is compiled


def test_outbound_documents_render_through_the_base_mapping_of_their_version() -> None:
    mapper = outbound_mapper("invoice", mappings_dir=MAPPINGS)
    assert mapper is not None
    invoice = Invoice(
        invoice_number="INV-1",
        invoice_date=dt.date(2024, 3, 1),
        references=(Reference(qualifier="IA", value="x" * 40),),
        total_amount=Decimal(1),
    )
    with pytest.raises(MappingError, match="004010 allows 30"):
        mapper(invoice, version="004010")
    assert mapper(invoice, version="005010").segments[1] == ["REF", "IA", "x" * 40]
    ack = outbound_mapper("purchase_order_ack", mappings_dir=MAPPINGS)
    assert ack is not None
    out = ack(ACK, version="004010")
    assert (out.transaction_set, out.functional_id) == ("855", "PR")
    assert out.segments == [
        ["BAK", "00", "AC", "PO-1", "20240301"],
        ["CUR", "SE", "USD"],
        ["PO1", "1", "2"],
        ["ACK", "IA"],
        ["CTT", "1"],
    ]


PROFILE = """\
id: acme
display_name: Acme
mappings:
  "out.855": {base: x12/855/out-005010, override: acme/855-out.yaml}
"""
OVERRIDE = """\
segments:
  - segment: BAK
    elements: [purpose_code, ack_type, po_number, {field: po_date, transform: x12_date}]
  - loop: PO1
    each: lines
    segments:
      - {segment: PO1, elements: [line_number]}
      - {segment: ACK, when: status, elements: [status]}
  - {segment: CTT, elements: [{field: lines, transform: count}]}
"""


def test_a_partner_outbound_mapping_overrides_the_base(tmp_path: Path) -> None:
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme.yaml").write_text(PROFILE)
    (tmp_path / "acme/855-out.yaml").write_text(OVERRIDE)
    settings = Settings(partners_dir=tmp_path, mappings_dir=MAPPINGS)
    registry = PartnerRegistry.load(tmp_path)
    mapper = PartnerMappings(registry, settings, partner="acme").outbound_for("purchase_order_ack")
    assert mapper is not None
    assert mapper(ACK, version="005010").segments == [
        ["BAK", "00", "AC", "PO-1", "20240301"],
        ["PO1", "1"],
        ["ACK", "IA"],
        ["CTT", "1"],
    ]
    with pytest.raises(UsageError, match="writes 005010, but version 004010 was asked for"):
        mapper(ACK, version="004010")
    # no entry of its own for invoices, and no partner at all: the base mappings
    base = PartnerMappings(registry, settings, partner="acme").outbound_for("invoice")
    assert base is not None
    assert PartnerMappings(registry, settings).outbound_for("purchase_order_ack") is not None
    assert PartnerMappings(registry, settings).outbound_for("purchase_order") is None
