"""855s for confirmed orders: built from the ERP's answer, queued with the delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from adapters.erp_basic import MemoryErp
from gateway.model import PurchaseOrder
from gateway.partners import PartnerRegistry
from gateway.pipeline.order_acks import build_order_ack
from gateway.pipeline.receiver import PipelineReceiver
from gateway.pipeline.reprocessing import reprocess
from gateway.pipeline.worker import Worker
from gateway.ports import ErpResult, GatewayContext
from gateway.storage import DocumentQuery, State
from tests.pipeline.conftest import PARTNERS
from tests.pipeline.files import NORTHWIND_850, bigbox_850s

if TYPE_CHECKING:
    from pathlib import Path

    from gateway.settings import Settings
    from gateway.storage import DocumentRecord, Store
    from tests.pipeline.conftest import RecordingTransport

TODAY = dt.date(2026, 3, 2)


class BookingErp:
    """An ERP that books what it is told per line (quantities and prices in our units)."""

    name = "booking"

    def __init__(self, lines: list[dict[str, Any]] | None, status: str = "processing") -> None:
        self.lines = lines
        self.status = status
        self.orders: dict[str, str] = {}

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        created = order.po_number not in self.orders
        erp_id = self.orders.setdefault(order.po_number, f"SO-{len(self.orders) + 1}")
        detail = {} if self.lines is None else {"lines": self.lines}
        return ErpResult(erp_id, self.status, created, detail)

    async def health(self) -> bool:
        return True

    async def close(self) -> None:
        return None


async def _sets(store: Store, doc_type: str) -> list[DocumentRecord]:
    return sorted(await store.search(DocumentQuery(doc_type=doc_type)), key=lambda d: d.id)


async def test_a_confirmed_northwind_order_gets_an_855_in_the_same_commit(
    store: Store, receiver: PipelineReceiver, worker: Worker, transport: RecordingTransport
) -> None:
    await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()

    (order_set,) = await _sets(store, "850")
    (ack,) = await _sets(store, "855")
    assert order_set.state == State.DELIVERED
    assert (ack.direction, ack.parent_id, ack.business_key) == ("out", order_set.id, "NW-PO-88213")
    assert ack.state == State.SENT and ack.channel == "sftp_hosted"
    assert ack.ack_due_at is not None  # northwind acknowledges 855s with a 999
    text = (await store.get_payload(ack.payload_sha256)).decode("ascii")
    assert text.startswith("ISA|00|          |00|          |ZZ|O2CGATEWAY     |ZZ|NORTHWINDDIST")
    assert "GS|PR|O2CGATEWAY|NORTHWIND|" in text and "|X|005010~" in text  # GS03: its gs_ids
    # the memory ERP reports no lines: all accepted as ordered, ack type from the profile
    assert "BAK|00|AC|NW-PO-88213|20240402" in text
    assert "PO1|1|48|EA|3.15||VN|O2C-WIDGET-A|BP|NW-118822~\nACK|IA|48|EA~" in text
    assert "PO1|2|10|BX|27.5||VN|O2C-BOLT-M8|BP|NW-204410~\nACK|IA|10|BX~" in text
    assert sorted(s.filename.split("-")[1] for s in transport.sent) == ["855", "999"]

    # reprocessing the file finds the order in the ERP: no second 855
    assert order_set.parent_id is not None
    await reprocess(store, order_set.parent_id, "test")
    await worker.run_once()
    assert len(await _sets(store, "855")) == 1


async def test_no_855_for_a_partner_that_does_not_want_one(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    await receiver(bigbox_850s(["PO-1"]), partner_id=None, channel="as2")
    await worker.run_once()
    assert await _sets(store, "855") == []


def test_changed_and_missing_lines_from_the_erp(partners: PartnerRegistry) -> None:
    from gateway.pipeline.process import SetResult, translate

    (result,) = [r for r in translate(NORTHWIND_850) if isinstance(r, SetResult)]
    order = result.document
    assert isinstance(order, PurchaseOrder)
    northwind = partners.by_id("northwind")
    booked = [
        {"line_number": "1", "sku": "O2C-WIDGET-A", "quantity": "48", "unit_price": "3.20"},
        {"line_number": "2", "sku": "O2C-BOLT-M8", "quantity": "800", "unit_price": "0.275"},
    ]

    changed = build_order_ack(
        order,
        ErpResult("SO-1", "processing", True, {"lines": booked}),
        partner=northwind,
        ack_type="AD",
        today=TODAY,
    )
    assert changed.ack_type == "AC"  # AD means "no change": changes make it AC
    first, second = changed.lines
    assert (first.status, first.unit_price, first.ack_quantity) == ("IP", Decimal("3.2"), 48)
    # 800 EA booked = 8 BX (100 EA a box), the price per box unchanged
    assert (second.status, second.ack_quantity, second.ack_uom) == ("IQ", Decimal(8), "BX")
    assert second.unit_price == Decimal("27.50")

    one_missing = build_order_ack(
        order,
        ErpResult("SO-1", "processing", True, {"lines": booked[:1]}),
        partner=northwind,
        ack_type="AC",
        today=TODAY,
    )
    assert [line.status for line in one_missing.lines] == ["IP", "IR"]
    assert one_missing.lines[1].ack_quantity == 0

    none_booked = build_order_ack(
        order,
        ErpResult("SO-1", "processing", True, {"lines": []}),
        partner=northwind,
        ack_type="AC",
        today=TODAY,
    )
    assert none_booked.ack_type == "RJ"

    as_ordered = build_order_ack(
        order,
        ErpResult(
            "SO-1",
            "processing",
            True,
            {
                "lines": [
                    {
                        "line_number": "1",
                        "sku": "O2C-WIDGET-A",
                        "quantity": "48",
                        "unit_price": "3.15",
                    },
                    {
                        "line_number": "2",
                        "sku": "O2C-BOLT-M8",
                        "quantity": "1000.0",
                        "unit_price": "0.2750",
                    },
                ]
            },
        ),
        partner=northwind,
        ack_type="AD",
        today=TODAY,
    )
    assert as_ordered.ack_type == "AD"
    assert [line.status for line in as_ordered.lines] == ["IA", "IA"]

    no_detail = build_order_ack(
        order,
        ErpResult("SO-1", "processing", True, {"lines": booked}),
        partner=northwind,
        ack_type="AK",
        today=TODAY,
    )
    assert (no_detail.ack_type, no_detail.lines) == ("AK", ())


@pytest.mark.parametrize(("status", "expected"), [("processing", 1), ("draft", 0)])
async def test_the_855_carries_the_erp_changes_and_waits_for_confirmation(
    store: Store, receiver: PipelineReceiver, make_worker: Any, status: str, expected: int
) -> None:
    booked = [
        {"line_number": "1", "sku": "O2C-WIDGET-A", "quantity": "48", "unit_price": "3.15"},
        {"line_number": "2", "sku": "O2C-BOLT-M8", "quantity": "800", "unit_price": "0.275"},
    ]
    worker = make_worker(erp=BookingErp(booked, status))
    await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()

    acks = await _sets(store, "855")
    assert len(acks) == expected
    if acks:
        text = (await store.get_payload(acks[0].payload_sha256)).decode("ascii")
        assert "ACK|IA|48|EA~" in text and "ACK|IQ|8|BX~" in text


async def test_an_855_that_cannot_be_rendered_is_noted_and_does_not_hold_the_order(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    text = (PARTNERS / "northwind.yaml").read_text()
    # an outbound 855 mapping for 004010 while the profile sends 855s in 005010
    text = text.replace(
        '  "855": {base: x12/855/005010}\n',
        '  "855": {base: x12/855/005010}\n  out.855: {base: x12/855/out-004010}\n',
    )
    (partners_dir / "northwind.yaml").write_text(text)
    partners = PartnerRegistry.load(partners_dir)
    broken = settings.model_copy(update={"partners_dir": partners_dir})
    receiver = PipelineReceiver(store, broken, partners)
    ctx = GatewayContext(settings=broken, store=store, partners=partners, receive=receiver)
    worker = Worker(ctx, erp=MemoryErp(), transports={}, name="w")

    await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()

    (order_set,) = await _sets(store, "850")
    assert order_set.state == State.DELIVERED
    assert await _sets(store, "855") == []
    (note,) = [e for e in await store.events(order_set.id) if e.kind == "error"]
    assert note.message.startswith("855 for PO NW-PO-88213 not sent:")
    assert "x12/855/out-004010" in note.message
