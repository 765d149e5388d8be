"""What flows back from the ERP: posted invoices out as 810s, confirmed orders as 855s.

:class:`InvoicePoller` asks an ERP connector that lists posted invoices
(:class:`~gateway.ports.InvoiceSource`) for the invoices posted since the stored cursor
(table ``erp_cursors``), every ``Settings.invoice_poll_seconds``. For each invoice of a
partner it renders an 810 with the partner's outbound mapping, numbered from the
persistent counters, queues it for the partner's channel (the worker sends it, with
retries) with the deadline of the partner's 997/999, and records the open item for cash
application (amount, due date, discount terms, PO number). The 810s, open items and the
advanced cursor of one page commit in one transaction: a crash before the commit sends
nothing and the page is fetched again; after it, nothing is sent twice. The unique
``(partner_id, invoice_number)`` of ``open_items`` keeps two pollers from both sending.

Terms: the ERP's due date is kept; discount terms the ERP does not carry come from the
partner's ``business.payment_terms`` (the terms agreed with the partner), and discount
and net due dates are computed from the invoice date where missing (ITD04/ITD06).

:class:`OutboundX12` numbers, renders and queues one outbound document inside a unit;
the 855 (:mod:`gateway.pipeline.order_acks`) is queued the same way.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.background import Periodic
from gateway.errors import GatewayError
from gateway.pipeline.acktracking import OverdueMonitor
from gateway.pipeline.context import utc_now
from gateway.pipeline.outbound import render
from gateway.pipeline.payments import PaymentPusher
from gateway.pipeline.process import reply_delimiters
from gateway.pipeline.routing import PartnerMappings
from gateway.ports import InvoiceSource
from gateway.storage import Controls, OpenItem, State
from gateway.x12.control import MemoryControlNumbers

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.mapping import OutboundMapper
    from gateway.model import CanonicalDocument, Invoice, Terms
    from gateway.partners import PartnerProfile
    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.ports import ErpConnector, GatewayContext, PostedInvoiceRecord
    from gateway.settings import Settings
    from gateway.storage import Store, Unit
    from gateway.x12.control import ControlKind
    from gateway.x12.writer import WrittenInterchange

log = logging.getLogger(__name__)

_CENT = Decimal("0.01")


# -- outbound X12 documents ----------------------------------------------------------------
class _Tally:
    """A control-number source for a dry run: counts what each counter hands out."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ControlKind], int] = {}

    def next(self, scope: str, kind: ControlKind) -> int:
        n = self.counts.get((scope, kind), 0) + 1
        self.counts[scope, kind] = n
        return n


@dataclasses.dataclass(frozen=True, slots=True)
class OutboundX12:
    """One canonical document to send a partner as X12 (an 810 or an 855)."""

    partner: PartnerProfile
    doc_type: str
    document: CanonicalDocument
    business_key: str
    version: str
    expects_ack: bool
    mapper: OutboundMapper | None = None
    """The partner's outbound mapping (``PartnerMappings.outbound_for``); None: the base one."""

    def envelope(self, settings: Settings) -> tuple[tuple[str, str], tuple[str, str]]:
        """Our ISA qualifier and id, and the partner's first ISA identity."""
        theirs = self.partner.identity.isa[0]
        return (settings.our_isa_qualifier, settings.our_isa_id), (theirs.qualifier, theirs.id)

    def write(
        self, settings: Settings, numbers: MemoryControlNumbers | _Tally, now: dt.datetime
    ) -> WrittenInterchange:
        """Render with the partner's outbound mapping, delimiters and ISA15."""
        sender, receiver = self.envelope(settings)
        delimiters = reply_delimiters(self.partner)
        if delimiters is not None and self.version < "005010":
            delimiters = dataclasses.replace(delimiters, repetition=None)  # ISA11 is U
        return render(
            self.document,
            sender=sender,
            receiver=receiver,
            control_numbers=numbers,
            now=now,
            version=self.version,
            delimiters=delimiters,
            usage_indicator=self.partner.identity.usage.outbound,
            mapper=self.mapper,
            mappings_dir=settings.mappings_dir,
            application_ids=(settings.our_gs_id, self.gs_receiver),
        )

    @property
    def gs_receiver(self) -> str:
        """The partner's GS03: its first GS application code, else its ISA id."""
        identity = self.partner.identity
        return identity.gs_ids[0] if identity.gs_ids else identity.isa[0].id

    def check(self, settings: Settings, now: dt.datetime) -> None:
        """Render once without reserving numbers: raises what :meth:`queue` would."""
        self.write(settings, _Tally(), now)

    async def queue(
        self,
        store: Store,
        unit: Unit,
        settings: Settings,
        *,
        now: dt.datetime,
        parent_id: int | None,
    ) -> int:
        """Number, render and queue it inside ``unit``; returns the new document's id.

        The control numbers are reserved in ``unit``: a unit that rolls back hands them
        out again, so nothing is ever sent with a number another document has.
        """
        tally = _Tally()
        self.write(settings, tally, now)
        start: dict[tuple[str, ControlKind], int] = {}
        for (scope, kind), count in sorted(tally.counts.items()):
            start[scope, kind] = await unit.next_controls(scope, kind, count) - 1
        written = self.write(settings, MemoryControlNumbers(start), now)
        sender, receiver = self.envelope(settings)
        sha = await store.put_payload(written.data)
        channel = self.partner.channels.outbound
        doc_id = await unit.add_document(
            direction="out",
            partner_id=self.partner.id,
            channel=channel.kind if channel is not None else None,
            doc_type=self.doc_type,
            format="x12",
            state=State.QUEUED,
            payload_sha256=sha,
            size=len(written.data),
            message=f"{self.doc_type} {self.business_key} queued (ISA13 "
            f"{written.interchange_control}, GS06 {written.group_controls[0]})",
            parent_id=parent_id,
            controls=Controls(
                sender_id=sender[1],
                receiver_id=receiver[1],
                interchange_control=written.interchange_control,
                group_control=written.group_controls[0],
                transaction_control=written.set_controls[0][0],
            ),
            business_key=self.business_key,
            canonical=self.document.model_dump(mode="json"),
        )
        if self.expects_ack:
            x12 = self.partner.x12
            hours = x12.ack_deadline_hours if x12 is not None else 24.0
            await store.set_ack_due(doc_id, now + dt.timedelta(hours=hours))
        return doc_id


# -- invoices ------------------------------------------------------------------------------
def effective_terms(invoice: Invoice, partner: PartnerProfile) -> Terms | None:
    """The invoice's terms, completed from the partner's agreed terms (see the module)."""
    erp, agreed = invoice.terms, partner.business.payment_terms
    if erp is None or agreed is None:
        terms = erp or agreed
    elif erp.discount_percent is None and agreed.discount_percent is not None:
        keep = ("net_due_date", "net_days")  # the ERP's due date wins
        terms = agreed.model_copy(update={k: getattr(erp, k) for k in keep if getattr(erp, k)})
    else:
        terms = erp.model_copy(
            update={k: v for k, v in agreed.model_dump().items() if getattr(erp, k) is None}
        )
    if terms is None:
        return None
    start = invoice.invoice_date
    update: dict[str, Any] = {}
    if terms.discount_days is not None and terms.discount_due_date is None:
        update["discount_due_date"] = start + dt.timedelta(days=terms.discount_days)
    if terms.net_days is not None and terms.net_due_date is None:
        update["net_due_date"] = start + dt.timedelta(days=terms.net_days)
    return terms.model_copy(update=update)


def open_item_of(invoice: Invoice, partner: PartnerProfile, erp_invoice_id: str) -> OpenItem:
    """The open item an invoice leaves (``document_id`` is filled in by the poller)."""
    terms = invoice.terms
    due = (terms.net_due_date if terms is not None else None) or invoice.invoice_date
    amount = invoice.total_amount.quantize(_CENT)
    return OpenItem(
        partner_id=partner.id,
        invoice_number=invoice.invoice_number,
        po_number=invoice.po_number,
        invoice_date=invoice.invoice_date,
        due_date=due,
        amount=amount,
        open_amount=amount,
        currency=invoice.currency or partner.business.currency,
        discount_percent=terms.discount_percent if terms is not None else None,
        discount_days=terms.discount_days if terms is not None else None,
        erp_invoice_id=erp_invoice_id,
    )


class InvoicePoller(Periodic):
    """Sends each posted invoice once as an 810; a :class:`~gateway.ports.Service`.

    Args:
        ctx: settings, storage and partners.
        source: the ERP connector's invoice listing.
        erp_name: names the stored cursor (``invoices:<erp_name>``).
        alerts: where invoices that cannot be rendered are reported.
        clock: the current time (aware).
    """

    task_name = "invoice-poller"

    def __init__(
        self,
        ctx: GatewayContext,
        source: InvoiceSource,
        *,
        erp_name: str,
        alerts: WebhookAlerts | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.ctx = ctx
        self.source = source
        self.cursor_name = f"invoices:{erp_name}"
        self.alerts = alerts
        self.clock = clock
        super().__init__()
        self.retry_seconds = ctx.settings.invoice_poll_seconds
        self._mappings: dict[str, PartnerMappings] = {}
        self.sent = 0

    def _mapper(self, partner: PartnerProfile, document_type: str) -> OutboundMapper | None:
        mappings = self._mappings.get(partner.id)
        if mappings is None:
            mappings = PartnerMappings(self.ctx.partners, self.ctx.settings, partner=partner.id)
            self._mappings[partner.id] = mappings
        return mappings.outbound_for(document_type)

    async def round(self) -> float:
        """Send what was posted since the cursor; the next round in ``invoice_poll_seconds``."""
        await self.poll_once()
        return self.ctx.settings.invoice_poll_seconds

    async def poll_once(self) -> int:
        """Fetch and send every invoice posted since the cursor; return how many."""
        total = 0
        while True:
            handled, more = await self._page()
            total += handled
            if not more:
                return total

    async def _page(self) -> tuple[int, bool]:
        store, page = self.ctx.store, self.ctx.settings.invoice_page_size
        cursor = await store.get_cursor(self.cursor_name)
        records, next_cursor = await self.source.invoices_since(cursor, limit=page)
        if not records and next_cursor == (cursor or next_cursor):
            return 0, False
        now = self.clock()
        failed: list[tuple[int, str]] = []
        async with store.unit() as unit:
            if await store.get_cursor(self.cursor_name, for_update=True) != cursor:
                log.info("another poller sent this page", extra={"cursor": self.cursor_name})
                return 0, False
            for record in records:
                await self._emit(unit, record, now, failed)
            await store.set_cursor(self.cursor_name, next_cursor)
        for doc_id, message in failed:
            doc = await store.get(doc_id)
            if doc is not None and self.alerts is not None:
                await self.alerts.notify("failed", doc, message)
        return len(records), len(records) >= page

    async def _emit(
        self, unit: Unit, record: PostedInvoiceRecord, now: dt.datetime, failed: list[Any]
    ) -> None:
        store, invoice = self.ctx.store, record.invoice
        extra = {"partner_id": record.partner_id, "invoice": invoice.invoice_number}
        if record.partner_id is None or record.partner_id not in self.ctx.partners:
            log.info("invoice of a customer who is no trading partner: not sent", extra=extra)
            return
        partner = self.ctx.partners.by_id(record.partner_id)
        if await store.open_item(partner.id, invoice.invoice_number) is not None:
            log.warning("invoice already sent: not sent again", extra=extra)
            return
        invoice = invoice.model_copy(update={"terms": effective_terms(invoice, partner)})
        doc_id = None
        x12 = partner.x12
        if x12 is not None and x12.invoice is not None and partner.identity.isa:
            doc_id = await self._queue_810(unit, partner, invoice, now, failed)
        item = open_item_of(invoice, partner, record.erp_invoice_id)
        await store.add_open_item(dataclasses.replace(item, document_id=doc_id))
        self.sent += 1
        log.info("invoice queued as 810", extra={**extra, "document_id": doc_id})

    async def _queue_810(
        self,
        unit: Unit,
        partner: PartnerProfile,
        invoice: Invoice,
        now: dt.datetime,
        failed: list[tuple[int, str]],
    ) -> int:
        assert partner.x12 is not None and partner.x12.invoice is not None
        outbound = OutboundX12(
            partner=partner,
            doc_type="810",
            document=invoice,
            business_key=invoice.invoice_number,
            version=partner.x12.invoice.version,
            expects_ack=partner.x12.invoice.functional_ack != "none",
        )
        try:
            outbound = dataclasses.replace(outbound, mapper=self._mapper(partner, "invoice"))
            return await outbound.queue(
                self.ctx.store, unit, self.ctx.settings, now=now, parent_id=None
            )
        except GatewayError as exc:
            message = f"810 for invoice {invoice.invoice_number} not rendered: {exc}"
            data = invoice.model_dump_json().encode("utf-8")
            doc_id = await unit.add_document(
                direction="out",
                partner_id=partner.id,
                channel=None,
                doc_type="810",
                format="json",
                state=State.FAILED,
                payload_sha256=await self.ctx.store.put_payload(data),
                size=len(data),
                message=f"parked for a person: {message}",
                business_key=invoice.invoice_number,
                canonical=invoice.model_dump(mode="json"),
                detail={"error": str(exc)},
            )
            failed.append((doc_id, message))
            return doc_id


def erp_services(
    ctx: GatewayContext, erp: ErpConnector, alerts: WebhookAlerts | None
) -> dict[str, InvoicePoller | OverdueMonitor | PaymentPusher]:
    """The background services of a worker process.

    The overdue-ack check and the payment pusher (cash applications to the ERP, marked
    ``unsupported`` when the connector takes no payments) always; the invoice poller when
    the connector lists posted invoices (:class:`~gateway.ports.InvoiceSource`).
    """
    services: dict[str, InvoicePoller | OverdueMonitor | PaymentPusher] = {
        "ack_overdue": OverdueMonitor(
            ctx.store, interval=ctx.settings.ack_check_seconds, alerts=alerts
        ),
        "payment_pusher": PaymentPusher(ctx.store, erp, interval=ctx.settings.payment_push_seconds),
    }
    if isinstance(erp, InvoiceSource):
        services["invoice_poller"] = InvoicePoller(ctx, erp, erp_name=erp.name, alerts=alerts)
    return services
