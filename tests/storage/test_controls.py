from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from gateway.errors import UsageError
from gateway.storage import Store
from gateway.storage.engine import create_engine
from gateway.storage.schema import control_counters
from gateway.x12.control import MAX_CONTROL_NUMBER, ControlNumbersExhaustedError

if TYPE_CHECKING:
    from pathlib import Path


async def test_counters_start_at_one_per_scope_and_kind(store: Store) -> None:
    assert await store.next_controls("ZZ:US/ZZ:ACME", "interchange") == 1
    assert await store.next_controls("ZZ:US/ZZ:ACME", "interchange") == 2
    assert await store.next_controls("ZZ:US/ZZ:ACME", "group", 10) == 1
    assert await store.next_controls("ZZ:US/ZZ:ACME", "group") == 11
    assert await store.next_controls("ZZ:US/ZZ:GLOBEX", "interchange") == 1
    assert await store.next_controls("ZZ:US/ZZ:ACME", "set", 3) == 1


async def test_unit_controls_roll_back_with_the_unit(store: Store) -> None:
    async with store.unit() as unit:
        assert await unit.next_controls("s", "set", 5) == 1

    async def failing_send() -> None:
        async with store.unit() as unit:
            assert await unit.next_controls("s", "set", 5) == 6
            raise RuntimeError("send failed")

    with pytest.raises(RuntimeError):
        await failing_send()
    assert await store.next_controls("s", "set") == 6


async def test_bad_arguments(store: Store) -> None:
    with pytest.raises(UsageError):
        await store.next_controls("s", "set", 0)
    with pytest.raises(UsageError):
        await store.next_controls("s", "bogus")  # type: ignore[arg-type]


async def test_exhaustion_raises_and_leaves_the_counter(store: Store, database_url: str) -> None:
    assert await store.next_controls("s", "interchange", MAX_CONTROL_NUMBER - 2) == 1
    assert await store.next_controls("s", "interchange", 2) == MAX_CONTROL_NUMBER - 1
    with pytest.raises(ControlNumbersExhaustedError) as excinfo:
        await store.next_controls("s", "interchange")
    assert excinfo.value.scope == "s" and excinfo.value.kind == "interchange"
    with pytest.raises(ControlNumbersExhaustedError):
        await store.next_controls("fresh", "group", MAX_CONTROL_NUMBER + 1)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(control_counters))).all()
    finally:
        await engine.dispose()
    assert [(r.scope, r.kind, r.last) for r in rows] == [("s", "interchange", MAX_CONTROL_NUMBER)]


async def test_concurrent_reservations_are_unique(
    store: Store, database_url: str, data_dir: Path
) -> None:
    other = await Store.open(database_url, data_dir=data_dir)
    got: list[int] = []

    async def take(on: Store) -> None:
        for _ in range(50):
            got.append(await on.next_controls("ZZ:US/ZZ:ACME", "interchange"))

    try:
        await asyncio.gather(*(take(store if i % 2 else other) for i in range(20)))
    finally:
        await other.close()
    assert sorted(got) == list(range(1, 1001))


async def test_concurrent_ranges_do_not_overlap(store: Store) -> None:
    async def take() -> range:
        first = await store.next_controls("scope", "set", 7)
        return range(first, first + 7)

    ranges = await asyncio.gather(*(take() for _ in range(30)))
    numbers = sorted(n for r in ranges for n in r)
    assert numbers == list(range(1, 211))


async def test_several_counters_in_one_reservation(store: Store) -> None:
    assert await store.next_controls("a", "set", 4) == 1
    firsts = await store.next_controls_many(
        {("a", "interchange"): 1, ("a", "group"): 2, ("a", "set"): 3, ("b", "set"): 1}
    )
    assert firsts == {("a", "interchange"): 1, ("a", "group"): 1, ("a", "set"): 5, ("b", "set"): 1}
    assert await store.next_controls("a", "set") == 8
    assert await store.next_controls_many({}) == {}
    with pytest.raises(UsageError):
        await store.next_controls_many({("a", "set"): 1, ("a", "bogus"): 1})  # type: ignore[dict-item]


async def test_an_exhausted_counter_moves_none_of_the_others(store: Store) -> None:
    await store.next_controls("s", "interchange", MAX_CONTROL_NUMBER)
    with pytest.raises(ControlNumbersExhaustedError) as excinfo:
        await store.next_controls_many({("s", "interchange"): 1, ("s", "group"): 1})
    assert excinfo.value.kind == "interchange"
    assert await store.next_controls("s", "group") == 1  # rolled back with the failure


async def test_concurrent_multi_reservations_are_unique(
    store: Store, database_url: str, data_dir: Path
) -> None:
    other = await Store.open(database_url, data_dir=data_dir)
    got: list[tuple[int, int]] = []

    async def take(on: Store) -> None:
        for _ in range(20):
            firsts = await on.next_controls_many({("p", "interchange"): 1, ("p", "set"): 2})
            got.append((firsts["p", "interchange"], firsts["p", "set"]))

    try:
        await asyncio.gather(*(take(store if i % 2 else other) for i in range(10)))
    finally:
        await other.close()
    assert sorted(i for i, _ in got) == list(range(1, 201))
    assert sorted(s for _, s in got) == list(range(1, 400, 2))
