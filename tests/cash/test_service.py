"""Cash application in the running service: an 820 through receiver and worker.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from gateway.cash.review import CashReview, QueueFilter
from gateway.pipeline.context import utc_now
from gateway.pipeline.reprocessing import reprocess
from gateway.storage import DocumentRecord, OpenItem, State
from tests.cash.conftest import add_item
from tests.cash.remit import Rmr, initech_820

if TYPE_CHECKING:
    import pytest

    from gateway.partners import PartnerRegistry
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import Store

D = Decimal


async def _remittance_doc(store: Store, file_id: int) -> DocumentRecord:
    sets = [c for c in await store.children(file_id) if c.direction == "in"]
    assert len(sets) == 1 and sets[0].doc_type == "820"
    return sets[0]


async def _receive(receiver: PipelineReceiver, worker: Worker, data: bytes) -> int:
    file = await receiver(data, partner_id=None, channel="sftp_poll", filename="remit.edi")
    assert file.partner_id == "initech"
    await worker.run_once()
    return file.id


async def test_820_applied_to_open_items(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    short = await add_item(store, "INV-1001", "520.00", po="4500011111")
    full = await add_item(store, "INV-1002", "740.50", po="4500011234")
    discounted = await add_item(
        store, "INV-1003", "245.00", po="4500011302", discount_percent="2.0408", discount_days=30
    )
    other = await add_item(store, "GX-1", "740.50", partner="globex", po="4500011234")
    data = initech_820(
        Rmr("PO", "4500011111", "500.00", "520.00", adx=(("-20.00", "01"),)),
        Rmr("PO", "4500011234", "740.50", "740.50"),
        Rmr("PO", "4500011302", "240.00", "245.00", "5.00"),
        Rmr("PO", "4500099999", "100.00"),
    )
    file_id = await _receive(receiver, worker, data)

    doc = await _remittance_doc(store, file_id)
    assert doc.state == State.DELIVERED
    last = (await store.events(doc.id))[-1]
    assert last.message == "cash applied: 2 matched, 1 partial, 1 unmatched (2 to review)"
    assert last.detail["applied"] == "1480.50"

    remittance = await store.remittance_of_document(doc.id)
    assert remittance is not None
    assert remittance.partner_id == "initech" and remittance.trace_number == "ACH240422000077"
    assert remittance.payment_amount == D("1580.50") == remittance.lines_total
    assert remittance.unapplied_amount == D("100.00")
    assert remittance.total_mismatch == 0

    lines = await store.remittance_lines(remittance_id=remittance.id)
    got = [(ln.status, ln.review, ln.invoice_number, ln.unplaced, ln.shortfall) for ln in lines]
    assert got == [
        ("partial", "open", "INV-1001", D("0.00"), D("20.00")),
        ("matched", "auto", "INV-1002", D("0.00"), D("0.00")),
        ("matched", "auto", "INV-1003", D("0.00"), D("0.00")),
        ("unmatched", "open", None, D("100.00"), D("0.00")),
    ]
    assert lines[0].adjustment_codes == ("01",) and lines[0].adjustment_amount == D("20.00")

    apps = await store.cash_applications(partner_id="initech")
    assert [(a.invoice_number, a.kind, a.amount, a.actor, a.erp_state) for a in apps] == [
        ("INV-1001", "payment", D("500.00"), "auto", "pending"),
        ("INV-1002", "payment", D("740.50"), "auto", "pending"),
        ("INV-1003", "payment", D("240.00"), "auto", "pending"),
        ("INV-1003", "discount", D("5.00"), "auto", "pending"),
    ]
    assert all(str(a.effective_date) == "2024-04-22" for a in apps)

    items = {i.id: i for i in await store.open_items()}
    assert (items[short].open_amount, items[short].status) == (D("20.00"), "open")
    assert (items[full].open_amount, items[full].status) == (D("0.00"), "closed")
    assert (items[discounted].open_amount, items[discounted].status) == (D("0.00"), "closed")
    assert (items[other].open_amount, items[other].status) == (D("740.50"), "open")
    assert await store.cash_applications(partner_id="globex") == []
    [entry] = [e for e in await store.audit_log() if e["action"] == "cash.apply"]
    assert (entry["actor"], entry["target"]) == ("auto", f"remittance:{remittance.id}")
    assert entry["detail"]["matched"] == 2 and entry["detail"]["to_review"] == 2

    # reprocessing the set applies nothing twice
    await reprocess(store, doc.id, "operator")
    await worker.run_once()
    again = await store.get(doc.id)
    assert again is not None and again.state == State.DELIVERED
    assert "nothing applied again" in (await store.events(doc.id))[-1].message
    assert len(await store.cash_applications(partner_id="initech")) == 4
    assert (await store.open_item_by_id(short)).open_amount == D("20.00")  # type: ignore[union-attr]


async def test_queued_line_applied_by_a_clerk_then_reversed(
    store: Store, receiver: PipelineReceiver, worker: Worker, partners: PartnerRegistry
) -> None:
    invoice = await add_item(store, "INV-3001", "410.00", po="4500030001")
    file_id = await _receive(receiver, worker, initech_820(Rmr("IV", "INV 3O01", "410.00")))
    doc = await _remittance_doc(store, file_id)
    assert doc.state == State.DELIVERED
    assert (await store.events(doc.id))[-1].message == (
        "cash applied: 0 matched, 0 partial, 1 unmatched (1 to review)"
    )

    review = CashReview(store, partners)
    [line] = await review.queue(QueueFilter(partner_id="initech"))
    assert (line.status, line.unplaced_amount, line.document_id) == ("unmatched", D("410"), doc.id)
    [best, *_] = await review.candidates(line.id)
    assert best.open_item_id == invoice and "the amount equals what is open" in best.reason

    await review.apply(line.id, [(invoice, D("410.00"))], "clerk@example.com")
    item = await store.open_item_by_id(invoice)
    assert item is not None and (item.open_amount, item.status) == (D("0.00"), "closed")
    assert await review.queue(QueueFilter()) == []
    assert (await review.line(line.id)).review == "resolved"

    [payment] = await review.applications(line.id)
    await review.reverse(payment.id, "lead@example.com")
    item = await store.open_item_by_id(invoice)
    assert item is not None and (item.open_amount, item.status) == (D("410.00"), "open")
    assert [q.id for q in await review.queue(QueueFilter())] == [line.id]
    assert [h["action"] for h in await review.history(line.id)] == ["cash.apply", "cash.reverse"]


async def test_payment_total_mismatch_holds_the_whole_remittance(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    invoice = await add_item(store, "INV-4001", "200.00", po="4500040001")
    data = initech_820(Rmr("PO", "4500040001", "200.00"), amount="150.00")
    doc = await _remittance_doc(store, await _receive(receiver, worker, data))
    assert doc.state == State.DELIVERED
    message = (await store.events(doc.id))[-1].message
    assert message.startswith("cash held for review, nothing applied: the payment amount 150.00")
    assert "differs from the lines' total 200.00" in message
    remittance = await store.remittance_of_document(doc.id)
    assert remittance is not None and remittance.total_mismatch == D("-50.00")
    assert remittance.unapplied_amount == D("150.00")
    [line] = await store.remittance_lines(remittance_id=remittance.id)
    assert (line.status, line.review, line.invoice_number) == ("matched", "open", "INV-4001")
    assert line.reason.startswith("held, the payment amount 150.00 differs")
    assert await store.cash_applications(partner_id="initech") == []
    assert (await store.open_item_by_id(invoice)).open_amount == D("200.00")  # type: ignore[union-attr]


async def test_a_payment_without_remittance_lines_waits_whole_in_the_queue(
    store: Store, receiver: PipelineReceiver, worker: Worker, partners: PartnerRegistry
) -> None:
    invoice = await add_item(store, "INV-6001", "480.00", po="4500060001")
    doc = await _remittance_doc(
        store, await _receive(receiver, worker, initech_820(amount="480.00"))
    )
    assert doc.state == State.DELIVERED
    message = (await store.events(doc.id))[-1].message
    assert message.startswith(
        "cash held for review, nothing applied: the payment carries no remittance lines (RMR)"
    )
    review = CashReview(store, partners)
    [line] = await review.queue(QueueFilter(partner_id="initech"))
    assert (line.reference, line.paid_amount, line.unplaced_amount) == (
        "(no remittance detail)",
        D("480.00"),
        D("480.00"),
    )
    assert line.status == "unmatched" and "no remittance lines" in line.reason
    # the amount points the clerk at the one invoice it fits, who applies it
    [best, *_] = await review.candidates(line.id)
    assert best.invoice_number == "INV-6001" and best.score > 0
    await review.apply(line.id, [(invoice, D("480.00"))], "carl")
    assert await review.queue(QueueFilter(partner_id="initech")) == []
    assert (await store.open_item_by_id(invoice)).status == "closed"  # type: ignore[union-attr]


async def test_same_payment_sent_again_is_held(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    invoice = await add_item(store, "INV-5001", "300.00", po="4500050001")
    await add_item(store, "INV-5002", "300.00", po="4500050002")
    first = initech_820(Rmr("PO", "4500050001", "300.00"), isa13=501)
    await _receive(receiver, worker, first)
    # the same TRN and amount under a new ISA13, now naming the other invoice
    second = initech_820(Rmr("PO", "4500050002", "300.00"), isa13=502)
    doc = await _remittance_doc(store, await _receive(receiver, worker, second))
    message = (await store.events(doc.id))[-1].message
    assert "trace number ACH240422000077 for 300.00 was already applied" in message
    apps = await store.cash_applications(partner_id="initech")
    assert [(a.open_item_id, a.amount) for a in apps] == [(invoice, D("300.00"))]


async def test_open_item_changed_meanwhile_rolls_back_and_retries(
    store: Store,
    receiver: PipelineReceiver,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = await add_item(store, "INV-6001", "90.00", po="4500060001")
    real = store.partner_items
    calls: list[bool] = []

    async def stale_once(partner_id: str, *, lock: bool = False) -> list[OpenItem]:
        # the first read sees the invoice as it was before another writer took 10.00 off
        # (the store's locks keep a real one out, so only a forced read can show it)
        items = await real(partner_id, lock=lock)
        calls.append(lock)
        if len(calls) > 1:
            return items
        return [replace(i, open_amount=i.open_amount + 10) for i in items]

    monkeypatch.setattr(store, "partner_items", stale_once)
    # retries are due at once: the worker's clock runs an hour behind
    worker.stages.clock = lambda: utc_now() - dt.timedelta(hours=1)
    data = initech_820(Rmr("PO", "4500060001", "90.00"))
    doc = await _remittance_doc(store, await _receive(receiver, worker, data))

    events = await store.events(doc.id)
    failed = [e for e in events if "INV-6001 changed while" in e.message]
    assert len(failed) == 1 and failed[0].state == State.MAPPED
    assert doc.state == State.DELIVERED and len(calls) == 2
    assert events[-1].message.startswith("cash applied: 1 matched")
    apps = await store.cash_applications(partner_id="initech")
    assert [(a.open_item_id, a.amount) for a in apps] == [(invoice, D("90.00"))]
    item = await store.open_item_by_id(invoice)
    assert item is not None and (item.open_amount, item.status) == (D("0.00"), "closed")


async def test_payment_of_a_closed_invoice_goes_to_the_queue(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    closed = await add_item(store, "INV-8001", "75.00", open_amount="0.00", status="closed")
    doc = await _remittance_doc(
        store, await _receive(receiver, worker, initech_820(Rmr("IV", "INV-8001", "75.00")))
    )
    remittance = await store.remittance_of_document(doc.id)
    assert remittance is not None
    [line] = await store.remittance_lines(remittance_id=remittance.id)
    assert (line.status, line.review, line.unplaced) == ("unmatched", "open", D("75.00"))
    assert "closed" in line.reason
    assert await store.cash_applications(partner_id="initech") == []
    item = await store.open_item_by_id(closed)
    assert item is not None and (item.open_amount, item.status) == (D("0.00"), "closed")
