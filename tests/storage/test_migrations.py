from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.storage import SchemaOutOfDateError, Store
from gateway.storage.engine import create_engine
from gateway.storage.migrate import head_revision, status, upgrade
from gateway.storage.schema import metadata

if TYPE_CHECKING:
    from pathlib import Path


async def test_fresh_database_upgrades_to_head(database_url: str) -> None:
    before = await status(database_url)
    assert before.current is None and not before.up_to_date

    applied = await upgrade(database_url)
    assert applied[0] == "0001" and applied[-1] == head_revision()  # every revision, oldest first
    assert len(set(applied)) == len(applied)

    after = await status(database_url)
    assert after.current == head_revision() == after.head and after.up_to_date
    assert await upgrade(database_url) == []  # idempotent


async def test_migrated_schema_matches_the_metadata(database_url: str) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn: sa.Connection) -> list[object]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            differences = await conn.run_sync(diff)
            tables = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert differences == []
    assert set(metadata.tables) <= tables


async def test_open_refuses_an_empty_database(database_url: str, data_dir: Path) -> None:
    with pytest.raises(SchemaOutOfDateError) as excinfo:
        await Store.open(database_url, data_dir=data_dir)
    message = str(excinfo.value)
    assert "o2c db upgrade" in message
    assert f"code needs {head_revision()}" in message
    assert "empty database" in message


async def test_open_without_the_check_connects(database_url: str, data_dir: Path) -> None:
    store = await Store.open(database_url, data_dir=data_dir, check_schema=False)
    try:
        assert store.dialect in {"sqlite", "postgresql"}
        assert database_url.startswith(store.dialect)
    finally:
        await store.close()
