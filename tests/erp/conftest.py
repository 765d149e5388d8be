"""Fixtures for the ERP flows: the pipeline's (settings on the example partners, worker,
recording transport, real webhook server) plus an in-test invoice source.

The invoice source is a fake ERP listing (tests/erp only): the poller's peer is any
connector with ``invoices_since``; the real Tryton one is exercised end to end in
``tests/e2e/test_erp_loop.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.model import Invoice, LineItem, Party, ProductId, Terms
from gateway.pipeline.erp_flow import InvoicePoller
from tests.pipeline.conftest import (  # noqa: F401  (fixtures)
    alerts,
    ctx,
    erp,
    make_worker,
    partners,
    receiver,
    settings,
    transport,
    webhook,
    worker,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.ports import GatewayContext

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Posted:
    partner_id: str | None
    erp_invoice_id: str
    invoice: Invoice


@dataclass
class FakeInvoices:
    """An ERP's posted-invoice listing: the cursor is how many invoices were read."""

    name: str = "fake"
    posted: list[Posted] = field(default_factory=list)
    calls: int = 0

    async def invoices_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[Posted], str]:
        self.calls += 1
        start = int(cursor or 0)
        page = self.posted[start : start + limit]
        return page, str(start + len(page))

    def post(self, partner_id: str | None, number: str, *, po: str = "PO-1") -> Invoice:
        invoice = Invoice(
            invoice_number=number,
            invoice_date=dt.date(2026, 3, 1),
            po_number=po,
            po_date=dt.date(2026, 2, 20),
            currency="USD",
            parties=(Party(role="BT", name="BIGBOX MART STORES INC"),),
            terms=Terms(
                terms_type="01",
                basis_date_code="3",
                net_due_date=dt.date(2026, 3, 31),
                net_days=30,
                description="Net 30",
            ),
            lines=(
                LineItem(
                    line_number="1",
                    quantity=Decimal(72),
                    uom="EA",
                    unit_price=Decimal("3.90"),
                    product_ids=(ProductId(qualifier="VN", value="MUG-16-SS"),),
                ),
                LineItem(
                    line_number="2",
                    quantity=Decimal(24),
                    uom="EA",
                    unit_price=Decimal("5.25"),
                    product_ids=(ProductId(qualifier="VN", value="SPATULA-SET-3"),),
                ),
            ),
            total_amount=Decimal("406.80"),
        )
        self.posted.append(Posted(partner_id, str(len(self.posted) + 1), invoice))
        return invoice


@pytest.fixture
def source() -> FakeInvoices:
    return FakeInvoices()


@pytest.fixture
def make_poller(
    ctx: GatewayContext,  # noqa: F811
    source: FakeInvoices,
    alerts: WebhookAlerts,  # noqa: F811
) -> Callable[..., InvoicePoller]:
    def make(clock: Callable[[], dt.datetime] = lambda: T0) -> InvoicePoller:
        return InvoicePoller(ctx, source, erp_name=source.name, alerts=alerts, clock=clock)

    return make
