"""Render canonical documents (Invoice, PurchaseOrderAck) as outbound X12 interchanges.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.errors import UsageError
from gateway.mapping import outbound_mapper
from gateway.model import parse_document
from gateway.x12.reader import Delimiters
from gateway.x12.writer import OutboundGroup, TransactionBody, WrittenInterchange, write_interchange

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from gateway.mapping import OutboundMapper
    from gateway.model import CanonicalDocument
    from gateway.x12.control import ControlNumbers

# What the writer uses when neither a partner profile nor the caller names delimiters.
DEFAULT_DELIMITERS = Delimiters(
    element="*", component=">", repetition="^", segment="~", suffix="\n"
)
ISA_VERSIONS = {"004010": "00401", "005010": "00501"}


def render_document(
    data: bytes | str,
    *,
    sender: tuple[str, str] | None,
    receiver: tuple[str, str] | None,
    control_numbers: ControlNumbers,
    now: dt.datetime,
    version: str | None = None,
    delimiters: Delimiters | None = None,
    usage_indicator: str = "P",
    mapper: OutboundMapper | None = None,
    mappings_dir: Path | None = None,
) -> WrittenInterchange:
    """Parse canonical JSON and write it as one X12 interchange.

    Sender and receiver default to the document's envelope block swapped: that
    block describes the interchange the partner sent us, so we answer from its
    receiver to its sender.
    """
    document = parse_document(data)
    return render(
        document,
        sender=sender,
        receiver=receiver,
        control_numbers=control_numbers,
        now=now,
        version=version,
        delimiters=delimiters,
        usage_indicator=usage_indicator,
        mapper=mapper,
        mappings_dir=mappings_dir,
    )


def render(
    document: CanonicalDocument,
    *,
    sender: tuple[str, str] | None,
    receiver: tuple[str, str] | None,
    control_numbers: ControlNumbers,
    now: dt.datetime,
    version: str | None = None,
    delimiters: Delimiters | None = None,
    usage_indicator: str = "P",
    mapper: OutboundMapper | None = None,
    mappings_dir: Path | None = None,
    application_ids: tuple[str, str] | None = None,
) -> WrittenInterchange:
    """Write one canonical document as an X12 interchange.

    ``application_ids`` are GS02 and GS03 (our GS id, the partner's GS code) when they
    differ from the ISA ids, which they default to.

    ``mapper`` is a partner's outbound mapping (``PartnerMappings.outbound_for``); by
    default the base mapping ``x12/<set>/out-<version>.yaml`` under ``mappings_dir``
    (``Settings``' default when None) writes the body.
    """
    mapper = mapper or outbound_mapper(document.type, mappings_dir=mappings_dir)
    if mapper is None:
        raise UsageError(
            f"a {document.type} cannot be rendered to X12: only invoice (810) and "
            "purchase_order_ack (855) are outbound documents"
        )
    env = document.envelope
    if env is not None:
        sender = sender or (env.receiver_qualifier, env.receiver_id)
        receiver = receiver or (env.sender_qualifier, env.sender_id)
    if sender is None or receiver is None:
        raise UsageError(
            "no envelope identities: give --sender and --receiver (QUALIFIER:ID), "
            "a --partner, or an envelope block in the document"
        )
    gs_version = (version or (env.version[:6] if env is not None and env.version else "004010"))[:6]
    if gs_version not in ISA_VERSIONS:
        raise UsageError(f"cannot write version {gs_version!r}: use 004010 or 005010")
    body = mapper(document, version=gs_version)
    gs_sender, gs_receiver = application_ids or (sender[1], receiver[1])
    group = OutboundGroup(
        functional_id=body.functional_id,
        sender=gs_sender,
        receiver=gs_receiver,
        version=gs_version,
        sets=[TransactionBody(body.transaction_set, body.segments)],
    )
    return write_interchange(
        [group],
        sender=sender,
        receiver=receiver,
        delimiters=delimiters or DEFAULT_DELIMITERS,
        control_numbers=control_numbers,
        now=now,
        usage_indicator="T" if usage_indicator == "T" else "P",
        version=ISA_VERSIONS[gs_version],
    )
