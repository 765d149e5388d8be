"""The registry of inbound and outbound mappers."""

from __future__ import annotations

from gateway.mapping import inbound_mapper, outbound_mapper


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
