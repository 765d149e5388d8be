"""Orders and their acknowledgement: purchase order (850), order ack (855) and order lines.

``LineItem`` is the line of a purchase order and, unchanged, of an invoice:
what was ordered is what is billed. Quantities and prices are ``Decimal``;
codes (units of measure, product-id qualifiers, line statuses) are kept as the
partner sent them.

Imports only the standard library, pydantic and sibling modules of
``gateway.model``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.model.envelope import Envelope
from gateway.model.money import AllowanceCharge, CurrencyCode, Terms
from gateway.model.parties import DateRef, Party, Reference


class ProductId(BaseModel):
    """One product identifier of a line, e.g. ``VN`` vendor item, ``UP`` UPC, ``BP`` buyer part."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qualifier: str
    value: str


class Destination(BaseModel):
    """One store or location in a line's destination quantities (SDQ)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    location_qualifier: str | None = None
    """How ``location`` is to be read, e.g. ``92`` buyer-assigned store number, ``UL`` GLN."""
    location: str
    quantity: Decimal


class LineItem(BaseModel):
    """A line of a purchase order or an invoice (PO1 or IT1 with its loop)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_number: str | None = None
    quantity: Decimal
    uom: str | None = None
    unit_price: Decimal | None = None
    price_basis: str | None = None
    """What ``unit_price`` is per, e.g. ``PE`` price per each, ``CT`` contract price."""
    product_ids: tuple[ProductId, ...] = ()
    description: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateRef, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    destinations: tuple[Destination, ...] = ()


class PurchaseOrder(BaseModel):
    """A purchase order (850) from a buyer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["purchase_order"] = "purchase_order"
    po_number: str
    release_number: str | None = None
    po_date: dt.date | None = None
    purpose_code: str
    """Transaction set purpose, e.g. ``00`` original, ``01`` cancellation, ``05`` replace."""
    order_type: str
    """Purchase order type, e.g. ``SA`` stand-alone, ``NE`` new order, ``DS`` drop ship."""
    currency: CurrencyCode | None = None
    parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateRef, ...] = ()
    terms: Terms | None = None
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    lines: tuple[LineItem, ...] = ()
    envelope: Envelope | None = None


class AckLine(BaseModel):
    """A line of a purchase order acknowledgement: the ordered line and what happens to it.

    ``status`` is the line item status code, e.g. ``IA`` accepted, ``IB``
    backordered, ``IC`` accepted with changes, ``IR`` rejected, ``IQ`` quantity
    changed; it is None when the partner sent the line without an ACK segment.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_number: str | None = None
    quantity: Decimal | None = None
    uom: str | None = None
    unit_price: Decimal | None = None
    price_basis: str | None = None
    product_ids: tuple[ProductId, ...] = ()
    description: str | None = None
    status: str | None = None
    ack_quantity: Decimal | None = None
    ack_uom: str | None = None
    scheduled_date_qualifier: str | None = None
    """What ``scheduled_date`` means, e.g. ``068`` current schedule ship, ``067`` delivery."""
    scheduled_date: dt.date | None = None


class PurchaseOrderAck(BaseModel):
    """A purchase order acknowledgement (855) from a seller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["purchase_order_ack"] = "purchase_order_ack"
    purpose_code: str
    """Transaction set purpose, e.g. ``00`` original, ``06`` confirmation."""
    ack_type: str
    """Acknowledgement type, e.g. ``AC`` with detail and change, ``AD`` with detail no change,
    ``AK`` no detail or change, ``RJ`` rejected."""
    po_number: str
    po_date: dt.date
    ack_date: dt.date | None = None
    release_number: str | None = None
    currency: CurrencyCode | None = None
    parties: tuple[Party, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateRef, ...] = ()
    lines: tuple[AckLine, ...] = ()
    envelope: Envelope | None = None
