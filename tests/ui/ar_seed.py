"""Seeding the AR review queue for the UI tests, through the real pipeline.

Invoices are stored as open items (:meth:`Store.add_open_item`); a canonical JSON
remittance goes in through the real :class:`PipelineReceiver` and is applied by the
real worker's deliver stage (:mod:`gateway.pipeline.cash_flow`), so the queue lines the
pages show are the ones the engine leaves for a person.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.erp_basic import MemoryErp
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.worker import Worker
from gateway.storage import OpenItem, State

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gateway.ports import GatewayContext

PARTNER = "bigbox"
"""Quotes invoice numbers, no amount-only matching, write-off tolerance 5.00."""
TODAY = dt.datetime.now(dt.UTC).date()


async def add_invoice(
    ctx: GatewayContext, number: str, amount: str, *, partner_id: str = PARTNER, days_ago: int = 40
) -> int:
    """Store an open invoice of ``amount``; return its open item id."""
    issued = TODAY - dt.timedelta(days=days_ago)
    item = OpenItem(
        partner_id=partner_id,
        invoice_number=number,
        invoice_date=issued,
        due_date=issued + dt.timedelta(days=30),
        amount=Decimal(amount),
        open_amount=Decimal(amount),
        currency="USD",
        po_number=f"PO-{number}",
    )
    return await ctx.store.add_open_item(item)


async def remit(
    ctx: GatewayContext,
    lines: Sequence[tuple[str, str]],
    *,
    trace: str,
    partner_id: str = PARTNER,
    days_ago: int = 3,
) -> int:
    """Send a remittance paying ``(invoice reference, paid amount)`` lines; apply it.

    Returns the remittance's document id, once the worker has delivered it.
    """
    total = sum((Decimal(paid) for _, paid in lines), Decimal(0))
    advice = {
        "type": "remittance",
        "trace_number": trace,
        "payment_amount": str(total),
        "credit_debit": "C",
        "payment_method": "ACH",
        "payment_date": (TODAY - dt.timedelta(days=days_ago)).isoformat(),
        "currency": "USD",
        "lines": [
            {"reference_qualifier": "IV", "reference": ref, "paid_amount": paid}
            for ref, paid in lines
        ],
    }
    receive = PipelineReceiver(ctx.store, ctx.settings, ctx.partners)
    doc = await receive(
        json.dumps(advice).encode(), partner_id=partner_id, channel="http", filename=f"{trace}.json"
    )
    worker = Worker(ctx, erp=MemoryErp(), transports={}, name="ar-seed")
    states = []
    for _ in range(3):
        await worker.run_once()
        done = await ctx.store.get(doc.id)
        assert done is not None
        if done.state == State.DELIVERED:
            return doc.id
        states.append(f"{done.state}: {done.last_error}")
    raise AssertionError(f"the remittance was not applied: {states}")
