"""The 855 the gateway sends when the ERP has confirmed an order.

:func:`plan_order_ack` builds it for partners whose profile has an ``x12."855"`` entry
(``ack_type`` is BAK02), from the order and the ERP's answer (:func:`build_order_ack`);
the worker queues it (:meth:`gateway.pipeline.erp_flow.OutboundX12.queue`) in the
transaction that marks the order ``delivered``, so a crash never leaves a delivered
order without its 855 nor sends one for an order that was not delivered.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError
from gateway.model import AckLine, PurchaseOrderAck
from gateway.pipeline.context import log_extra
from gateway.pipeline.erp_flow import OutboundX12
from gateway.storage import DocumentQuery

if TYPE_CHECKING:
    import datetime as dt

    from gateway.model import LineItem, PurchaseOrder
    from gateway.partners import PartnerProfile
    from gateway.pipeline.context import StageContext
    from gateway.ports import ErpResult
    from gateway.storage import DocumentRecord, Unit

log = logging.getLogger(__name__)

UNCONFIRMED = frozenset({"draft", "quotation"})
"""ERP order states that are not a confirmation: no 855 is sent for them."""


def build_order_ack(
    order: PurchaseOrder,
    result: ErpResult,
    *,
    partner: PartnerProfile,
    ack_type: str,
    today: dt.date,
) -> PurchaseOrderAck:
    """The 855 for ``order`` from the ERP's answer.

    ``result.detail["lines"]`` (when the connector reports lines) holds what the ERP
    booked per PO line: ``line_number``, ``sku``, ``quantity`` and ``unit_price`` in
    our units, and optionally a ``status`` of its own (``IR``, ``IB``...). A line the
    ERP did not book is rejected (IR); a different quantity is IQ, a different price
    IP, both IC; the rest IA. With changes an ``AD`` ack becomes ``AC`` (X12: AD says
    "no change"); with every line rejected it is ``RJ``; ``AK`` carries no lines.
    """
    reported = result.detail.get("lines")
    booked = [line for line in reported if isinstance(line, dict)] if reported else []
    by_number = {str(b["line_number"]): b for b in booked if b.get("line_number")}
    lines: list[AckLine] = []
    for index, line in enumerate(order.lines):
        number = line.line_number or str(index + 1)
        if reported is None:
            erp: dict[str, Any] | None = {}
        elif by_number:
            erp = by_number.get(number)
        else:
            erp = booked[index] if index < len(booked) else None
        lines.append(_ack_line(line, number, erp, partner))
    statuses = {line.status for line in lines}
    if lines and statuses == {"IR"}:
        ack_type = "RJ"
    elif ack_type == "AD" and statuses - {"IA"}:
        ack_type = "AC"
    return PurchaseOrderAck(
        purpose_code="00",
        ack_type=ack_type,
        po_number=order.po_number,
        po_date=order.po_date or today,
        ack_date=today,
        release_number=order.release_number,
        currency=order.currency,
        parties=order.parties,
        lines=() if ack_type == "AK" else tuple(lines),
    )


def _ack_line(
    line: LineItem, number: str, erp: dict[str, Any] | None, partner: PartnerProfile
) -> AckLine:
    ordered = AckLine(
        line_number=number,
        quantity=line.quantity,
        uom=line.uom,
        unit_price=line.unit_price,
        price_basis=line.price_basis,
        product_ids=line.product_ids,
        ack_quantity=line.quantity,
        ack_uom=line.uom,
    )
    if erp is None:
        return ordered.model_copy(update={"status": "IR", "ack_quantity": Decimal(0)})
    if erp.get("quantity") is None:
        return ordered.model_copy(update={"status": erp.get("status") or "IA"})
    ours = line.quantity
    if line.uom is not None:  # the ERP books in our units (the partner's conversions)
        ours, _ = partner.business.convert_uom(line.quantity, line.uom, sku=erp.get("sku"))
    factor = line.quantity / ours if ours else Decimal(1)
    booked_quantity = Decimal(str(erp["quantity"])) * factor
    update: dict[str, Any] = {}
    if booked_quantity != line.quantity:
        update["ack_quantity"] = booked_quantity.normalize()
    if erp.get("unit_price") is not None and line.unit_price is not None:
        price = Decimal(str(erp["unit_price"])) / factor
        if abs(price - line.unit_price) >= Decimal("0.00005"):
            update["unit_price"] = price.quantize(Decimal("0.0001")).normalize()
    changed = {"ack_quantity", "unit_price"} & set(update)
    status = {0: "IA", 2: "IC"}.get(len(changed)) or ("IQ" if "ack_quantity" in changed else "IP")
    update["status"] = erp.get("status") or status
    return ordered.model_copy(update=update)


@dataclass(frozen=True, slots=True)
class OrderAckPlan:
    """The 855 to queue with a delivery, or why none can be (a mapping that fails)."""

    ack: OutboundX12 | None
    problem: str | None = None

    async def write(self, sc: StageContext, unit: Unit, order_doc_id: int) -> None:
        """Queue the 855 in ``unit``, or note the problem on the order's timeline."""
        if self.ack is not None:
            now = sc.clock()
            await self.ack.queue(sc.store, unit, sc.settings, now=now, parent_id=order_doc_id)
        elif self.problem is not None:
            await unit.event(order_doc_id, "error", self.problem)


async def plan_order_ack(
    sc: StageContext, doc: DocumentRecord, order: PurchaseOrder, result: ErpResult
) -> OrderAckPlan | None:
    """The 855 to queue for an order the ERP took, or None.

    None when the partner's profile has no ``x12."855"`` entry or no ISA identity, when
    the ERP has not confirmed the order (draft, quotation), or when an 855 for this set
    was queued before (the ERP answered "already there" after a retry). The 855 is
    rendered once here, without numbers: one that cannot be rendered (a broken partner
    mapping) is reported on the order's timeline and logged, and does not hold up the
    order, which the ERP already has.
    """
    partner = sc.partner(doc.partner_id)
    if partner is None or partner.x12 is None or partner.x12.order_ack is None:
        return None
    if not partner.identity.isa or result.status in UNCONFIRMED:
        return None
    if not result.created:
        earlier = await sc.store.search(
            DocumentQuery(parent_id=doc.id, direction="out", doc_type="855", limit=1)
        )
        if earlier:
            return None
    wanted = partner.x12.order_ack
    ack = build_order_ack(
        order, result, partner=partner, ack_type=wanted.ack_type, today=sc.clock().date()
    )
    try:
        outbound = OutboundX12(
            partner=partner,
            doc_type="855",
            document=ack,
            business_key=order.po_number,
            version=wanted.version,
            expects_ack=wanted.functional_ack != "none",
            mapper=sc.mappings(partner).outbound_for(ack.type),
        )
        outbound.check(sc.settings, sc.clock())
    except GatewayError as exc:
        problem = f"855 for PO {order.po_number} not sent: {exc}; fix the 855 mapping"
        log.error("855 not rendered: %s", exc, extra=log_extra(doc))
        return OrderAckPlan(None, problem)
    return OrderAckPlan(outbound)
