"""Mappings between X12 and the canonical model, found through a registry.

:func:`inbound_mapper` gives the mapper for a received transaction set (by ST01); it
is called as ``mapper(tree, delimiters=..., envelope=...)`` with the validator's loop
tree and returns the canonical document, or raises ``MappingError`` naming the element
(``BEG03``) when a business-required value is missing or unreadable.
:func:`outbound_mapper` gives the mapper for a canonical document type to send; it is
called as ``mapper(document, version="004010")`` and returns an ``OutboundSet``: the
body segments (no ST/SE), the transaction set id and the GS01 functional id.

Imports only ``gateway.errors``, ``gateway.model`` and ``gateway.x12.reader``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gateway.mapping import x12_acks, x12_invoices, x12_orders, x12_remittances
from gateway.mapping.x12_loops import Loop
from gateway.mapping.x12_write import OutboundSet
from gateway.model import CanonicalDocument

__all__ = [
    "InboundMapper",
    "Loop",
    "OutboundMapper",
    "OutboundSet",
    "inbound_mapper",
    "outbound_mapper",
]

InboundMapper = Callable[..., CanonicalDocument]
"""``mapper(tree, *, delimiters, envelope) -> CanonicalDocument``."""
OutboundMapper = Callable[..., OutboundSet]
"""``mapper(document, *, version) -> OutboundSet``."""

INBOUND: Final[dict[str, InboundMapper]] = {
    "850": x12_orders.purchase_order,
    "855": x12_orders.purchase_order_ack,
    "810": x12_invoices.invoice,
    "820": x12_remittances.remittance,
    "997": x12_acks.functional_ack_997,
    "999": x12_acks.functional_ack_999,
}
OUTBOUND: Final[dict[str, OutboundMapper]] = {
    "invoice": x12_invoices.invoice_to_810,
    "purchase_order_ack": x12_orders.purchase_order_ack_to_855,
}


def inbound_mapper(code: str) -> InboundMapper | None:
    """The mapper for transaction set ``code`` (ST01, e.g. ``850``), or None."""
    return INBOUND.get(code)


def outbound_mapper(document_type: str) -> OutboundMapper | None:
    """The mapper for a canonical document ``type`` (``invoice``, ``purchase_order_ack``)."""
    return OUTBOUND.get(document_type)
