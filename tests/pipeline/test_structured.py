"""cXML, partner XML and canonical JSON through receiver and worker."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gateway.storage import State
from tests.pipeline.files import ACME_CXML, GLOBEX_XML, NORTHWIND_INVOICE

if TYPE_CHECKING:
    from adapters.erp_basic import MemoryErp
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import Store


async def _states(store: Store, doc_id: int) -> list[str]:
    return [str(e.state) for e in await store.events(doc_id) if e.kind == "state"]


async def test_cxml_order_request_finds_its_partner_by_credential(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    doc = await receiver(ACME_CXML, partner_id=None, channel="http", content_type="text/xml")
    assert doc.format == "xml" and doc.doc_type == "xml"
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.DELIVERED
    assert done.business_key == "AP-2024-000517"
    assert done.canonical is not None and done.canonical["type"] == "purchase_order"
    assert await _states(store, doc.id) == ["received", "mapped", "delivered"]
    assert ("acme-procure", "AP-2024-000517") in erp.orders


async def test_partner_xml_on_the_partners_channel(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    doc = await receiver(GLOBEX_XML, partner_id="globex", channel="folder", filename="o.xml")
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.DELIVERED
    assert list(erp.orders) == [("globex", "GX-77120")]


async def test_xml_without_a_partner_is_rejected(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    doc = await receiver(GLOBEX_XML, partner_id=None, channel="folder")
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.REJECTED
    assert "names no partner" in (done.last_error or "")
    assert erp.orders == {}


async def test_bad_xml_is_rejected_with_the_reason(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    unsafe = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e "boom">]>\n<Order>&e;</Order>'
    doc = await receiver(unsafe, partner_id="globex", channel="folder")
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.REJECTED
    assert "DOCTYPE" in (done.last_error or "")


async def test_canonical_json_order_and_invoice(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    order = {
        "type": "purchase_order",
        "po_number": "JSON-1",
        "purpose_code": "00",
        "order_type": "SA",
        "lines": [{"line_number": "1", "quantity": "1", "uom": "EA"}],
    }
    po = await receiver(
        json.dumps(order).encode(), partner_id="bigbox", channel="http", content_type=None
    )
    invoice = await receiver(NORTHWIND_INVOICE, partner_id="northwind", channel="http")
    assert po.format == "json" and invoice.format == "json"
    await worker.run_once()

    po_done = await store.get(po.id)
    assert po_done is not None and po_done.state == State.DELIVERED
    assert po_done.business_key == "JSON-1"
    assert list(erp.orders) == [("bigbox", "JSON-1")]

    inv_done = await store.get(invoice.id)
    assert inv_done is not None and inv_done.state == State.DELIVERED
    assert inv_done.business_key == "NW-INV-20240409-17"
    assert (await store.events(invoice.id))[-1].message == "kept for accounts payable"


async def test_invalid_json_is_rejected(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    doc = await receiver(b'{"type": "purchase_order"}', partner_id="bigbox", channel="http")
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.REJECTED
    assert "po_number" in (done.last_error or "")


async def test_unknown_format_is_stored_then_rejected(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    doc = await receiver(b"%PDF-1.7 not an order", partner_id="globex", channel="folder")
    assert doc.format == "unknown"
    assert await store.get_payload(doc.payload_sha256) == b"%PDF-1.7 not an order"
    await worker.run_once()
    done = await store.get(doc.id)
    assert done is not None and done.state == State.REJECTED
    assert "not X12" in (done.last_error or "")
