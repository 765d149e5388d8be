"""The small interfaces adapters implement, and how the core finds them.

The core never imports an adapter by name: adapters are discovered through the
``o2c.adapters`` entry-point group (``pyproject.toml``). Each entry point names a
callable ``register(registry: AdapterRegistry) -> None`` that adds what the module
offers: outbound transports per channel kind, long-running services (the SFTP
server, pollers, folder watchers), HTTP routes, ERP connectors.

Imports only the standard library and core modules below the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aiohttp import web

from gateway.storage.records import Principal

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from decimal import Decimal

    from gateway.channels import Channel
    from gateway.model import Invoice, PurchaseOrder
    from gateway.partners import PartnerProfile, PartnerRegistry
    from gateway.settings import Settings
    from gateway.storage import DocumentRecord, Store

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "o2c.adapters"

PRINCIPAL = web.RequestKey("principal", Principal)
"""Who made an HTTP request: set by the app's auth middleware on every authenticated
route, so that adapters' routes read the caller without checking the key again."""


class Receiver(Protocol):
    """The one way into the gateway for inbound bytes (the pipeline implements it).

    Stores the payload durably and records the document as ``received`` before it
    returns; only then may a channel acknowledge the file to its sender. Raises
    ``DocumentTooLargeError`` over the size limit (nothing stored).
    """

    async def __call__(
        self,
        data: bytes,
        *,
        partner_id: str | None,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> DocumentRecord:
        """Store ``data`` for ``partner_id`` as received on ``channel``; see the class."""
        ...


class Alerts(Protocol):
    """Where alerts go (the pipeline's HMAC-signed webhook); never raises."""

    async def notify(self, event: str, doc: DocumentRecord, message: str) -> bool:
        """Post one alert (``failed``, ``duplicate``, ``overdue``...) about ``doc``."""
        ...


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """What adapters get: settings, storage, partner profiles, the receiver and alerts."""

    settings: Settings
    store: Store
    partners: PartnerRegistry
    receive: Receiver
    alerts: Alerts | None = None


@dataclass(frozen=True, slots=True)
class ErpResult:
    """The ERP's answer to an order: its own id, its status, and whether it was new."""

    erp_order_id: str
    status: str
    created: bool
    """False when the order already existed (a retry or a reprocessed document)."""
    detail: dict[str, Any] = field(default_factory=dict)


class ErpConnector(Protocol):
    """An ERP the gateway delivers canonical orders to.

    ``push_order`` is idempotent on ``(partner_id, order.po_number)``: a retry or a
    reprocessed document never makes a second order. It raises
    ``TransientDeliveryError`` (retry later) or ``PermanentDeliveryError`` (park
    for a person, with the ERP's message).
    """

    name: str

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """Create the order in the ERP once; see the class docstring for the errors."""
        ...

    async def health(self) -> bool:
        """True when the ERP answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class PostedInvoiceRecord(Protocol):
    """One invoice the ERP has posted: whose it is, the ERP's id, the canonical invoice."""

    @property
    def partner_id(self) -> str | None:
        """The gateway partner the invoice's customer is (None: not a trading partner)."""
        ...

    @property
    def erp_invoice_id(self) -> str:
        """The ERP's own id of the invoice."""
        ...

    @property
    def invoice(self) -> Invoice:
        """The invoice as a canonical model."""
        ...


@runtime_checkable
class InvoiceSource(Protocol):
    """An ERP connector that can list the invoices it posted (optional for connectors).

    The gateway polls it and sends each invoice to its partner as an 810 exactly once:
    the cursor is stored with the 810s of the page it ends, in one transaction.
    """

    async def invoices_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[Sequence[PostedInvoiceRecord], str]:
        """Invoices posted after ``cursor`` (None: from the start) and the next cursor.

        Oldest first. Raises ``TransientDeliveryError`` when the ERP cannot be reached.
        """
        ...


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One cash application (or its reversal) for the ERP's receivables.

    ``key`` makes the push idempotent: ``o2c-application-<id>`` for the application and
    ``o2c-application-<id>-reversal`` for its reversal, whose ``amount`` is negative.
    ``kind`` is ``payment``, ``discount``, ``deduction``, ``write_off`` or ``on_account``
    (no invoice then).
    """

    key: str
    partner_id: str
    invoice_number: str | None
    erp_invoice_id: str | None
    kind: str
    amount: Decimal
    effective_date: dt.date
    trace_number: str | None = None
    reason_code: str | None = None


@runtime_checkable
class PaymentSink(Protocol):
    """An ERP connector that records payments against invoices (optional for connectors)."""

    async def record_payment(self, payment: PaymentRecord) -> str:
        """Record ``payment`` once per ``payment.key``; return the ERP's reference.

        Recording a key again answers the first reference and changes nothing. Raises
        ``TransientDeliveryError`` (try again later) or ``PermanentDeliveryError`` (the
        ERP refuses it; a person must look).
        """
        ...


class Transport(Protocol):
    """Sends one outbound file to a partner over one channel kind.

    Raises ``TransientDeliveryError`` or ``PermanentDeliveryError``; returns a short
    reference for the timeline (a remote path, an HTTP status, a message id).
    """

    async def send(
        self, partner: PartnerProfile, channel: Channel, filename: str, data: bytes
    ) -> str:
        """Deliver ``data`` as ``filename``; return a reference for the timeline."""
        ...


class Service(Protocol):
    """A long-running adapter component (an SFTP server, a poller, a folder watcher)."""

    async def start(self) -> None:
        """Start serving; return once listening (or polling)."""
        ...

    async def stop(self) -> None:
        """Stop taking work and close connections."""
        ...


@dataclass(frozen=True, slots=True)
class CertificateExpiry:
    """A certificate a partner agreement uses, and how many days it has left."""

    partner_id: str
    direction: str
    owner: str
    """``partner`` (theirs) or ``ours``."""
    days_left: int
    description: str
    """One line for people: which certificate, where it is, when it expires."""


CertificateSource = Callable[["PartnerRegistry", "Settings", int], "list[CertificateExpiry]"]
"""``source(partners, settings, within_days)``: certificates expiring within that many days."""
EXPIRY_WARNING_DAYS = 30
"""Certificates expiring sooner than this are problems in ``o2c partners check``."""

RouteInstaller = Callable[[Any, GatewayContext], None]
"""``install(app, ctx)``: adds routes to the aiohttp application."""
ServiceFactory = Callable[[GatewayContext], Service | None]
"""Builds a service for a process role, or None when nothing is configured for it."""
ErpFactory = Callable[[GatewayContext, dict[str, Any]], Awaitable[ErpConnector]]
"""Builds a connector from its settings block (``erp:`` in the settings file)."""


@dataclass
class AdapterRegistry:
    """What the installed adapters offer, filled by their ``register`` functions."""

    transports: dict[str, Callable[[GatewayContext], Transport]] = field(default_factory=dict)
    services: dict[str, tuple[str, ServiceFactory]] = field(default_factory=dict)
    routes: list[RouteInstaller] = field(default_factory=list)
    erps: dict[str, ErpFactory] = field(default_factory=dict)
    certificates: list[CertificateSource] = field(default_factory=list)

    def add_transport(self, kind: str, factory: Callable[[GatewayContext], Transport]) -> None:
        """Serve outbound channels of ``kind`` (``folder``, ``sftp_hosted``, ``http``...)."""
        self.transports[kind] = factory

    def add_service(self, name: str, role: str, factory: ServiceFactory) -> None:
        """Run ``factory(ctx)`` in processes of ``role`` (``sftp``, ``worker``, ``api``)."""
        self.services[name] = (role, factory)

    def add_routes(self, install: RouteInstaller) -> None:
        """Add HTTP routes to the app of the ``api`` role."""
        self.routes.append(install)

    def add_certificates(self, source: CertificateSource) -> None:
        """Report the certificates partner agreements use (checks and ``/metrics``)."""
        self.certificates.append(source)

    def expiring(
        self, partners: PartnerRegistry, settings: Settings, within_days: int
    ) -> list[CertificateExpiry]:
        """Every source's certificates that expire within ``within_days``."""
        return [c for source in self.certificates for c in source(partners, settings, within_days)]

    def add_erp(self, name: str, factory: ErpFactory) -> None:
        """Offer an ERP connector under ``name`` (``memory``, ``folder``, ``tryton``...)."""
        self.erps[name] = factory


def load_adapters() -> AdapterRegistry:
    """Call every installed ``o2c.adapters`` entry point's ``register`` on one registry."""
    registry = AdapterRegistry()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        register = ep.load()
        register(registry)
        log.debug("adapter %s registered", ep.name)
    return registry
