from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.storage import LeaseLostError, State, Store

if TYPE_CHECKING:
    from pathlib import Path

UTC = dt.UTC


async def _docs(store: Store, count: int, **kwargs: object) -> list[int]:
    ids = []
    for i in range(count):
        record = await store.receive(
            f"doc {i}".encode(),
            partner_id="acme",
            channel="http",
            **kwargs,  # type: ignore[arg-type]
        )
        ids.append(record.id)
    return ids


async def test_claim_takes_oldest_first_and_leases(store: Store) -> None:
    ids = await _docs(store, 5)
    before = dt.datetime.now(UTC)
    claimed = await store.claim(worker="w1", limit=3, lease_seconds=30)
    assert [d.id for d in claimed] == ids[:3]
    for doc in claimed:
        assert doc.lease_owner == "w1" and doc.attempts == 1
        assert doc.lease_expires_at is not None
        assert doc.lease_expires_at >= before + dt.timedelta(seconds=29)
    # leased documents are not handed out again, even to the same worker
    assert [d.id for d in await store.claim(worker="w2")] == ids[3:]
    assert await store.claim(worker="w1") == []
    stored = await store.get(ids[0])
    assert stored is not None and stored.lease_owner == "w1" and stored.attempts == 1


async def test_claim_filters_by_state_and_doc_type(store: Store) -> None:
    [inbound] = await _docs(store, 1)
    [ack] = await _docs(store, 1, direction="out", doc_type="997", state=State.QUEUED)
    [done] = await _docs(store, 1, state=State.DELIVERED)
    assert [d.id for d in await store.claim(worker="w", states=[State.QUEUED])] == [ack]
    assert await store.claim(worker="w", doc_types=["810"]) == []
    assert [d.id for d in await store.claim(worker="w", doc_types=["interchange"])] == [inbound]
    assert [d.id for d in await store.claim(worker="w", states=[State.DELIVERED])] == [done]


async def test_expired_lease_is_claimable_again(store: Store) -> None:
    [doc_id] = await _docs(store, 1)
    [first] = await store.claim(worker="dead", lease_seconds=0.2)
    assert first.attempts == 1
    assert await store.claim(worker="alive") == []
    await asyncio.sleep(0.3)
    [again] = await store.claim(worker="alive")
    assert again.id == doc_id and again.lease_owner == "alive" and again.attempts == 2


async def test_next_attempt_at_is_respected(store: Store) -> None:
    [soon, later] = await _docs(store, 2)
    now = dt.datetime.now(UTC)
    async with store.unit() as unit:
        await unit.set_state(
            soon, State.RECEIVED, "retry", retry_at=now + dt.timedelta(seconds=0.3)
        )
        await unit.set_state(later, State.RECEIVED, "retry", retry_at=now + dt.timedelta(hours=1))
    assert await store.claim(worker="w") == []
    await asyncio.sleep(0.4)
    assert [d.id for d in await store.claim(worker="w")] == [soon]


async def test_release_drops_only_the_workers_leases(store: Store) -> None:
    ids = await _docs(store, 4)
    await store.claim(worker="w1", limit=3)
    await store.claim(worker="w2", limit=1)
    assert await store.release("w1", [ids[0]]) == 1
    assert await store.release("w1", [ids[3]]) == 0  # w2's
    assert [d.id for d in await store.claim(worker="w3")] == [ids[0]]
    assert await store.release("w1") == 2
    assert [d.id for d in await store.claim(worker="w3")] == ids[1:3]
    doc = await store.get(ids[1])
    assert doc is not None and doc.attempts == 2


async def test_concurrent_claimers_never_share_a_document(store: Store) -> None:
    ids = await _docs(store, 120)
    seen: list[int] = []

    async def worker(name: str) -> None:
        while batch := await store.claim(worker=name, limit=7):
            seen.extend(d.id for d in batch)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(f"w{i}") for i in range(8)))
    assert sorted(seen) == ids  # each exactly once


async def test_claimers_on_two_engines_never_share_a_document(
    store: Store, database_url: str, data_dir: Path
) -> None:
    ids = await _docs(store, 150)
    other = await Store.open(database_url, data_dir=data_dir)
    seen: dict[str, list[int]] = {}

    async def worker(on: Store, name: str) -> None:
        mine = seen.setdefault(name, [])
        while batch := await on.claim(worker=name, limit=5):
            mine.extend(d.id for d in batch)

    try:
        await asyncio.gather(
            *(worker(s, f"{n}-{i}") for i in range(5) for n, s in (("a", store), ("b", other)))
        )
    finally:
        await other.close()
    every = [doc_id for got in seen.values() for doc_id in got]
    assert sorted(every) == ids
    assert any(got for name, got in seen.items() if name.startswith("b"))


async def test_a_unit_of_a_worker_whose_claim_was_taken_over_rolls_back(store: Store) -> None:
    [doc_id] = await _docs(store, 1)
    [mine] = await store.claim(worker="slow", lease_seconds=0)  # expires at once
    [theirs] = await store.claim(worker="fast", lease_seconds=30)
    assert mine.id == theirs.id == doc_id
    with pytest.raises(LeaseLostError) as caught:
        async with store.unit(owner="slow", fence=[doc_id]) as unit:
            child = await unit.add_document(
                direction="in",
                partner_id="acme",
                channel="http",
                doc_type="850",
                format="x12",
                state=State.MAPPED,
                payload_sha256=mine.payload_sha256,
                size=mine.size,
                message="split",
                parent_id=doc_id,
            )
            await unit.set_state(child, State.MAPPED, "documents outside the fence are not fenced")
            await unit.set_state(doc_id, State.ACKNOWLEDGED, "too late")
    assert caught.value.doc_id == doc_id and "taken over" in str(caught.value)
    assert await store.children(doc_id) == []  # the child went with the rollback
    still = await store.get(doc_id)
    assert still is not None and still.state is State.RECEIVED and still.lease_owner == "fast"
    # A finished document (state moved on, lease released) is still fenced: the slow
    # worker must not commit a second copy of the work on top of it.
    async with store.unit(owner="fast", fence=[doc_id]) as unit:
        await unit.set_state(doc_id, State.ACKNOWLEDGED, "fast is done")
    with pytest.raises(LeaseLostError):
        async with store.unit(owner="slow", fence=[doc_id]) as unit:
            await unit.set_state(doc_id, State.ACKNOWLEDGED, "slow is done too")
    async with store.unit() as unit:  # back to received for the rest of the test
        await unit.set_state(doc_id, State.RECEIVED, "again")
    await store.claim(worker="fast", lease_seconds=30)
    # The new owner commits; a unit without owner (an admin's) is not fenced at all.
    async with store.unit(owner="fast", fence=[doc_id]) as unit:
        await unit.set_states([doc_id], State.ACKNOWLEDGED, "done")
    async with store.unit() as unit:
        await unit.set_state(doc_id, State.RECEIVED, "reprocess", reset_attempts=True)
    with_owner_gone = await store.get(doc_id)
    assert with_owner_gone is not None and with_owner_gone.state is State.RECEIVED


async def test_set_states_is_fenced_too(store: Store) -> None:
    ids = await _docs(store, 2)
    await store.claim(worker="w1", lease_seconds=30)
    await store.release("w1", [ids[1]])
    with pytest.raises(LeaseLostError) as caught:
        async with store.unit(owner="w1", fence=ids) as unit:
            await unit.set_states(ids, State.ACKNOWLEDGED, "both")
    assert caught.value.doc_id == ids[1]
    first = await store.get(ids[0])
    assert first is not None and first.state is State.RECEIVED
