"""X12 files through receiver and worker: sets, acks, duplicates, reprocessing.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.pipeline.reprocessing import reprocess
from gateway.storage import DocumentQuery, State
from tests.pipeline.files import NORTHWIND_850, bigbox_850s, with_sender

if TYPE_CHECKING:
    from adapters.erp_basic import MemoryErp
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import DocumentRecord, Store
    from tests.pipeline.conftest import RecordingTransport, Webhook


async def _states(store: Store, doc_id: int) -> list[str]:
    return [str(e.state) for e in await store.events(doc_id) if e.kind == "state"]


async def _split(store: Store, file_id: int) -> tuple[list[DocumentRecord], list[DocumentRecord]]:
    children = await store.children(file_id)
    sets = [c for c in children if c.direction == "in"]
    acks = [c for c in children if c.direction == "out"]
    return sets, acks


async def test_850_with_one_bad_set_of_three(
    store: Store,
    receiver: PipelineReceiver,
    worker: Worker,
    erp: MemoryErp,
    transport: RecordingTransport,
) -> None:
    data = bigbox_850s(["PO-1", "PO-2", "PO-3"], bad=frozenset({1}))
    file = await receiver(data, partner_id=None, channel="as2", filename="three.x12")
    assert file.partner_id == "bigbox"  # from the ISA sender
    assert file.state == State.RECEIVED and file.doc_type == "interchange"
    assert file.controls.interchange_control == "000004711"

    assert await worker.run_once() >= 1 + 2 + 1  # file, two good sets, the 997

    file = await store.get(file.id)  # type: ignore[assignment]
    assert file is not None and file.state == State.ACKNOWLEDGED
    assert await _states(store, file.id) == ["received", "acknowledged"]
    sets, acks = await _split(store, file.id)
    by_control = {s.controls.transaction_control: s for s in sets}
    assert sorted(by_control) == ["0001", "0002", "0003"]
    assert all(s.doc_type == "850" and s.parent_id == file.id for s in sets)

    # the good sets: parsed, acknowledged, mapped, delivered to the ERP
    for control, po in (("0001", "PO-1"), ("0003", "PO-3")):
        good = by_control[control]
        assert good.state == State.DELIVERED
        assert good.business_key == po
        assert good.canonical is not None and good.canonical["po_number"] == po
        assert await _states(store, good.id) == [
            "parsed",
            "acknowledged",
            "mapped",
            "delivered",
        ]
        last = (await store.events(good.id))[-1]
        assert "delivered to ERP memory" in last.message and "created" in last.message
    assert sorted(po for _, po in erp.orders) == ["PO-1", "PO-3"]
    assert all(partner == "bigbox" for partner, _ in erp.orders)

    # the bad set: rejected with the reason, in its timeline
    bad = by_control["0002"]
    assert bad.state == State.REJECTED
    assert await _states(store, bad.id) == ["parsed", "rejected"]
    assert bad.last_error is not None and "BEG" in bad.last_error
    rejected = (await store.events(bad.id))[-1]
    assert "rejected in the 997" in rejected.message
    assert rejected.detail["errors"] and rejected.detail["errors"][0]["code"]

    # one 997, queued then sent on BigBox's outbound channel, AK5 R for set 0002
    assert [a.doc_type for a in acks] == ["997"]
    ack = acks[0]
    assert ack.state == State.SENT and ack.partner_id == "bigbox" and ack.channel == "as2"
    assert await _states(store, ack.id) == ["queued", "sent"]
    text = (await store.get_payload(ack.payload_sha256)).decode("ascii")
    assert "AK1*PO*4711~" in text
    assert "AK2*850*0001~\nAK5*A~" in text
    assert "AK2*850*0003~\nAK5*A~" in text
    assert "AK2*850*0002~\nAK3*BEG*2**8~" in text and "AK5*R*5~" in text
    assert "AK9*P*3*3*2~" in text
    assert text.startswith("ISA*00*          *00*          *ZZ*O2CGATEWAY     *12*5555550100")
    assert ack.controls.interchange_control == text[90:99]

    assert len(transport.sent) == 1
    sent = transport.sent[0]
    assert sent.partner_id == "bigbox" and sent.kind == "as2"
    assert sent.data.decode("ascii") == text
    assert sent.filename == f"bigbox-997-{ack.id}-{ack.controls.interchange_control}.x12"


async def test_ack_control_numbers_are_never_reused(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    first = await receiver(bigbox_850s(["A-1"]), partner_id=None, channel="as2")
    second = await receiver(bigbox_850s(["A-2"], isa13="000004712"), partner_id=None, channel="as2")
    await worker.run_once()
    controls = []
    for file in (first, second):
        _, acks = await _split(store, file.id)
        controls.append(acks[0].controls.interchange_control)
    assert controls[0] != controls[1]
    assert int(controls[1]) == int(controls[0]) + 1


async def test_duplicate_interchange_is_flagged_not_processed_and_alerted(
    store: Store,
    receiver: PipelineReceiver,
    worker: Worker,
    erp: MemoryErp,
    webhook: Webhook,
) -> None:
    data = bigbox_850s(["DUP-1"])
    original = await receiver(data, partner_id=None, channel="as2")
    await worker.run_once()
    again = await receiver(data, partner_id=None, channel="as2")
    await worker.run_once()

    again = await store.get(again.id)  # type: ignore[assignment]
    assert again is not None and again.state == State.DUPLICATE
    events = await store.events(again.id)
    assert any(e.kind == "duplicate" for e in events)
    assert f"duplicate of document #{original.id}" in events[-1].message
    assert await store.children(again.id) == []  # nothing processed, no ack
    assert erp.pushes == 1

    alerts = webhook.alerts()  # checks the HMAC of each
    assert [a["event"] for a in alerts] == ["duplicate"]
    alert = alerts[0]
    assert alert["document_id"] == again.id and alert["partner_id"] == "bigbox"
    assert alert["state"] == "duplicate" and "duplicate of document" in alert["message"]
    assert alert["at"]


async def test_forced_reprocess_of_a_duplicate_delivers_nothing_twice(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    data = bigbox_850s(["FORCE-1"])
    await receiver(data, partner_id=None, channel="as2")
    await worker.run_once()
    dup = await receiver(data, partner_id=None, channel="as2")
    await worker.run_once()
    assert (await store.get(dup.id)).state == State.DUPLICATE  # type: ignore[union-attr]

    back = await reprocess(store, dup.id, "admin", force=True)
    assert back.state == State.RECEIVED and back.attempts == 0
    await worker.run_once()

    dup = await store.get(dup.id)  # type: ignore[assignment]
    assert dup is not None and dup.state == State.ACKNOWLEDGED
    sets, _ = await _split(store, dup.id)
    assert len(sets) == 1 and sets[0].state == State.DELIVERED
    assert "already there, not created again" in (await store.events(sets[0].id))[-1].message
    assert len(erp.orders) == 1 and erp.pushes == 2
    reprocess_event = next(e for e in await store.events(dup.id) if e.kind == "reprocess")
    assert reprocess_event.detail["force"] is True
    audit = await store.audit_log()
    assert any(a["action"] == "reprocess" and a["actor"] == "admin" for a in audit)


async def test_reprocessing_a_file_reuses_its_children(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    file = await receiver(
        bigbox_850s(["RE-1", "RE-2"], bad=frozenset({1})), partner_id=None, channel="as2"
    )
    await worker.run_once()
    sets_before, acks_before = await _split(store, file.id)

    await reprocess(store, file.id, "operator")
    await worker.run_once()

    sets_after, acks_after = await _split(store, file.id)
    assert [s.id for s in sets_after] == [s.id for s in sets_before]
    assert [a.id for a in acks_after] == [a.id for a in acks_before]  # no second 997
    states = {s.controls.transaction_control: s.state for s in sets_after}
    assert states == {"0001": State.DELIVERED, "0002": State.REJECTED}
    delivered = next(s for s in sets_after if s.state == State.DELIVERED)
    assert "already delivered, left as it is" in (await store.events(delivered.id))[-1].message
    assert erp.pushes == 1
    assert (await store.get(file.id)).state == State.ACKNOWLEDGED  # type: ignore[union-attr]


async def test_999_and_ta1_for_a_005010_partner(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    file = await receiver(NORTHWIND_850, partner_id="northwind", channel="sftp_hosted")
    await worker.run_once()
    sets, acks = await _split(store, file.id)
    assert [s.state for s in sets] == [State.DELIVERED]
    assert sets[0].business_key == "NW-PO-88213"
    assert ("northwind", "NW-PO-88213") in erp.orders
    # northwind's profile: a 999 for its 850s and a TA1 for every interchange, both in
    # one reply interchange (the TA1 before the functional group, as X12.5 orders them)
    assert [a.doc_type for a in acks] == ["999"]
    text = (await store.get_payload(acks[0].payload_sha256)).decode()
    assert "ST|999|" in text and "|005010X231A1~" in text
    assert "IK5|A~" in text and "AK9|A|1|1|1~" in text
    assert "TA1|000000312|240402|1415|A|000~" in text
    assert text.index("TA1|") < text.index("GS|FA|")
    assert acks[0].state == State.SENT


async def test_unknown_sender_is_rejected_without_a_reply(
    store: Store, receiver: PipelineReceiver, worker: Worker, transport: RecordingTransport
) -> None:
    data = with_sender(bigbox_850s(["X-1"]), "ZZ", "NOBODYWEKNOW")
    file = await receiver(data, partner_id=None, channel="http")
    assert file.partner_id is None
    await worker.run_once()
    file = await store.get(file.id)  # type: ignore[assignment]
    assert file is not None and file.state == State.REJECTED
    assert file.last_error is not None
    assert "no partner profile for ISA sender ZZ:NOBODYWEKNOW" in file.last_error
    assert await store.children(file.id) == []
    assert transport.sent == []


async def test_sender_must_belong_to_the_channel_partner(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    # northwind's SFTP account uploads a file that claims to come from BigBox
    file = await receiver(bigbox_850s(["SPOOF-1"]), partner_id="northwind", channel="sftp")
    await worker.run_once()
    file = await store.get(file.id)  # type: ignore[assignment]
    assert file is not None and file.state == State.REJECTED
    assert "is not an id of partner northwind" in (file.last_error or "")
    assert erp.orders == {}


async def test_a_997_from_the_partner_settles_our_outbound_document(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    from gateway.storage import Controls

    invoice = await store.receive(
        b"ISA...810...",
        partner_id="bigbox",
        channel="as2",
        doc_type="810",
        direction="out",
        state=State.SENT,
        controls=Controls(
            interchange_control="000000077", group_control="77", transaction_control="0001"
        ),
        message="sent",
    )
    ack = (
        b"ISA*00*          *00*          *12*5555550100     *ZZ*O2CGATEWAY     *240316*1000*U*"
        b"00401*000009001*0*P*>~\nGS*FA*5555550100*O2CGATEWAY*20240316*1000*9001*X*004010~\n"
        b"ST*997*0001~\nAK1*IN*77~\nAK2*810*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~\n"
        b"GE*1*9001~\nIEA*1*000009001~\n"
    )
    file = await receiver(ack, partner_id=None, channel="as2")
    await worker.run_once()
    sets, acks = await _split(store, file.id)
    assert acks == []  # acks are never acknowledged
    assert [s.doc_type for s in sets] == ["997"] and sets[0].state == State.DELIVERED
    assert "ack received: 997" in (await store.events(sets[0].id))[-1].message
    settled = await store.get(invoice.id)
    assert settled is not None and settled.state == State.ACCEPTED


async def test_search_finds_sets_by_po_number(
    store: Store, receiver: PipelineReceiver, worker: Worker
) -> None:
    await receiver(bigbox_850s(["FIND-ME", "OTHER"]), partner_id=None, channel="as2")
    await worker.run_once()
    found = await store.search(DocumentQuery(business_key="FIND-ME"))
    assert [d.doc_type for d in found] == ["850"]
    assert found[0].controls.transaction_control == "0001"


async def test_broken_x12_ends_rejected_never_a_crash(
    store: Store, receiver: PipelineReceiver, worker: Worker, erp: MemoryErp
) -> None:
    def good(n: int) -> bytes:
        return bigbox_850s(["BROKEN-1"], isa13=f"{n:09d}")

    broken = [
        good(1)[:200],  # cut in the middle of the first set
        good(2).replace(b"IEA*1*000000002", b"IEA*1*000009999"),  # IEA02 does not match
        good(3).replace(b"GS*PO*", b"GS*PO*\xff\xfe*"),
        b"ISA*00*" + bytes(range(256)) * 3,
        good(5)[:106],  # the ISA alone
    ]
    files = [await receiver(data, partner_id="bigbox", channel="as2") for data in broken]
    await worker.run_once()
    for file in files:
        done = await store.get(file.id)
        assert done is not None
        assert done.state in (State.REJECTED, State.ACKNOWLEDGED), done.last_error
        assert done.attempts == 1  # no retry: bad input is not a transient failure
    assert erp.orders == {}
    every = await store.search(DocumentQuery(limit=100))
    assert State.FAILED not in {d.state for d in every}  # bad input is never parked
    in_bad_envelope = [d for d in every if d.parent_id == files[1].id and d.direction == "in"]
    assert [d.state for d in in_bad_envelope] == [State.REJECTED]
    assert "IEA02 '000009999' does not match" in (in_bad_envelope[0].last_error or "")
    cut = await store.get(files[0].id)
    assert cut is not None and cut.state == State.REJECTED
