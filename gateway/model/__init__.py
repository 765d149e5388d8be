"""The canonical model: every document the gateway translates, as frozen pydantic models.

X12, cXML and partner XML are mapped to and from these models; the ERP
connectors, cash application and DSO read them. ``CanonicalDocument`` is the
union of the document types, told apart by their ``type`` field, and
``parse_document`` reads one from its JSON form.

Imports only the standard library, pydantic and ``gateway.errors``; nothing
in ``gateway.model`` may import any other part of the gateway.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, TypeAdapter, ValidationError

from gateway.errors import MappingError
from gateway.model.acks import ElementNote, FunctionalAck, SegmentNote, SetAck
from gateway.model.envelope import Envelope
from gateway.model.invoices import Invoice
from gateway.model.money import AllowanceCharge, CurrencyCode, Terms
from gateway.model.orders import (
    AckLine,
    Destination,
    LineItem,
    ProductId,
    PurchaseOrder,
    PurchaseOrderAck,
)
from gateway.model.parties import Address, Contact, DateRef, Party, Reference
from gateway.model.remittances import Adjustment, Remittance, RemittanceLine

__all__ = [
    "DOCUMENT_ADAPTER",
    "AckLine",
    "Address",
    "Adjustment",
    "AllowanceCharge",
    "CanonicalDocument",
    "Contact",
    "CurrencyCode",
    "DateRef",
    "Destination",
    "ElementNote",
    "Envelope",
    "FunctionalAck",
    "Invoice",
    "LineItem",
    "Party",
    "ProductId",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "Reference",
    "Remittance",
    "RemittanceLine",
    "SegmentNote",
    "SetAck",
    "Terms",
    "parse_document",
]

CanonicalDocument = Annotated[
    PurchaseOrder | Invoice | Remittance | FunctionalAck | PurchaseOrderAck,
    Field(discriminator="type"),
]
"""Any canonical document; its ``type`` field says which."""

DOCUMENT_ADAPTER: Final[TypeAdapter[CanonicalDocument]] = TypeAdapter(CanonicalDocument)
"""Validates and serialises ``CanonicalDocument`` values (``validate_json``, ``dump_json``)."""

_MAX_LISTED_ERRORS = 20


def parse_document(data: bytes | str) -> CanonicalDocument:
    """Read one canonical document from its JSON form.

    Raises:
        MappingError: the input is not JSON or not a valid canonical document. The
            message lists each problem as ``location: message``; input values are
            left out so that the message can be logged. ``path`` is the first location.
    """
    try:
        return DOCUMENT_ADAPTER.validate_json(data)
    except ValidationError as exc:
        problems = [(_location(err["loc"]), err["msg"]) for err in exc.errors()]
        lines = [f"  {where}: {msg}" for where, msg in problems[:_MAX_LISTED_ERRORS]]
        if len(problems) > _MAX_LISTED_ERRORS:
            lines.append(f"  ... and {len(problems) - _MAX_LISTED_ERRORS} more")
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        message = f"not a valid canonical document ({count}):\n" + "\n".join(lines)
        raise MappingError(message, path=problems[0][0] if problems else None) from exc


def _location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``invoice.lines[0].quantity``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(document)"
