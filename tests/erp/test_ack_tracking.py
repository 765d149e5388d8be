"""Our 810s and 855s settled by the partner's 997/999, or marked overdue past the deadline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from gateway.pipeline.acktracking import OverdueMonitor
from gateway.storage import DocumentQuery, State
from tests.erp.conftest import T0
from tests.pipeline.files import NORTHWIND_850

if TYPE_CHECKING:
    from collections.abc import Callable

    from gateway.pipeline.alerts import WebhookAlerts
    from gateway.pipeline.erp_flow import InvoicePoller
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import DocumentRecord, Store
    from tests.erp.conftest import FakeInvoices
    from tests.pipeline.conftest import Webhook


def _isa(qualifier: str, sender: str, control: str, version: str, component: str) -> str:
    return (
        f"ISA*00*          *00*          *{qualifier}*{sender.ljust(15)}*ZZ*O2CGATEWAY     "
        f"*260302*1000*{'^' if version == '00501' else 'U'}*{version}*{control}*0*P*{component}~\n"
    )


def bigbox_997(doc: DocumentRecord, *, isa13: str, body: str) -> bytes:
    """BigBox's 997 for our 810 ``doc``; ``body`` goes between AK2 and AK9."""
    gs06, st02 = doc.controls.group_control, doc.controls.transaction_control
    segments = [f"AK1*IN*{gs06}", f"AK2*810*{st02}", *body.split("\n")]
    status = "R" if "AK5*R" in body else "A"
    segments.append(f"AK9*{status}*1*1*{0 if status == 'R' else 1}")
    st = ["ST*997*0001", *segments]
    text = "~\n".join([*st, f"SE*{len(st) + 1}*0001"])
    return (
        _isa("12", "5555550100", isa13, "00401", ">")
        + f"GS*FA*5555550100*O2CGATEWAY*20260302*1000*{int(isa13)}*X*004010~\n"
        + text
        + f"~\nGE*1*{int(isa13)}~\nIEA*1*{isa13}~\n"
    ).encode("ascii")


def northwind_999(doc: DocumentRecord, *, isa13: str) -> bytes:
    gs06, st02 = doc.controls.group_control, doc.controls.transaction_control
    st = [
        "ST*999*0001*005010X231A1",
        f"AK1*PR*{gs06}*005010",
        f"AK2*855*{st02}",
        "IK5*A",
        "AK9*A*1*1*1",
    ]
    text = "~\n".join([*st, f"SE*{len(st) + 1}*0001"])
    return (
        _isa("ZZ", "NORTHWINDDIST", isa13, "00501", ":")
        + f"GS*FA*NORTHWIND*O2CGATEWAY*20260302*1000*{int(isa13)}*X*005010X231A1~\n"
        + text
        + f"~\nGE*1*{int(isa13)}~\nIEA*1*{isa13}~\n"
    ).encode("ascii")


async def _sent_810(
    store: Store, source: FakeInvoices, make_poller: Callable[..., InvoicePoller], worker: Worker
) -> DocumentRecord:
    source.post("bigbox", "INV-1")
    await make_poller().poll_once()
    await worker.run_once()
    (doc,) = await store.search(DocumentQuery(doc_type="810"))
    assert doc.state == State.SENT
    return doc


async def test_a_997_accepts_our_810(
    store: Store,
    source: FakeInvoices,
    make_poller: Callable[..., InvoicePoller],
    worker: Worker,
    receiver: PipelineReceiver,
) -> None:
    doc = await _sent_810(store, source, make_poller, worker)
    await receiver(bigbox_997(doc, isa13="000000501", body="AK5*A"), partner_id=None, channel="as2")
    await worker.run_once()

    settled = await store.get(doc.id)
    assert settled is not None and settled.state == State.ACCEPTED
    last = (await store.events(doc.id))[-1]
    assert last.message.startswith("997 from the partner") and last.message.endswith("says A")


async def test_a_rejecting_997_names_the_partner_errors(
    store: Store,
    source: FakeInvoices,
    make_poller: Callable[..., InvoicePoller],
    worker: Worker,
    receiver: PipelineReceiver,
) -> None:
    doc = await _sent_810(store, source, make_poller, worker)
    body = "AK3*ITD*6**8\nAK4*3*954*6*2\nAK5*R*5"
    await receiver(bigbox_997(doc, isa13="000000502", body=body), partner_id=None, channel="as2")
    await worker.run_once()

    settled = await store.get(doc.id)
    assert settled is not None and settled.state == State.REJECTED
    last = (await store.events(doc.id))[-1]
    assert "AK3*ITD*6**8; AK4*3*954*6; AK5*R*5" in last.message
    assert last.detail["set_errors"] == ["5"]
    assert last.detail["segment_errors"] == [
        {
            "segment": "ITD",
            "position": 6,
            "code": "8",
            "elements": [{"position": 3, "code": "6", "bad_value": "2"}],
        }
    ]
    assert settled.last_error == "AK3*ITD*6**8; AK4*3*954*6; AK5*R*5"


async def test_a_999_accepts_our_855(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()
    (ack,) = await store.search(DocumentQuery(doc_type="855"))
    assert ack.state == State.SENT

    await receiver(northwind_999(ack, isa13="000000701"), partner_id=None, channel="sftp_hosted")
    await worker.run_once()

    settled = await store.get(ack.id)
    assert settled is not None and settled.state == State.ACCEPTED


async def test_no_ack_by_the_deadline_is_overdue_with_an_alert_and_a_late_ack_settles_it(
    store: Store,
    source: FakeInvoices,
    make_poller: Callable[..., InvoicePoller],
    worker: Worker,
    receiver: PipelineReceiver,
    alerts: WebhookAlerts,
    webhook: Webhook,
) -> None:
    doc = await _sent_810(store, source, make_poller, worker)
    assert doc.ack_due_at == T0 + dt.timedelta(hours=24)
    now = [T0 + dt.timedelta(hours=23, minutes=59)]
    monitor = OverdueMonitor(store, interval=60, alerts=alerts, clock=lambda: now[0])

    assert await monitor.check_once() == []
    now[0] = T0 + dt.timedelta(hours=24, seconds=1)
    (marked,) = await monitor.check_once()
    assert await monitor.check_once() == []  # once

    assert marked.id == doc.id and marked.state == State.OVERDUE
    last = (await store.events(doc.id))[-1]
    assert (last.state, last.detail["ack_due_at"]) == (State.OVERDUE, doc.ack_due_at.isoformat())
    (alert,) = webhook.alerts()
    assert (alert["event"], alert["document_id"], alert["state"]) == ("overdue", doc.id, "overdue")
    assert "no 997/999 by" in alert["message"]

    await receiver(bigbox_997(doc, isa13="000000503", body="AK5*A"), partner_id=None, channel="as2")
    await worker.run_once()
    settled = await store.get(doc.id)
    assert settled is not None and settled.state == State.ACCEPTED
    states = [e.state for e in await store.events(doc.id) if e.kind == "state"]
    assert states == [State.QUEUED, State.SENT, State.OVERDUE, State.ACCEPTED]


async def test_documents_without_a_deadline_never_go_overdue(
    store: Store, receiver: PipelineReceiver, worker: Worker, alerts: WebhookAlerts
) -> None:
    await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()
    (reply,) = await store.search(DocumentQuery(doc_type="999"))
    assert reply.state == State.SENT and reply.ack_due_at is None

    far = OverdueMonitor(store, interval=60, clock=lambda: T0 + dt.timedelta(days=3650))
    overdue = await far.check_once()
    assert [d.doc_type for d in overdue] == ["855"]  # the 855 has a deadline, the 999 none
