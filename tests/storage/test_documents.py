from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.settings import Settings
from gateway.storage import Controls, DocumentQuery, NewDocument, State, Store
from gateway.storage.migrate import upgrade

if TYPE_CHECKING:
    from pathlib import Path

UTC = dt.UTC


async def _receive(store: Store, data: bytes = b"ISA*00~", **kwargs: object) -> int:
    kwargs.setdefault("partner_id", "acme")
    kwargs.setdefault("channel", "http")
    record = await store.receive(data, **kwargs)  # type: ignore[arg-type]
    return record.id


async def test_receive_stores_payload_row_and_first_event(store: Store) -> None:
    before = dt.datetime.now(UTC)
    controls = Controls(sender_id="ZZ:ACME", receiver_id="ZZ:US", interchange_control="000000042")
    record = await store.receive(
        b"ISA*payload~",
        partner_id="acme",
        channel="sftp",
        filename="in.x12",
        controls=controls,
        detail={"remote": "/in/in.x12"},
    )
    assert record.state is State.RECEIVED
    assert (record.direction, record.doc_type, record.format) == ("in", "interchange", "x12")
    assert record.size == len(b"ISA*payload~") and record.filename == "in.x12"
    assert record.controls == controls
    assert record.attempts == 0 and record.lease_owner is None and record.parent_id is None
    assert record.created_at.tzinfo is not None and record.created_at >= before
    assert await store.get(record.id) == record
    assert await store.get_payload(record.payload_sha256) == b"ISA*payload~"

    [event] = await store.events(record.id)
    assert (event.kind, event.state, event.message) == ("state", State.RECEIVED, "received")
    assert event.detail == {"remote": "/in/in.x12"} and event.at.tzinfo is not None


async def test_get_unknown_document_is_none(store: Store) -> None:
    assert await store.get(12345) is None
    assert await store.events(12345) == []
    assert await store.children(12345) == []


async def test_unit_adds_children_changes_state_and_writes_events(store: Store) -> None:
    file_id = await _receive(store)
    async with store.unit() as unit:
        sha = await store.put_payload(b"ST*850*0001~")
        set_id = await unit.add_document(
            direction="in",
            partner_id="acme",
            channel="http",
            doc_type="850",
            format="x12",
            state=State.PARSED,
            payload_sha256=sha,
            size=12,
            message="split from the file",
            parent_id=file_id,
            controls=Controls(transaction_control="0001", group_control="7"),
            detail={"set": 1},
        )
        await unit.set_canonical(set_id, {"po_number": "PO-1"}, "PO-1")
        await unit.event(set_id, "ack", "997 accepted", {"code": "A"})
        await unit.set_state(file_id, State.ACKNOWLEDGED, "acknowledged")

    [child] = await store.children(file_id)
    assert child.id == set_id and child.parent_id == file_id and child.state is State.PARSED
    assert child.canonical == {"po_number": "PO-1"} and child.business_key == "PO-1"
    assert child.controls.transaction_control == "0001"
    assert await store.get_payload(child.payload_sha256) == b"ST*850*0001~"
    events = await store.events(set_id)
    assert [(e.kind, e.state, e.message) for e in events] == [
        ("state", State.PARSED, "split from the file"),
        ("ack", None, "997 accepted"),
    ]
    assert events[0].detail == {"set": 1} and events[1].detail == {"code": "A"}
    file = await store.get(file_id)
    assert file is not None and file.state is State.ACKNOWLEDGED
    assert [e.state for e in await store.events(file_id)] == [State.RECEIVED, State.ACKNOWLEDGED]


async def test_unit_rolls_back_on_error(store: Store) -> None:
    file_id = await _receive(store)

    async def failing() -> None:
        async with store.unit() as unit:
            await unit.set_state(file_id, State.FAILED, "failing")
            await unit.event(file_id, "note", "never written")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing()
    file = await store.get(file_id)
    assert file is not None and file.state is State.RECEIVED
    assert len(await store.events(file_id)) == 1


async def test_set_state_options(store: Store) -> None:
    doc_id = await _receive(store)
    [claimed] = await store.claim(worker="w1")
    assert claimed.attempts == 1 and claimed.lease_owner == "w1"
    retry_at = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
    async with store.unit() as unit:
        await unit.set_state(
            doc_id, State.RECEIVED, "retrying", error="timeout", retry_at=retry_at, release=False
        )
    doc = await store.get(doc_id)
    assert doc is not None
    assert doc.last_error == "timeout" and doc.lease_owner == "w1"
    assert doc.next_attempt_at is not None and abs(doc.next_attempt_at - retry_at) < dt.timedelta(
        milliseconds=1
    )
    async with store.unit() as unit:
        await unit.set_state(doc_id, State.RECEIVED, "reprocess", reset_attempts=True)
    doc = await store.get(doc_id)
    assert doc is not None
    assert doc.attempts == 0 and doc.lease_owner is None and doc.lease_expires_at is None
    assert doc.next_attempt_at is None and doc.last_error == "timeout"  # error=None leaves it


async def test_set_state_of_unknown_document_raises(store: Store) -> None:
    with pytest.raises(KeyError):
        async with store.unit() as unit:
            await unit.set_state(999, State.FAILED, "nope")


async def test_search_filters(store: Store) -> None:
    a = await _receive(store, b"a", controls=Controls(interchange_control="000000001"))
    b = await _receive(store, b"b", partner_id="globex", business_key="PO-9")
    c = await store.receive(
        b"c",
        partner_id="acme",
        channel="http",
        direction="out",
        doc_type="997",
        state=State.QUEUED,
        parent_id=a,
        controls=Controls(group_control="55", transaction_control="0007"),
    )

    async def ids(**kwargs: object) -> list[int]:
        return [d.id for d in await store.search(DocumentQuery(**kwargs))]  # type: ignore[arg-type]

    assert await ids() == [c.id, b, a]  # newest first
    assert await ids(partner_id="acme") == [c.id, a]
    assert await ids(direction="out") == [c.id]
    assert await ids(doc_type="interchange") == [b, a]
    assert await ids(state=State.QUEUED) == [c.id]
    assert await ids(control_number="000000001") == [a]
    assert await ids(control_number="55") == [c.id]
    assert await ids(control_number="0007") == [c.id]
    assert await ids(business_key="PO-9") == [b]
    assert await ids(parent_id=a) == [c.id]
    assert await ids(limit=2) == [c.id, b]
    assert await ids(before_id=c.id, limit=1) == [b]
    assert await ids(partner_id="acme", direction="in") == [a]
    now = dt.datetime.now(UTC)
    assert await ids(since=now) == []
    assert await ids(until=now) == [c.id, b, a]
    assert await ids(since=now - dt.timedelta(hours=1), until=now) == [c.id, b, a]


async def test_counts_and_queue_depth(store: Store) -> None:
    first = await _receive(store, b"1")
    await _receive(store, b"2")
    await _receive(store, b"3", partner_id=None)
    async with store.unit() as unit:
        await unit.set_state(first, State.DELIVERED, "done")
    assert await store.count_by_state() == {
        ("acme", "in", "delivered"): 1,
        ("acme", "in", "received"): 1,
        (None, "in", "received"): 1,
    }
    assert await store.queue_depth() == 2
    later = dt.datetime.now(UTC) + dt.timedelta(hours=1)
    async with store.unit() as unit:
        await unit.set_state(first + 1, State.RECEIVED, "later", retry_at=later)
    assert await store.queue_depth() == 1


async def test_find_interchange(store: Store) -> None:
    controls = Controls(sender_id="ZZ:ACME", interchange_control="000000007")
    first = await _receive(store, b"1", controls=controls)
    second = await _receive(store, b"2", controls=controls)
    since = dt.datetime.now(UTC) - dt.timedelta(days=30)

    async def find(**kwargs: object) -> int | None:
        args: dict[str, object] = {
            "partner_id": "acme",
            "sender_id": "ZZ:ACME",
            "interchange_control": "000000007",
            "since": since,
            "exclude_id": second,
        }
        found = await store.find_interchange(**(args | kwargs))  # type: ignore[arg-type]
        return found.id if found is not None else None

    assert await find() == first
    # only an earlier (lower id) interchange is the original: the first has none
    assert await find(exclude_id=first) is None
    assert await find(interchange_control="000000008") is None
    assert await find(sender_id="ZZ:OTHER") is None
    assert await find(partner_id="globex") is None
    assert await find(since=dt.datetime.now(UTC) + dt.timedelta(seconds=1)) is None
    async with store.unit() as unit:
        await unit.set_state(first, State.DUPLICATE, "duplicate")
    assert await find() is None


async def test_payloads_in_db(database_url: str, data_dir: Path) -> None:
    await upgrade(database_url)
    store = await Store.open(database_url, data_dir=data_dir, payloads_in_db=True)
    try:
        sha = await store.put_payload(b"kept in the database")
        record = await store.receive(b"received into the database", partner_id=None, channel="x")
        assert await store.get_payload(sha) == b"kept in the database"
        assert await store.get_payload(record.payload_sha256) == b"received into the database"
        with pytest.raises(KeyError):
            await store.get_payload("0" * 64)
    finally:
        await store.close()
    assert not (data_dir / "payloads").exists()


async def test_settings_choose_where_payloads_go(
    database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    """``payloads: database``: a process on another machine (another data dir) reads them."""
    await upgrade(database_url)
    here = Settings(database_url=database_url, data_dir=data_dir, payloads="database")
    there = here.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    receiving = await Store.from_settings(here)
    reading = await Store.from_settings(there)
    try:
        record = await receiving.receive(b"ISA from far away", partner_id=None, channel="http")
        assert await reading.get_payload(record.payload_sha256) == b"ISA from far away"
    finally:
        await receiving.close()
        await reading.close()
    assert not (data_dir / "payloads").exists()
    files = await Store.from_settings(here.model_copy(update={"payloads": "files"}))
    try:
        record = await files.receive(b"ISA kept on disk", partner_id=None, channel="http")
    finally:
        await files.close()
    assert (data_dir / "payloads").is_dir() and files.payload_dir == data_dir / "payloads"


async def test_two_stores_on_one_database_see_each_other(
    store: Store, database_url: str, data_dir: Path
) -> None:
    other = await Store.open(database_url, data_dir=data_dir)
    try:
        doc_id = await _receive(other)
        async with store.unit() as unit:
            await unit.set_state(doc_id, State.PARSED, "parsed by the first store")
        doc = await other.get(doc_id)
        assert doc is not None and doc.state is State.PARSED
    finally:
        await other.close()


async def test_bulk_add_documents_and_set_states(store: Store) -> None:
    file_id = await _receive(store)
    async with store.unit() as unit:
        shas = await store.put_payloads([b"ST*1~", b"ST*2~", b"ST*3~"])
        ids = await unit.add_documents(
            [
                NewDocument(
                    direction="in",
                    partner_id="acme",
                    channel="http",
                    doc_type="850",
                    format="x12",
                    state=State.PARSED,
                    payload_sha256=sha,
                    size=5,
                    message=f"set {n}",
                    parent_id=file_id,
                    controls=Controls(transaction_control=f"000{n}"),
                    detail={"n": n},
                )
                for n, sha in enumerate(shas, 1)
            ]
        )
        assert await unit.add_documents([]) == []
        await unit.set_states(ids[:2], State.MAPPED, "mapped", detail={"bulk": True})
    children = await store.children(file_id)
    assert [c.id for c in children] == ids
    assert [c.controls.transaction_control for c in children] == ["0001", "0002", "0003"]
    assert [c.state for c in children] == [State.MAPPED, State.MAPPED, State.PARSED]
    assert [await store.get_payload(c.payload_sha256) for c in children] == [
        b"ST*1~",
        b"ST*2~",
        b"ST*3~",
    ]
    events = await store.events(ids[0])
    assert [(e.state, e.message, e.detail) for e in events] == [
        (State.PARSED, "set 1", {"n": 1}),
        (State.MAPPED, "mapped", {"bulk": True}),
    ]
    with pytest.raises(KeyError):
        async with store.unit() as unit:
            await unit.set_states([ids[2], 99999], State.MAPPED, "mapped")
    third = await store.get(ids[2])
    assert third is not None and third.state is State.PARSED
