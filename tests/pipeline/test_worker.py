"""Worker behaviour: retries with backoff, parking, stopping, waking."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from typing import TYPE_CHECKING, Any

from adapters.erp_basic import MemoryErp
from gateway.errors import PermanentDeliveryError, TransientDeliveryError
from gateway.pipeline.reprocessing import reprocess
from gateway.storage import State
from tests.pipeline.files import bigbox_850s

if TYPE_CHECKING:
    from gateway.model import PurchaseOrder
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.ports import ErpResult
    from gateway.storage import DocumentRecord, Store
    from tests.pipeline.conftest import Webhook


async def _the_set(store: Store, file_id: int) -> DocumentRecord:
    sets = [c for c in await store.children(file_id) if c.direction == "in"]
    assert len(sets) == 1
    return sets[0]


async def _order_json(po: str) -> bytes:
    """A canonical purchase order as JSON."""
    return json.dumps(
        {
            "type": "purchase_order",
            "po_number": po,
            "po_date": "2024-04-15",
            "purpose_code": "00",
            "order_type": "SA",
            "currency": "USD",
            "lines": [{"line_number": "1", "quantity": "2", "uom": "EA", "unit_price": "3.50"}],
        }
    ).encode()


async def test_transient_erp_failure_is_retried_with_backoff(
    store: Store, receiver: PipelineReceiver, make_worker: Any, erp: MemoryErp
) -> None:
    erp.failures.append(TransientDeliveryError("ERP timed out after 30 s"))
    worker: Worker = make_worker(retry_base_seconds=0.2, retry_max_seconds=1.0)
    file = await receiver(bigbox_850s(["RETRY-1"]), partner_id=None, channel="as2")
    before = dt.datetime.now(dt.UTC)
    await worker.run_once()

    waiting = await _the_set(store, file.id)
    assert waiting.state == State.MAPPED and waiting.attempts == 1
    assert waiting.last_error == "ERP timed out after 30 s"
    assert waiting.lease_owner is None and waiting.next_attempt_at is not None
    last = (await store.events(waiting.id))[-1]
    assert "attempt 1 of 5 failed: ERP timed out" in last.message
    # first retry: base (0.2 s) times a jitter of 0.5 to 1.5, from the failure
    assert waiting.next_attempt_at > last.at > before
    delay = (waiting.next_attempt_at - last.at).total_seconds()
    assert 0.09 <= delay <= 0.3

    assert await worker.run_once() == 0  # not due yet
    await asyncio.sleep(0.35)
    await worker.run_once()
    done = await store.get(waiting.id)
    assert done is not None and done.state == State.DELIVERED and done.attempts == 2
    assert erp.pushes == 2 and len(erp.orders) == 1


def test_retry_delay_doubles_up_to_the_maximum(make_worker: Any) -> None:
    worker: Worker = make_worker(
        retry_base_seconds=2.0, retry_max_seconds=60.0, rng=random.Random(7)
    )
    for attempts, nominal in ((1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0), (6, 60.0), (40, 60.0)):
        delay = worker.retry_delay(attempts)
        assert nominal * 0.5 <= delay <= nominal * 1.5


async def test_permanent_failure_is_parked_and_alerted(
    store: Store,
    receiver: PipelineReceiver,
    worker: Worker,
    erp: MemoryErp,
    webhook: Webhook,
) -> None:
    erp.failures.append(PermanentDeliveryError("ERP refused the order: unknown ship-to 1042"))
    file = await receiver(bigbox_850s(["PERM-1"]), partner_id=None, channel="as2")
    await worker.run_once()
    parked = await _the_set(store, file.id)
    assert parked.state == State.FAILED and parked.attempts == 1
    assert parked.last_error == "ERP refused the order: unknown ship-to 1042"
    assert erp.pushes == 1
    alerts = webhook.alerts()
    assert [(a["event"], a["document_id"], a["state"]) for a in alerts] == [
        ("failed", parked.id, "failed")
    ]
    assert "unknown ship-to 1042" in alerts[0]["message"]

    # a person fixes it and reprocesses: the set goes back to mapped and is delivered
    await reprocess(store, parked.id, "operator")
    await worker.run_once()
    assert (await store.get(parked.id)).state == State.DELIVERED  # type: ignore[union-attr]


async def test_max_attempts_parks(
    store: Store, receiver: PipelineReceiver, make_worker: Any, erp: MemoryErp, webhook: Webhook
) -> None:
    erp.failures.extend(TransientDeliveryError(f"HTTP 503 #{n}") for n in range(5))
    worker: Worker = make_worker(max_attempts=3, retry_base_seconds=0.01, retry_max_seconds=0.02)
    file = await receiver(bigbox_850s(["MAX-1"]), partner_id=None, channel="as2")
    for _ in range(50):
        await worker.run_once()
        doc = await _the_set(store, file.id)
        if doc.state != State.MAPPED:
            break
        await asyncio.sleep(0.03)
    assert doc.state == State.FAILED and doc.attempts == 3
    assert doc.last_error == "gave up after 3 attempts: HTTP 503 #2"
    assert erp.pushes == 3
    assert [a["event"] for a in webhook.alerts()] == ["failed"]


async def test_unexpected_exception_is_retried_not_a_crash(
    store: Store, receiver: PipelineReceiver, make_worker: Any
) -> None:
    class BrokenErp(MemoryErp):
        async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
            raise KeyError("surprise")

    worker: Worker = make_worker(erp=BrokenErp(), max_attempts=1)
    file = await receiver(bigbox_850s(["BROKEN-1"]), partner_id=None, channel="as2")
    await worker.run_once()
    doc = await _the_set(store, file.id)
    assert doc.state == State.FAILED
    assert doc.last_error == "gave up after 1 attempts: unexpected KeyError: 'surprise'"


async def test_no_outbound_channel_fails_the_ack(
    store: Store, receiver: PipelineReceiver, make_worker: Any
) -> None:
    worker: Worker = make_worker(transports={})
    file = await receiver(bigbox_850s(["NOCH-1"]), partner_id=None, channel="as2")
    await worker.run_once()
    acks = [c for c in await store.children(file.id) if c.direction == "out"]
    assert [a.state for a in acks] == [State.FAILED]
    assert acks[0].last_error == "no transport for as2 channels is installed (installed: none)"


async def test_stop_finishes_the_document_in_hand_and_releases_the_rest(
    store: Store, receiver: PipelineReceiver, make_worker: Any
) -> None:
    stop = asyncio.Event()

    class StoppingErp(MemoryErp):
        async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
            stop.set()  # SIGTERM arrives while the first order is being pushed
            return await super().push_order(order, partner_id=partner_id)

    erp = StoppingErp()
    worker: Worker = make_worker(erp=erp, batch=10)
    docs = [
        await receiver(await _order_json(f"STOP-{n}"), partner_id="globex", channel="folder")
        for n in range(3)
    ]
    await asyncio.wait_for(worker.run(stop), timeout=10)

    after = [await store.get(d.id) for d in docs]
    states = [d.state for d in after if d is not None]
    assert states == [State.DELIVERED, State.MAPPED, State.MAPPED]
    assert all(d is not None and d.lease_owner is None for d in after)
    assert len(erp.orders) == 1

    # another worker takes the released documents over at once
    other: Worker = make_worker(name="other-worker", erp=erp)
    await other.run_once()
    assert len(erp.orders) == 3


async def test_running_worker_wakes_when_a_document_arrives(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(1.5)  # idle: the sleep has grown to its 1 s maximum
        started = asyncio.get_running_loop().time()
        await receiver(await _order_json("WAKE-1"), partner_id="globex", channel="folder")
        while not erp.orders:
            await asyncio.sleep(0.01)
            assert asyncio.get_running_loop().time() - started < 5
        # woken by the receiver, not by the end of a 1 s sleep
        assert asyncio.get_running_loop().time() - started < 0.9
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert ("globex", "WAKE-1") in erp.orders
