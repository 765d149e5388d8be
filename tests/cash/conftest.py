"""Fixtures for cash application in the service: a worker on the example partners, open items.

The worker is the real one (:class:`gateway.pipeline.worker.Worker`) on the test's store
(SQLite and PostgreSQL), with the real ``memory`` ERP connector and a transport that keeps
what it is given (the 997s the worker sends back).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from adapters.erp_basic import MemoryErp
from gateway.partners import PartnerRegistry
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.worker import Worker
from gateway.ports import GatewayContext
from gateway.settings import Settings
from gateway.storage import OpenItem
from tests.pipeline.conftest import PARTNERS, ROOT, RecordingTransport

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.storage import Store


@pytest.fixture(scope="session")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(PARTNERS)


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, partners_dir=PARTNERS, mappings_dir=ROOT / "mappings")


@pytest.fixture
def receiver(store: Store, settings: Settings, partners: PartnerRegistry) -> PipelineReceiver:
    return PipelineReceiver(store, settings, partners)


@pytest.fixture
def erp() -> MemoryErp:
    return MemoryErp()


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def worker(
    store: Store,
    settings: Settings,
    partners: PartnerRegistry,
    receiver: PipelineReceiver,
    erp: MemoryErp,
    transport: RecordingTransport,
) -> Worker:
    ctx = GatewayContext(settings=settings, store=store, partners=partners, receive=receiver)
    return Worker(
        ctx,
        erp=erp,
        transports={"sftp_poll": transport, "sftp_hosted": transport},
        name="cash-worker",
        retry_base_seconds=0.01,
        retry_max_seconds=0.02,
    )


async def add_item(
    store: Store,
    number: str,
    amount: str,
    *,
    partner: str = "initech",
    po: str | None = None,
    open_amount: str | None = None,
    invoice_date: dt.date = dt.date(2024, 4, 1),
    discount_percent: str | None = None,
    discount_days: int | None = None,
    status: str = "open",
    currency: str = "USD",
) -> int:
    """Insert an open item; return its id."""
    return await store.add_open_item(
        OpenItem(
            partner_id=partner,
            invoice_number=number,
            invoice_date=invoice_date,
            due_date=invoice_date + dt.timedelta(days=45),
            amount=Decimal(amount),
            open_amount=Decimal(open_amount if open_amount is not None else amount),
            currency=currency,
            po_number=po,
            discount_percent=Decimal(discount_percent) if discount_percent else None,
            discount_days=discount_days,
            status=status,  # type: ignore[arg-type]
            erp_invoice_id=f"ERP-{number}",
        )
    )
