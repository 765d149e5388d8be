"""X12 orders: 850 purchase order to ``PurchaseOrder``, 855 acknowledgement both ways.

Each segment has one reader naming its elements once; the tables below say where each
reader's result goes. The 850 mapper runs on every order of large files, so it walks
each loop once and validates the finished order in one pydantic call.

Imports only ``gateway.errors``, ``gateway.model``, ``gateway.x12.reader`` and
``gateway.mapping.x12_loops``, ``x12_read`` and ``x12_write``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from gateway.errors import MappingError
from gateway.mapping.x12_loops import (
    Fields,
    Loop,
    LoopRule,
    SegmentRule,
    build,
    collect,
    collect_content,
    joined,
    need,
    opening,
)
from gateway.mapping.x12_read import (
    SPACES,
    allowance_charge,
    code,
    currency,
    date_ref,
    day,
    description,
    destinations,
    padded,
    party,
    product_ids,
    real,
    reference,
    required,
    terms,
    words,
)
from gateway.mapping.x12_write import (
    OutboundSet,
    date_segment,
    fmt_date,
    fmt_real,
    party_segments,
    pid_segments,
    product_elements,
    reference_segment,
    segment,
)
from gateway.model import AckLine, PurchaseOrder, PurchaseOrderAck
from gateway.x12.reader import Segment

if TYPE_CHECKING:
    from gateway.model import Envelope
    from gateway.x12.reader import Delimiters

# -- 850 ---------------------------------------------------------------------------------


def _beg(seg: Segment) -> Fields:
    """BEG: purpose, order type, PO number, release, order date."""
    _, purpose, order_type, po_number, release, po_date = padded(seg, 5)[:6]
    return {
        "purpose_code": required(purpose, seg, 1, "purpose code"),
        "order_type": required(order_type, seg, 2, "order type"),
        "po_number": required(po_number, seg, 3, "purchase order number"),
        "release_number": code(release),
        "po_date": day(po_date, seg, 5, "purchase order date"),
    }


def _po1(seg: Segment, *, needed: bool = False) -> Fields:
    """PO1: line number, quantity, unit, price, price basis, product id pairs from PO106.

    Read on every line, so the plain-decimal case skips :func:`real` (which gives the
    same Decimal, and the error for anything else).
    """
    els = seg.elements
    if len(els) < 6:
        els = els + [""] * (6 - len(els))
    quantity = els[2].strip(SPACES)
    price = els[4].strip(SPACES)
    return {
        "line_number": els[1].strip(SPACES) or None,
        "quantity": Decimal(quantity)
        if quantity.isascii() and quantity.replace(".", "", 1).isdigit()
        else real(quantity, seg, 2, "quantity ordered", needed=needed),
        "uom": els[3].strip(SPACES) or None,
        "unit_price": Decimal(price)
        if price.isascii() and price.replace(".", "", 1).isdigit()
        else real(price, seg, 4, "unit price"),
        "price_basis": els[5].strip(SPACES) or None,
        "product_ids": product_ids(els[6:]) if len(els) > 6 else (),
    }


_ORDER_LINE: dict[str, SegmentRule] = {
    "REF": ("references", reference, "append"),
    "DTM": ("dates", date_ref, "append"),
    "SDQ": ("destinations", destinations, "extend"),
    "SAC": ("allowances_charges", allowance_charge, "append"),
}
_ORDER_LINE_LOOPS: dict[str, LoopRule] = {
    "SAC": ("allowances_charges", opening(allowance_charge), "append"),
}


def _order_line(loop: Loop) -> Fields:
    """PO1 loop: the line, its descriptions, references, dates, destinations and SACs.

    This runs for every line of every order, so PO1 and PID (nearly all of a typical
    line) are read here; the rest go through :func:`collect_content` by ``_ORDER_LINE``.
    """
    fields: Fields | None = None
    texts: list[str] = []
    rest: list[Segment | Loop] = []
    for child in loop.content:
        if isinstance(child, Segment):
            tag = child.elements[0]
            if tag == "PO1":
                line = _po1(child, needed=True)  # a second PO1 is read, but adds nothing
                if fields is None:
                    fields = line
                continue
            pid = child if tag == "PID" else None
        elif child.id == "PID" and child.content:
            pid = child.content[0] if isinstance(child.content[0], Segment) else None
        else:
            pid = None
        if pid is None:
            rest.append(child)
        elif len(els := pid.elements) > 5 and (found := words(els[5])):
            texts.append(found)
    if fields is None:
        fields = {}
    if rest:
        fields.update(collect_content(rest, _ORDER_LINE, _ORDER_LINE_LOOPS))
    if texts:
        fields["description"] = texts[0] if len(texts) == 1 else " ".join(texts)
    return fields


_ORDER: dict[str, SegmentRule] = {
    "BEG": ("", _beg, "merge"),
    "CUR": ("currency", currency, "first"),
    "REF": ("references", reference, "append"),
    "ITD": ("terms", terms, "first"),
    "DTM": ("dates", date_ref, "append"),
    "SAC": ("allowances_charges", allowance_charge, "append"),
}
_ORDER_LOOPS: dict[str, LoopRule] = {
    "SAC": ("allowances_charges", opening(allowance_charge), "append"),
    "N1": ("parties", party, "append"),
    "PO1": ("lines", _order_line, "append"),
}


def purchase_order(tree: Loop, *, delimiters: Delimiters, envelope: Envelope) -> PurchaseOrder:
    """Map an 850 loop tree to a ``PurchaseOrder`` (CTT hash totals are advisory: ignored)."""
    fields = collect(tree, _ORDER, _ORDER_LOOPS)
    need(fields, "po_number", "BEG03", "purchase order number")
    fields["envelope"] = envelope
    return build(PurchaseOrder, fields)


# -- 855 inbound -------------------------------------------------------------------------


def _bak(seg: Segment) -> Fields:
    """BAK: purpose, ack type, PO number and date, release, ack date (BAK09)."""
    els = padded(seg, 9)
    _, purpose, ack_type, po_number, po_date, release = els[:6]
    return {
        "purpose_code": required(purpose, seg, 1, "purpose code"),
        "ack_type": required(ack_type, seg, 2, "acknowledgment type"),
        "po_number": required(po_number, seg, 3, "purchase order number"),
        "po_date": day(po_date, seg, 4, "purchase order date", needed=True),
        "release_number": code(release),
        "ack_date": day(els[9], seg, 9, "acknowledgment date"),
    }


def _ack(seg: Segment) -> Fields:
    """ACK: line status, quantity and unit, and the date ACK04 qualifies."""
    _, status, quantity, uom, date_qualifier, date = padded(seg, 5)[:6]
    return {
        "status": required(status, seg, 1, "line item status"),
        "ack_quantity": real(quantity, seg, 2, "acknowledged quantity"),
        "ack_uom": code(uom),
        "scheduled_date_qualifier": code(date_qualifier),
        "scheduled_date": day(date, seg, 5, "scheduled date"),
    }


_ACK_LINE: dict[str, SegmentRule] = {
    "PO1": ("", _po1, "merge"),
    "PID": ("description", description, "append"),
    "ACK": ("", _ack, "merge"),  # the first ACK of the line
}
_ACK_LINE_LOOPS: dict[str, LoopRule] = {
    "PID": ("description", opening(description), "append"),
    "ACK": ("", opening(_ack), "merge"),
}


def _ack_line(loop: Loop) -> Fields:
    fields = collect(loop, _ACK_LINE, _ACK_LINE_LOOPS)
    joined(fields, "description")
    return fields


_ORDER_ACK: dict[str, SegmentRule] = {
    "BAK": ("", _bak, "merge"),
    "CUR": ("currency", currency, "first"),
    "REF": ("references", reference, "append"),
    "DTM": ("dates", date_ref, "append"),
}
_ORDER_ACK_LOOPS: dict[str, LoopRule] = {
    "N1": ("parties", party, "append"),
    "PO1": ("lines", _ack_line, "append"),
}


def purchase_order_ack(
    tree: Loop, *, delimiters: Delimiters, envelope: Envelope
) -> PurchaseOrderAck:
    """Map an 855 loop tree to a ``PurchaseOrderAck``."""
    fields = collect(tree, _ORDER_ACK, _ORDER_ACK_LOOPS)
    need(fields, "po_number", "BAK03", "purchase order number")
    fields["envelope"] = envelope
    return build(PurchaseOrderAck, fields)


# -- 855 outbound ------------------------------------------------------------------------


def _ack_line_segments(line: AckLine, version: str) -> list[list[str]]:
    """PO1, PID, then one ACK when the line has a status."""
    out = [
        segment(
            "PO1",
            line.line_number,
            fmt_real(line.quantity),
            line.uom,
            fmt_real(line.unit_price),
            line.price_basis,
            *product_elements(line.product_ids),
            version=version,
        )
    ]
    out += pid_segments(line.description, version)
    acked = (line.ack_quantity, line.ack_uom, line.scheduled_date_qualifier, line.scheduled_date)
    if line.status is None:
        if any(v is not None for v in acked):
            raise MappingError(
                f"line {line.line_number}: ACK01 (status) is required with an acknowledged "
                "quantity or date",
                path="ACK01",
            )
        return out
    out.append(
        segment(
            "ACK",
            line.status,
            fmt_real(line.ack_quantity),
            line.ack_uom,
            line.scheduled_date_qualifier,
            fmt_date(line.scheduled_date),
            version=version,
        )
    )
    return out


def purchase_order_ack_to_855(ack: PurchaseOrderAck, *, version: str) -> OutboundSet:
    """Render a ``PurchaseOrderAck`` as the body of an 855 (BAK ... CTT)."""
    out = [
        segment(
            "BAK",
            ack.purpose_code,
            ack.ack_type,
            ack.po_number,
            fmt_date(ack.po_date),
            ack.release_number,
            None,
            None,
            None,
            fmt_date(ack.ack_date),
            version=version,
        )
    ]
    if ack.currency is not None:
        out.append(segment("CUR", "SE", ack.currency))
    out += [reference_segment(r, version) for r in ack.references]
    out += [date_segment(d, version) for d in ack.dates]
    for p in ack.parties:
        out += party_segments(p, version)
    for line in ack.lines:
        out += _ack_line_segments(line, version)
    out.append(segment("CTT", str(len(ack.lines))))
    return OutboundSet(transaction_set="855", functional_id="PR", segments=out)
