"""What every pipeline stage works with: :class:`StageContext`.

The worker builds one per worker; stages take it instead of a long argument list.
Partner mappings are compiled once per partner and kept here.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.pipeline.routing import PartnerMappings

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractAsyncContextManager

    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.ports import ErpConnector, Transport
    from gateway.settings import Settings
    from gateway.storage import DocumentRecord, Store, Unit


Write = Callable[["Unit"], Awaitable[None]]
"""The storage writes that finish a stage, run inside a unit the caller opens."""


def utc_now() -> dt.datetime:
    """The current time in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class StageContext:
    """Storage, settings, partners and the peers (ERP, transports, alerts) of one worker."""

    store: Store
    settings: Settings
    partners: PartnerRegistry
    erp: ErpConnector
    transports: Mapping[str, Transport]
    alerts: WebhookAlerts | None = None
    clock: Callable[[], dt.datetime] = utc_now
    owner: str | None = None
    """The worker's name: units it opens only change documents it still has claimed."""
    _mappings: dict[str, PartnerMappings] = field(default_factory=dict)

    def mappings(self, partner: PartnerProfile) -> PartnerMappings:
        """The partner's mappings (compiled on first use, then kept)."""
        found = self._mappings.get(partner.id)
        if found is None:
            found = PartnerMappings(self.partners, self.settings, partner=partner.id)
            self._mappings[partner.id] = found
        return found

    def unit(self, *claimed: DocumentRecord) -> AbstractAsyncContextManager[Unit]:
        """A storage unit fenced by this worker's claims on ``claimed`` (see ``Store.unit``)."""
        return self.store.unit(owner=self.owner, fence=[d.id for d in claimed])

    def partner(self, partner_id: str | None) -> PartnerProfile | None:
        """The profile with this id, or None (no id, or no such profile any more)."""
        if partner_id is None or partner_id not in self.partners:
            return None
        return self.partners.by_id(partner_id)

    async def alert(self, event: str, doc: DocumentRecord, message: str) -> None:
        """Post an alert when a webhook is set up; never raises."""
        if self.alerts is not None:
            await self.alerts.notify(event, doc, message)


def log_extra(doc: DocumentRecord, **more: Any) -> dict[str, Any]:
    """The structured log fields of a document (never its payload)."""
    return {
        "partner_id": doc.partner_id,
        "document_id": doc.id,
        "doc_type": doc.doc_type,
        **more,
    }
