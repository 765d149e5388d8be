"""Posted invoices become 810s and open items exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING
from unittest import mock

import pytest

from gateway.storage import DocumentQuery, State
from tests.erp.conftest import T0

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.pipeline.erp_flow import InvoicePoller
    from gateway.pipeline.worker import Worker
    from gateway.storage import DocumentRecord, Store
    from tests.erp.conftest import FakeInvoices
    from tests.pipeline.conftest import RecordingTransport, Webhook


async def _810s(store: Store) -> list[DocumentRecord]:
    found = await store.search(DocumentQuery(direction="out", doc_type="810"))
    return sorted(found, key=lambda d: d.id)


async def test_each_posted_invoice_is_queued_once_with_its_open_item(
    store: Store, source: FakeInvoices, make_poller: Callable[..., InvoicePoller]
) -> None:
    source.post("bigbox", "INV-1", po="PO-77")
    source.post(None, "INV-X")  # a customer who is no trading partner
    source.post("bigbox", "INV-2")
    poller = make_poller()

    assert await poller.poll_once() == 3
    assert await poller.poll_once() == 0

    docs = await _810s(store)
    assert [d.business_key for d in docs] == ["INV-1", "INV-2"]
    assert all(d.state == State.QUEUED and d.partner_id == "bigbox" for d in docs)
    assert all(d.channel == "as2" for d in docs)
    assert all(d.ack_due_at == T0 + dt.timedelta(hours=24) for d in docs)  # bigbox wants a 997
    assert await store.get_cursor("invoices:fake") == "3"
    first = docs[0]
    text = (await store.get_payload(first.payload_sha256)).decode("ascii")
    controls = first.controls
    assert text.startswith("ISA*00*          *00*          *ZZ*O2CGATEWAY     *12*5555550100")
    assert f"*{controls.interchange_control}*0*P*>~" in text
    assert f"GS*IN*O2CGATEWAY*5555550100*20260302*0900*{controls.group_control}*X*004010~" in text
    assert f"ST*810*{controls.transaction_control}~" in text
    assert "BIG*20260301*INV-1*20260220*PO-77~" in text
    # the ERP's Net 30 due date, bigbox's agreed 2% 10 days discount (ITD01 08)
    assert "ITD*08*3*2*20260311*10*20260331*30*" in text
    assert "TDS*40680~" in text
    assert (
        docs[1].controls.interchange_control == f"{int(controls.interchange_control or 0) + 1:09d}"
    )

    items = await store.open_items(partner_id="bigbox")
    assert [(i.invoice_number, i.document_id, i.po_number) for i in items] == [
        ("INV-1", docs[0].id, "PO-77"),
        ("INV-2", docs[1].id, "PO-1"),
    ]
    item = items[0]
    assert (item.amount, item.open_amount, item.currency) == (
        Decimal("406.80"),
        Decimal("406.80"),
        "USD",
    )
    assert (item.invoice_date, item.due_date) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (item.discount_percent, item.discount_days, item.status) == (Decimal(2), 10, "open")
    assert item.erp_invoice_id == "1"

    source.post("bigbox", "INV-3")
    assert await poller.poll_once() == 1
    assert [d.business_key for d in await _810s(store)] == ["INV-1", "INV-2", "INV-3"]


async def test_a_crash_before_the_commit_sends_nothing_and_the_page_comes_again(
    store: Store, source: FakeInvoices, make_poller: Callable[..., InvoicePoller]
) -> None:
    source.post("bigbox", "INV-1")
    source.post("bigbox", "INV-2")
    poller = make_poller()

    # the process dies after the 810s and open items were written, before the commit
    with (
        mock.patch.object(type(store), "set_cursor", side_effect=RuntimeError("power cut")),
        pytest.raises(RuntimeError, match="power cut"),
    ):
        await poller.poll_once()

    assert await _810s(store) == []
    assert await store.open_items() == []
    assert await store.get_cursor("invoices:fake") is None

    assert await poller.poll_once() == 2
    docs = await _810s(store)
    assert [d.business_key for d in docs] == ["INV-1", "INV-2"]
    # the rolled-back unit handed its control numbers out again: no gap, no reuse
    assert [d.controls.interchange_control for d in docs] == ["000000001", "000000002"]
    assert len(await store.open_items()) == 2


async def test_two_pollers_at_once_send_each_invoice_once(
    store: Store, source: FakeInvoices, make_poller: Callable[..., InvoicePoller]
) -> None:
    for n in range(5):
        source.post("bigbox", f"INV-{n}")

    counts = await asyncio.gather(make_poller().poll_once(), make_poller().poll_once())

    assert sorted(counts) == [0, 5]
    assert len(await _810s(store)) == 5
    assert len(await store.open_items()) == 5


async def test_an_invoice_seen_again_after_a_cursor_reset_is_not_sent_twice(
    store: Store, source: FakeInvoices, make_poller: Callable[..., InvoicePoller]
) -> None:
    source.post("bigbox", "INV-1")
    poller = make_poller()
    await poller.poll_once()
    await store.set_cursor("invoices:fake", "0")  # an operator rewinds the cursor

    assert await poller.poll_once() == 1  # read again, skipped
    assert len(await _810s(store)) == 1
    assert await store.get_cursor("invoices:fake") == "1"


async def test_the_worker_sends_the_810_on_the_partner_channel(
    store: Store,
    source: FakeInvoices,
    make_poller: Callable[..., InvoicePoller],
    worker: Worker,
    transport: RecordingTransport,
) -> None:
    source.post("bigbox", "INV-9")
    await make_poller().poll_once()

    assert await worker.run_once() == 1

    (doc,) = await _810s(store)
    assert doc.state == State.SENT
    (sent,) = transport.sent
    assert sent.filename == f"bigbox-810-{doc.id}-{doc.controls.interchange_control}.x12"
    assert sent.data == await store.get_payload(doc.payload_sha256)


async def test_an_invoice_that_cannot_be_rendered_is_parked_and_alerted(
    store: Store,
    source: FakeInvoices,
    make_poller: Callable[..., InvoicePoller],
    webhook: Webhook,
) -> None:
    invoice = source.post("bigbox", "INV-LONG")
    source.posted[-1] = source.posted[-1].__class__(
        "bigbox", "1", invoice.model_copy(update={"invoice_number": "X" * 40})
    )
    assert await make_poller().poll_once() == 1

    (doc,) = await _810s(store)
    assert doc.state == State.FAILED and doc.format == "json"
    events = await store.events(doc.id)
    assert "not rendered" in events[-1].message
    (alert,) = webhook.alerts()
    assert alert["event"] == "failed" and alert["document_id"] == doc.id
    (item,) = await store.open_items()
    assert item.document_id == doc.id  # the debt is recorded even so
