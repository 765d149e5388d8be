"""The ERP payment pusher with the real ``memory`` and ``folder`` connectors.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.erp_basic import FolderErp, MemoryErp
from gateway.cash.review import CashReview
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.pipeline.payments import PaymentPusher
from gateway.ports import PaymentRecord
from tests.cash.conftest import add_item
from tests.cash.remit import Rmr, initech_820

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.partners import PartnerRegistry
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import Store

D = Decimal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class OrdersOnly:
    """A connector that takes orders and no payments."""

    name = "orders-only"

    async def push_order(self, order: object, *, partner_id: str) -> object:
        raise AssertionError("not called")

    async def health(self) -> bool:
        return True

    async def close(self) -> None:
        return None


async def _seed(store: Store, receiver: PipelineReceiver, worker: Worker) -> tuple[int, int]:
    x = await add_item(store, "INV-7001", "100.00", po="4500070001")
    y = await add_item(store, "INV-7002", "50.00", po="4500070002")
    data = initech_820(Rmr("PO", "4500070001", "100.00"), Rmr("PO", "4500070002", "50.00"))
    await receiver(data, partner_id=None, channel="sftp_poll", filename="r.edi")
    await worker.run_once()
    return x, y


async def _states(store: Store) -> list[tuple[str, int, str | None]]:
    return [
        (a.erp_state, a.erp_attempts, a.erp_reference)
        for a in await store.cash_applications(partner_id="initech")
    ]


async def test_pusher_retries_then_pushes_and_reverses(
    store: Store, receiver: PipelineReceiver, worker: Worker, partners: PartnerRegistry
) -> None:
    await _seed(store, receiver, worker)
    erp, clock = MemoryErp(), Clock()
    pusher = PaymentPusher(store, erp, interval=1.0, clock=clock)
    erp.failures = [TransientDeliveryError("connection refused")]

    assert await pusher.push_once() == 0
    first, second = await store.cash_applications(partner_id="initech")
    assert (first.erp_state, first.erp_attempts) == ("failed", 1)
    assert first.erp_error == "ERP unreachable: connection refused"
    assert second.erp_state == "pending"  # the round stopped at the unreachable ERP

    assert await pusher.push_once() == 1  # the failed one waits for its backoff
    assert [s for s, _, _ in await _states(store)] == ["failed", "pushed"]
    clock.now += 2.0
    assert await pusher.push_once() == 1
    assert await _states(store) == [("pushed", 1, "PAY-000002"), ("pushed", 0, "PAY-000001")]
    assert await pusher.push_once() == 0
    key = f"o2c-application-{first.id}"
    reference, record = erp.payments[key]
    assert record == PaymentRecord(
        key=key,
        partner_id="initech",
        invoice_number="INV-7001",
        erp_invoice_id="ERP-INV-7001",
        kind="payment",
        amount=D("100.00"),
        effective_date=dt.date(2024, 4, 22),
        trace_number="ACH240422000077",
    )

    # a reversal goes out as its own key with the amount negated
    review = CashReview(store, partners)
    await review.reverse(first.id, "clerk")
    assert (await store.cash_application(first.id)).erp_state == "pending"  # type: ignore[union-attr]
    assert await pusher.push_once() == 1
    _, reversal = erp.payments[f"{key}-reversal"]
    assert reversal.amount == D("-100.00") and reversal.invoice_number == "INV-7001"
    again = await store.cash_application(first.id)
    assert again is not None and again.erp_state == "pushed"
    assert again.erp_reference == f"{reference} / reversed PAY-000003"
    assert len(erp.payments) == 3 and await pusher.push_once() == 0

    # the ERP refuses one: failed, tried again only after the long backoff
    await review.apply(first.line_id, [(first.open_item_id, D("100.00"))], "clerk")  # type: ignore[arg-type, list-item]
    erp.failures = [PermanentDeliveryError("invoice is on hold")]
    assert await pusher.push_once() == 0
    refused = (await store.cash_applications(partner_id="initech"))[-1]
    assert refused.erp_state == "failed" and "refused" in (refused.erp_error or "")
    clock.now += 60
    assert await pusher.push_once() == 0 and erp.pushes == 6  # not tried again yet
    clock.now += 3600
    assert await pusher.push_once() == 1
    assert (await store.cash_applications(partner_id="initech"))[-1].erp_state == "pushed"


async def test_connector_without_payments_marks_unsupported(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    await _seed(store, receiver, worker)
    pusher = PaymentPusher(store, OrdersOnly())  # type: ignore[arg-type]
    assert await pusher.push_once() == 0
    assert await _states(store) == [("unsupported", 0, None), ("unsupported", 0, None)]
    assert await store.applications_to_push() == []


async def test_memory_and_folder_connectors_record_a_key_once(tmp_path: Path) -> None:
    payment = PaymentRecord(
        key="o2c-application-7",
        partner_id="initech",
        invoice_number="INV-1",
        erp_invoice_id="E-1",
        kind="deduction",
        amount=D("12.50"),
        effective_date=dt.date(2024, 5, 2),
        reason_code="01",
    )
    memory = MemoryErp()
    assert await memory.record_payment(payment) == await memory.record_payment(payment)
    assert len(memory.payments) == 1

    folder = FolderErp(tmp_path / "erp")
    reference = await folder.record_payment(payment)
    assert reference.startswith("FOLDER-PAY-")
    assert await folder.record_payment(payment) == reference
    files = sorted((tmp_path / "erp" / "_payments").iterdir())
    assert [f.name for f in files] == ["o2c-application-7.json"]
    written = json.loads(files[0].read_text())
    assert written["amount"] == "12.50" and written["reason_code"] == "01"
    assert written["erp_reference"] == reference and written["kind"] == "deduction"


class RefusesDiscounts(MemoryErp):
    """Takes cash, refuses every discount (as the Tryton connector does)."""

    async def record_payment(self, payment: PaymentRecord) -> str:
        if payment.kind == "discount":
            raise PermanentDeliveryError("enter the discount by hand")
        return await super().record_payment(payment)


async def test_refused_rows_never_hold_back_new_ones(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    # three discounted payments: three payments the ERP takes, three discounts it refuses
    for n in (1, 2, 3):
        await add_item(
            store, f"INV-80{n}", "100.00", po=f"45000800{n}", discount_percent="2", discount_days=30
        )
    lines = [Rmr("PO", f"45000800{n}", "98.00", "100.00", "2.00") for n in (1, 2, 3)]
    await receiver(initech_820(*lines, isa13=801), partner_id=None, channel="sftp_poll")
    await worker.run_once()
    erp, clock = RefusesDiscounts(), Clock()
    pusher = PaymentPusher(store, erp, interval=1.0, batch=2, clock=clock)
    for _ in range(4):  # rounds of two rows; the refused ones wait out their backoff
        await pusher.push_once()
    states = sorted((a.kind, a.erp_state) for a in await store.cash_applications())
    assert states == [("discount", "failed")] * 3 + [("payment", "pushed")] * 3

    # a new payment arrives while three refused rows fill more than a batch: it goes at once
    await add_item(store, "INV-809", "40.00", po="450008009")
    await receiver(
        initech_820(Rmr("PO", "450008009", "40.00"), isa13=802, trace="ACH-NEW"),
        partner_id=None,
        channel="sftp_poll",
    )
    await worker.run_once()
    assert await pusher.push_once() == 1
    newest = (await store.cash_applications())[-1]
    assert (newest.amount, newest.erp_state) == (D("40.00"), "pushed")
