"""What a worker does with each claimed document, one function per stage.

========  ==========  ==================================================================
in        received    X12: :func:`gateway.pipeline.inbound_x12.process_interchange`;
                      XML and canonical JSON: :func:`map_structured` (→ ``mapped``)
in        mapped      :func:`deliver`: a purchase order goes to the ERP (→ ``delivered``
                      with the ERP's id); a 997/999 from the partner is recorded and
                      settles our outbound documents it answers; an 820 is applied to
                      the open items (:mod:`gateway.pipeline.cash_flow`); other
                      documents are kept for their consumer
out       queued      :func:`send` on the partner's outbound channel (→ ``sent``)
========  ==========  ==================================================================

A stage raises :class:`~gateway.errors.TransientDeliveryError` to be retried and
:class:`~gateway.errors.PermanentDeliveryError` to be parked; the worker does both.
Bad input ends ``rejected`` inside the stage.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway.errors import DocumentError, MappingError, PermanentDeliveryError, UsageError
from gateway.model import (
    DOCUMENT_ADAPTER,
    FunctionalAck,
    PurchaseOrder,
    Remittance,
    parse_document,
)
from gateway.pipeline.acktracking import ack_errors, describe_ack_errors, set_ack_of
from gateway.pipeline.cash_flow import apply_remittance
from gateway.pipeline.context import Write, log_extra
from gateway.pipeline.inbound_x12 import process_interchange
from gateway.pipeline.order_acks import plan_order_ack
from gateway.pipeline.outcomes import business_key
from gateway.storage import DocumentQuery, State
from gateway.xmldocs import parse_xml

if TYPE_CHECKING:
    from gateway.model import CanonicalDocument
    from gateway.pipeline.context import StageContext
    from gateway.storage import DocumentRecord, Unit

log = logging.getLogger(__name__)

CONSUMERS = {
    "remittance": "cash application",
    "invoice": "accounts payable",
    "purchase_order_ack": "order management",
}
"""Who picks up an inbound document the ERP connector does not take."""


async def prepare(sc: StageContext, doc: DocumentRecord) -> Write | None:
    """Do the work ``doc``'s direction and state call for; return its writes.

    Processing an X12 file, delivery and sending return their writes, so that a
    worker can commit a whole batch of them in one transaction; the other stages
    (and refusals) commit on their own and return None.
    """
    if doc.direction == "in" and doc.state == State.RECEIVED:
        if doc.format == "x12":
            return await process_interchange(sc, doc)
        if doc.format in ("xml", "json"):
            await map_structured(sc, doc)
        else:
            await reject(
                sc,
                doc,
                "not X12 (ISA...), XML (<...) or canonical JSON ({...}): "
                "the gateway does not know what this file is",
            )
        return None
    if doc.direction == "in" and doc.state == State.MAPPED:
        return await deliver(sc, doc)
    if doc.direction == "out" and doc.state == State.QUEUED:
        return await send(sc, doc)
    raise PermanentDeliveryError(f"no stage for a {doc.direction} document in {doc.state}")


async def run_stage(sc: StageContext, doc: DocumentRecord) -> None:
    """Run ``doc``'s stage and commit its writes."""
    write = await prepare(sc, doc)
    if write is not None:
        async with sc.unit(doc) as unit:
            await write(unit)


async def reject(sc: StageContext, doc: DocumentRecord, message: str) -> None:
    """End ``doc`` as ``rejected`` (bad input) with ``message``."""
    async with sc.unit(doc) as unit:
        await unit.set_state(doc.id, State.REJECTED, message, error=message)
    log.warning("document rejected: %s", message, extra=log_extra(doc))


# -- XML and canonical JSON --------------------------------------------------------------------
async def map_structured(sc: StageContext, doc: DocumentRecord) -> None:
    """Map a received cXML, partner XML or canonical JSON document (→ ``mapped``).

    The receiver named the partner (the channel's, a cXML ``From`` credential, or a
    JSON envelope's sender); a document without one is rejected.
    """
    data = await sc.store.get_payload(doc.payload_sha256)
    partner = sc.partner(doc.partner_id)
    try:
        if doc.format == "json":
            document = parse_document(data)
        elif partner is None:
            parse_xml(data, max_bytes=sc.settings.max_document_bytes)  # says why, if not XML
            raise UsageError(
                "an XML document names no partner: send it on a partner's channel "
                "(its API key or folder), or as cXML with a From credential a profile names"
            )
        else:
            document = await asyncio.to_thread(sc.mappings(partner).translate_xml, data)
    except (DocumentError, MappingError, UsageError) as exc:
        await reject(sc, doc, f"cannot map the {doc.format.upper()} document: {exc}")
        return
    if partner is None:
        await reject(
            sc,
            doc,
            "a JSON document names no partner: send it with a partner's API key, or with "
            "an envelope whose sender a profile names",
        )
        return
    key = business_key(document)
    async with sc.unit(doc) as unit:
        await unit.set_canonical(doc.id, document.model_dump(mode="json"), key)
        await unit.set_state(
            doc.id,
            State.MAPPED,
            f"mapped to {document.type}" + (f" {key}" if key else ""),
            detail={"type": document.type, "business_key": key},
            reset_attempts=True,
        )


# -- delivery to the ERP and other consumers ---------------------------------------------------
async def deliver(sc: StageContext, doc: DocumentRecord) -> Write | None:
    """Hand a mapped document to its consumer; the writes make it ``delivered``.

    A remittance is applied to the open items in a unit of its own
    (:func:`gateway.pipeline.cash_flow.apply_remittance`), which makes it ``delivered``.
    """
    document = _canonical(doc)
    if isinstance(document, Remittance):
        await apply_remittance(sc, doc, document)
        return None
    if isinstance(document, PurchaseOrder):
        if doc.partner_id is None:
            raise PermanentDeliveryError("an order without a partner cannot go to the ERP")
        result = await sc.erp.push_order(document, partner_id=doc.partner_id)
        how = "created" if result.created else "already there, not created again"
        message = (
            f"delivered to ERP {sc.erp.name}: order {result.erp_order_id} ({how}), "
            f"status {result.status}"
        )
        detail: dict[str, Any] = {
            "erp": sc.erp.name,
            "erp_order_id": result.erp_order_id,
            "created": result.created,
            "status": result.status,
        }
        log.info("order delivered", extra=log_extra(doc, erp_order_id=result.erp_order_id))
        order_ack = await plan_order_ack(sc, doc, document, result)

        async def delivered(unit: Unit) -> None:
            await unit.event(doc.id, "delivery", message, detail)
            await unit.set_state(doc.id, State.DELIVERED, message, detail=detail)
            if order_ack is not None:  # the 855 commits with the delivery, or neither does
                await order_ack.write(sc, unit, doc.id)

        return delivered
    if isinstance(document, FunctionalAck):
        return await _record_ack(sc, doc, document)
    consumer = CONSUMERS.get(document.type, "its consumer")

    async def kept(unit: Unit) -> None:
        await unit.set_state(doc.id, State.DELIVERED, f"kept for {consumer}")

    return kept


def _canonical(doc: DocumentRecord) -> CanonicalDocument:
    if doc.canonical is None:
        raise PermanentDeliveryError(f"document #{doc.id} is mapped but has no canonical data")
    try:
        return DOCUMENT_ADAPTER.validate_python(doc.canonical)
    except ValidationError as exc:
        raise PermanentDeliveryError(
            f"document #{doc.id}: stored canonical data is not valid ({exc.error_count()} "
            "problems); reprocess its file"
        ) from exc


async def _record_ack(sc: StageContext, doc: DocumentRecord, ack: FunctionalAck) -> Write:
    """Record a 997/999 from the partner and settle the outbound documents it answers."""
    found = await sc.store.search(
        DocumentQuery(
            partner_id=doc.partner_id,
            direction="out",
            control_number=ack.group_control,
            limit=1000,
        )
    )
    answered = [
        d
        for d in found
        if d.controls.group_control == ack.group_control
        and d.doc_type not in ("997", "999", "TA1")
        and d.state in (State.QUEUED, State.SENT, State.OVERDUE)
    ]
    statuses: dict[tuple[str, str], str] = {
        (s.transaction_set, s.control): s.status for s in ack.sets
    }
    message = (
        f"ack received: {ack.ack_type} for group {ack.functional_id} {ack.group_control} "
        f"({ack.group_status}: {ack.sets_accepted} of {ack.sets_received} sets accepted)"
    )
    if answered:
        message += "; settles " + ", ".join(f"#{d.id}" for d in answered)

    async def recorded(unit: Unit) -> None:
        for out in answered:
            await _settle(unit, doc, ack, out, statuses)
        await unit.event(doc.id, "ack", message, {"group_control": ack.group_control})
        await unit.set_state(doc.id, State.DELIVERED, message)

    return recorded


async def _settle(
    unit: Unit,
    doc: DocumentRecord,
    ack: FunctionalAck,
    out: DocumentRecord,
    statuses: dict[tuple[str, str], str],
) -> None:
    status = statuses.get((out.doc_type, out.controls.transaction_control or ""))
    status = status or ack.group_status
    state = State.ACCEPTED if status in ("A", "E", "P") else State.REJECTED
    set_ack = set_ack_of(ack, out.doc_type, out.controls.transaction_control)
    codes = describe_ack_errors(ack, set_ack)
    message = f"{ack.ack_type} from the partner (document #{doc.id}) says {status}"
    await unit.set_state(
        out.id,
        state,
        message + (f": {codes}" if codes and status != "A" else ""),
        detail={"ack_id": doc.id, "status": status, **ack_errors(ack, set_ack)},
        error=(codes or status) if state == State.REJECTED else None,
    )


# -- sending -----------------------------------------------------------------------------------
def outbound_filename(doc: DocumentRecord) -> str:
    """``<partner>-<doc_type>-<id>-<ISA13 or id>.<x12|xml|json>`` (the shared convention)."""
    ext = doc.format if doc.format in ("x12", "xml", "json") else "dat"
    control = doc.controls.interchange_control or str(doc.id)
    return f"{doc.partner_id or 'unknown'}-{doc.doc_type}-{doc.id}-{control}.{ext}"


async def send(sc: StageContext, doc: DocumentRecord) -> Write:
    """Send a queued outbound document on its partner's channel; the writes make it ``sent``."""
    partner = sc.partner(doc.partner_id)
    if partner is None:
        raise PermanentDeliveryError(f"no partner profile {doc.partner_id!r} to send to")
    channel = partner.channels.outbound
    if channel is None:
        raise PermanentDeliveryError(
            f"partner {partner.id} has no outbound channel: add channels.outbound to its "
            "profile, then reprocess this document"
        )
    transport = sc.transports.get(channel.kind)
    if transport is None:
        known = ", ".join(sorted(sc.transports)) or "none"
        raise PermanentDeliveryError(
            f"no transport for {channel.kind} channels is installed (installed: {known})"
        )
    data = await sc.store.get_payload(doc.payload_sha256)
    filename = outbound_filename(doc)
    reference = await transport.send(partner, channel, filename, data)
    message = f"sent over {channel.kind} as {filename}: {reference}"
    detail = {"channel": channel.kind, "filename": filename, "reference": reference}
    log.info("document sent", extra=log_extra(doc, channel=channel.kind))

    async def sent(unit: Unit) -> None:
        await unit.event(doc.id, "delivery", message, detail)
        await unit.set_state(doc.id, State.SENT, message, detail=detail)

    return sent
