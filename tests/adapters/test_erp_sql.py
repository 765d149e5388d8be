"""The SQL staging connector against a real second database: a SQLite file and PostgreSQL.

The PostgreSQL case gets its own database ``o2c_stage_<random>`` on the test server
(``postgres_server`` of ``tests/support/db.py``: skipped when unreachable, failing
under ``CI=true``), dropped after. What was staged is read back with a plain engine of
the test's own, not through the connector. Orders come from BigBox's real 850 sample.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.erp_sql import SqlStagingErp, delivery_error, register, staging_tables
from gateway.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from gateway.model import LineItem, ProductId, PurchaseOrder
from gateway.partners import PartnerRegistry
from gateway.ports import AdapterRegistry, GatewayContext, load_adapters
from gateway.settings import Settings
from tests.support.orders import sample_order

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from tests.support.db import PostgresServer

SETTINGS = Settings()


@pytest.fixture(scope="module")
def bigbox_order() -> PurchaseOrder:
    return sample_order("bigbox")


@pytest.fixture(scope="module")
def partners() -> PartnerRegistry:
    return PartnerRegistry.load(SETTINGS.partners_dir)


@pytest.fixture
def order(bigbox_order: PurchaseOrder) -> PurchaseOrder:
    """BigBox's sample order with a PO number of its own."""
    return bigbox_order.model_copy(update={"po_number": f"T{uuid.uuid4().hex[:10].upper()}"})


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def stage_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty staging database (not the gateway's): a SQLite file or a PG database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'staging.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"o2c_stage_{secrets.token_hex(6)}"
    admin_dsn = server.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield server.url.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest_asyncio.fixture
async def reader(stage_url: str) -> AsyncIterator[Callable[[str], Any]]:
    """Runs a SQL query on the staging database with the test's own engine; returns rows."""
    engine = create_async_engine(stage_url)

    async def read(sql: str) -> list[Any]:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text(sql))).all())

    yield read
    await engine.dispose()


@pytest_asyncio.fixture
async def erp(stage_url: str, partners: PartnerRegistry) -> AsyncIterator[SqlStagingErp]:
    """A connector on the staging database, tables created."""
    connector = SqlStagingErp(create_async_engine(stage_url), partners=partners)
    await connector.create_tables()
    yield connector
    await connector.close()


async def count(reader: Any, table: str, where: str = "") -> int:
    (row,) = await reader(f"SELECT COUNT(*) FROM {table} {where}")
    return int(row[0])


async def test_an_order_and_its_lines_are_staged(
    erp: SqlStagingErp, reader: Any, order: PurchaseOrder
) -> None:
    result = await erp.push_order(order, partner_id="bigbox")

    assert result.created is True and result.status == "new"
    (row,) = await reader(
        "SELECT id, partner_id, po_number, po_date, currency, total, status, created_at"
        " FROM o2c_staged_orders"
    )
    assert str(row.id) == result.erp_order_id
    assert (row.partner_id, row.po_number, str(row.po_date)) == (
        "bigbox",
        order.po_number,
        "2024-03-15",
    )
    assert (row.currency, row.status) == ("USD", "new")
    # 12 × 23.40 + 8 × 41.00 + 24 × 5.25, exact (SQLite keeps it as text, not a float)
    assert Decimal(str(row.total)) == Decimal("734.80")
    assert row.created_at is not None
    (payload,) = await erp_payloads(erp)
    assert PurchaseOrder.model_validate(payload) == order
    lines = await reader(
        "SELECT order_id, position, line_number, sku, quantity, uom, unit_price, description"
        " FROM o2c_staged_order_lines ORDER BY position"
    )
    assert [(str(r.order_id), r.position, r.line_number) for r in lines] == [
        (result.erp_order_id, 1, "1"),
        (result.erp_order_id, 2, "2"),
        (result.erp_order_id, 3, "3"),
    ]
    # Our SKUs, through BigBox's item cross-reference (partners/bigbox/items.csv)
    assert [r.sku for r in lines] == ["MUG-16-SS", "SKILLET-10-CI", "SPATULA-SET-3"]
    assert [(Decimal(str(r.quantity)), r.uom, Decimal(str(r.unit_price))) for r in lines] == [
        (Decimal(12), "CA", Decimal("23.40")),
        (Decimal(8), "CA", Decimal("41.00")),
        (Decimal(24), "EA", Decimal("5.25")),
    ]
    assert lines[0].description == "STAINLESS TRAVEL MUG 16 OZ"


async def erp_payloads(erp: SqlStagingErp) -> list[Any]:
    async with erp.engine.connect() as conn:
        return list((await conn.execute(sa.select(erp.orders.c.payload))).scalars())


async def test_a_repeat_push_is_idempotent(
    erp: SqlStagingErp, reader: Any, order: PurchaseOrder
) -> None:
    first = await erp.push_order(order, partner_id="bigbox")
    again = await erp.push_order(order, partner_id="bigbox")
    other = await erp.push_order(order, partner_id="northwind")  # same PO, another partner

    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.erp_order_id == first.erp_order_id != other.erp_order_id
    assert await count(reader, "o2c_staged_orders") == 2
    assert await count(reader, "o2c_staged_order_lines") == 2 * len(order.lines)


async def test_a_repeat_answers_the_status_the_erp_set(
    erp: SqlStagingErp, reader: Any, order: PurchaseOrder
) -> None:
    first = await erp.push_order(order, partner_id="bigbox")
    async with erp.engine.begin() as conn:  # the ERP's job picked the order up
        await conn.execute(sa.text("UPDATE o2c_staged_orders SET status = 'imported'"))

    again = await erp.push_order(order, partner_id="bigbox")

    assert (again.erp_order_id, again.status, again.created) == (
        first.erp_order_id,
        "imported",
        False,
    )


async def test_a_failing_line_leaves_no_order_behind(
    stage_url: str, reader: Any, order: PurchaseOrder
) -> None:
    # The ERP team's tables refuse a line without a positive quantity.
    metadata, _, lines = staging_tables()
    lines.append_constraint(sa.CheckConstraint("quantity > 0", name="ck_line_quantity"))
    engine = create_async_engine(stage_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    erp = SqlStagingErp(engine)
    bad_line = LineItem(
        line_number="4", quantity=Decimal(0), product_ids=(ProductId(qualifier="VN", value="X"),)
    )
    try:
        with pytest.raises(PermanentDeliveryError, match="ck_line_quantity"):
            await erp.push_order(
                order.model_copy(update={"lines": (*order.lines, bad_line)}), partner_id="bigbox"
            )
        assert await count(reader, "o2c_staged_orders") == 0
        assert await count(reader, "o2c_staged_order_lines") == 0

        fixed = await erp.push_order(order, partner_id="bigbox")  # nothing half-staged in the way
        assert fixed.created is True
        assert await count(reader, "o2c_staged_order_lines") == len(order.lines)
    finally:
        await erp.close()


async def test_ten_concurrent_pushes_of_one_po_stage_it_once(
    stage_url: str, reader: Any, order: PurchaseOrder
) -> None:
    # Ten connectors, as ten workers would have: no lock in the process serializes them.
    erps = [SqlStagingErp(create_async_engine(stage_url)) for _ in range(10)]
    await erps[0].create_tables()
    try:
        results = await asyncio.gather(*(e.push_order(order, partner_id="bigbox") for e in erps))
    finally:
        for e in erps:
            await e.close()

    assert sum(r.created for r in results) == 1
    assert len({r.erp_order_id for r in results}) == 1
    assert await count(reader, "o2c_staged_orders") == 1
    assert await count(reader, "o2c_staged_order_lines") == len(order.lines)


async def test_missing_tables_are_permanent_and_unhealthy(
    stage_url: str, order: PurchaseOrder
) -> None:
    erp = SqlStagingErp(create_async_engine(stage_url))  # create_tables is the ERP team's job
    try:
        assert await erp.health() is False
        with pytest.raises(PermanentDeliveryError, match="o2c_staged_orders"):
            await erp.push_order(order, partner_id="bigbox")
        await erp.create_tables()
        assert await erp.health() is True
    finally:
        await erp.close()


async def test_an_unreachable_database_is_transient(order: PurchaseOrder) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    erp = SqlStagingErp(create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x"))
    try:
        with pytest.raises(TransientDeliveryError, match="unreachable"):
            await erp.push_order(order, partner_id="bigbox")
        assert await erp.health() is False
    finally:
        await erp.close()


async def test_a_held_write_lock_is_transient_on_sqlite(
    tmp_path: Path, order: PurchaseOrder
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    registry = AdapterRegistry()
    register(registry)
    erp = await registry.erps["sql"](
        _context(tmp_path), {"url": url, "create_tables": True, "timeout_seconds": 0.2}
    )
    holder = create_async_engine(url)
    try:
        async with holder.connect() as conn:
            await conn.execute(sa.text("BEGIN IMMEDIATE"))  # another writer holds the lock
            with pytest.raises(TransientDeliveryError, match="locked"):
                await erp.push_order(order, partner_id="bigbox")
            await conn.execute(sa.text("ROLLBACK"))
        assert (await erp.push_order(order, partner_id="bigbox")).created is True
    finally:
        await erp.close()
        await holder.dispose()


@pytest.mark.parametrize("stage_url", ["postgresql"], indirect=True)
async def test_tables_in_a_schema_of_their_own(
    stage_url: str, reader: Any, order: PurchaseOrder, tmp_path: Path
) -> None:
    registry = AdapterRegistry()
    register(registry)
    erp = await registry.erps["sql"](
        _context(tmp_path), {"url": stage_url, "schema": "erp_stage", "create_tables": True}
    )
    try:
        result = await erp.push_order(order, partner_id="bigbox")
    finally:
        await erp.close()

    assert result.created is True
    assert await count(reader, "erp_stage.o2c_staged_orders") == 1
    assert await count(reader, "erp_stage.o2c_staged_order_lines") == len(order.lines)


def _context(secrets_dir: Path, **settings: Any) -> GatewayContext:
    made = Settings(secrets_dir=secrets_dir, **settings)
    # The factory needs settings and partner profiles only.
    return GatewayContext(
        made, cast("Any", None), PartnerRegistry.load(SETTINGS.partners_dir), cast("Any", None)
    )


async def test_the_registered_factory_reads_the_url_from_a_secret(
    stage_url: str, reader: Any, order: PurchaseOrder, tmp_path: Path
) -> None:
    assert "sql" in load_adapters().erps  # the entry point is installed
    registry = AdapterRegistry()
    register(registry)
    (tmp_path / "STAGING_DB").write_text(stage_url + "\n")

    erp = await registry.erps["sql"](
        _context(tmp_path), {"url_secret": "STAGING_DB", "create_tables": True}
    )
    try:
        assert erp.name == "sql" and await erp.health() is True
        result = await erp.push_order(order, partner_id="bigbox")
    finally:
        await erp.close()

    assert result.created is True
    (row,) = await reader("SELECT sku FROM o2c_staged_order_lines WHERE position = 1")
    assert row.sku == "MUG-16-SS"  # the factory passed the partner profiles on


async def test_the_factory_refuses_bad_settings(tmp_path: Path) -> None:
    registry = AdapterRegistry()
    register(registry)
    factory = registry.erps["sql"]
    own = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    ctx = _context(tmp_path, database_url=own)

    with pytest.raises(ConfigError, match="exactly one of"):
        await factory(ctx, {})
    with pytest.raises(ConfigError, match="exactly one of"):
        await factory(ctx, {"url": own, "url_secret": "X"})
    with pytest.raises(ConfigError, match="put the URL in a secret"):
        await factory(ctx, {"url": "postgresql+asyncpg://erp:hunter2@db.example/erp"})
    with pytest.raises(ConfigError, match="driver 'postgresql'") as raised:
        await factory(ctx, {"url": "postgresql://db.example/erp"})
    assert "hunter2" not in str(raised.value)
    with pytest.raises(ConfigError, match="the gateway's own database"):
        await factory(ctx, {"url": own})
    with pytest.raises(ConfigError, match="STAGING_DB"):  # the secret is missing
        await factory(ctx, {"url_secret": "STAGING_DB"})
    with pytest.raises(ConfigError, match=r"erp\.schema"):
        await factory(ctx, {"url": f"sqlite+aiosqlite:///{tmp_path / 's.db'}", "schema": "x; DROP"})
    with pytest.raises(ConfigError, match="create_table"):
        await factory(
            ctx, {"url": f"sqlite+aiosqlite:///{tmp_path / 's.db'}", "create_table": True}
        )


@pytest.mark.parametrize("stage_url", ["postgresql"], indirect=True)
async def test_waiting_on_another_writer_past_the_timeout_is_transient(
    stage_url: str, order: PurchaseOrder, tmp_path: Path
) -> None:
    registry = AdapterRegistry()
    register(registry)
    erp = await registry.erps["sql"](
        _context(tmp_path), {"url": stage_url, "create_tables": True, "timeout_seconds": 0.5}
    )
    holder = create_async_engine(stage_url)
    try:
        async with holder.begin() as conn:  # another writer staged the same PO, not committed yet
            await conn.execute(
                sa.text(
                    "INSERT INTO o2c_staged_orders (partner_id, po_number, payload)"
                    " VALUES ('bigbox', :po, '{}')"
                ),
                {"po": order.po_number},
            )
            with pytest.raises(TransientDeliveryError):
                await erp.push_order(order, partner_id="bigbox")
            await conn.rollback()
        assert (await erp.push_order(order, partner_id="bigbox")).created is True
    finally:
        await erp.close()
        await holder.dispose()


@pytest.mark.parametrize("stage_url", ["postgresql"], indirect=True)
async def test_a_real_deadlock_is_classed_transient(stage_url: str) -> None:
    engine = create_async_engine(stage_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("CREATE TABLE t (id int PRIMARY KEY, n int)"))
            await conn.execute(sa.text("INSERT INTO t VALUES (1, 0), (2, 0)"))
        async with engine.connect() as a, engine.connect() as b:
            await a.execute(sa.text("UPDATE t SET n = 1 WHERE id = 1"))
            await b.execute(sa.text("UPDATE t SET n = 1 WHERE id = 2"))
            outcomes = await asyncio.gather(
                a.execute(sa.text("UPDATE t SET n = 2 WHERE id = 2")),
                b.execute(sa.text("UPDATE t SET n = 2 WHERE id = 1")),
                return_exceptions=True,
            )
            await a.rollback()
            await b.rollback()
    finally:
        await engine.dispose()
    (error,) = [o for o in outcomes if isinstance(o, BaseException)]
    assert isinstance(error, sa.exc.DBAPIError)
    classed = delivery_error("stage PO X", error)
    assert isinstance(classed, TransientDeliveryError)
    assert "deadlock" in str(classed)
