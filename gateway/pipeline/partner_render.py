"""What a partner would receive: :func:`render_for_partner` (``o2c render --partner``).

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from gateway.errors import UsageError
from gateway.model import parse_document
from gateway.pipeline.erp_flow import OutboundX12
from gateway.pipeline.outcomes import business_key
from gateway.pipeline.routing import PartnerMappings
from gateway.x12.control import MemoryControlNumbers

if TYPE_CHECKING:
    from gateway.partners import PartnerRegistry
    from gateway.settings import Settings
    from gateway.x12.writer import WrittenInterchange

OUTBOUND = {"invoice": "810", "purchase_order_ack": "855"}
"""The canonical documents sent to partners as X12, and their sets."""


def render_for_partner(
    data: bytes, partner_id: str, registry: PartnerRegistry, settings: Settings
) -> WrittenInterchange:
    """Canonical JSON rendered as the service would send it to ``partner_id``.

    The partner's ISA ids, GS ids, version, delimiters, usage indicator and outbound
    mapping are used, exactly as for a queued 810 or 855; control numbers start at 1.

    Raises:
        DocumentError: ``data`` is not canonical JSON.
        ConfigError: no such partner, or its outbound mapping does not load.
        UsageError: the document is not sent as X12, or the profile is not set up for it.
    """
    profile = registry.by_id(partner_id)
    document = parse_document(data)
    doc_type = OUTBOUND.get(document.type)
    if doc_type is None:
        raise UsageError(f"a {document.type} is not sent to partners as X12 (only 810 and 855)")
    x12 = profile.x12
    wanted = None
    if x12 is not None:
        wanted = x12.invoice if doc_type == "810" else x12.order_ack
    if wanted is None or not profile.identity.isa:
        raise UsageError(
            f'partner {partner_id} is not set up for {doc_type}: add x12."{doc_type}" and '
            "identity.isa to its profile"
        )
    outbound = OutboundX12(
        partner=profile,
        doc_type=doc_type,
        document=document,
        business_key=business_key(document) or "",
        version=wanted.version,
        expects_ack=wanted.functional_ack != "none",
        mapper=PartnerMappings(registry, settings, partner=partner_id).outbound_for(document.type),
    )
    return outbound.write(settings, MemoryControlNumbers(), dt.datetime.now(dt.UTC))
