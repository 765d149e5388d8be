"""SQL staging ERP connector: canonical orders inserted into staging tables of another database.

The ERP's own jobs pick orders up from two tables (SQLAlchemy URL ``sqlite+aiosqlite``
or ``postgresql+asyncpg``; never the gateway's own database):

- ``o2c_staged_orders``: ``id``, ``partner_id``, ``po_number`` (unique together),
  ``po_date``, ``currency``, ``total`` (quantity × unit price over the lines; NULL when
  a line has no price), ``status`` (``new``; the ERP moves it on), ``payload`` (the
  canonical order as JSON) and ``created_at``;
- ``o2c_staged_order_lines``: ``order_id``, ``position`` (1-based, the key with the
  order id), ``line_number``, ``sku`` (ours, through the partner's item cross-reference,
  else the vendor part number the buyer quoted), ``product_ids`` (JSON), ``quantity``,
  ``uom``, ``unit_price`` and ``description``.

``push_order`` writes an order and its lines in one transaction and is idempotent on
``(partner_id, po_number)``: ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` (SQLite
3.35+ and PostgreSQL alike) either makes the row or, when it exists, the row is read
back and answered with ``created=False``; concurrent pushes of one order wait on the
unique index, so exactly one creates it. Connection problems, lock timeouts,
deadlocks and serialization failures raise ``TransientDeliveryError``; constraint
and data errors, missing tables and refused permissions ``PermanentDeliveryError``.
The tables belong to the ERP team: the connector creates them only with
``create_tables: true`` (trials and tests). Amounts are exact: ``NUMERIC`` on
PostgreSQL, decimal text on SQLite (whose NUMERIC affinity would make them floats).

Imports only SQLAlchemy, pydantic and ``gateway``'s ``ports``, ``model``, ``errors``
(adapter rule; partner profiles come through the context).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.ports import ErpResult

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from gateway.model import LineItem, PurchaseOrder
    from gateway.partners import PartnerRegistry
    from gateway.ports import AdapterRegistry, GatewayContext

log = logging.getLogger(__name__)

ORDERS: Final = "o2c_staged_orders"
LINES: Final = "o2c_staged_order_lines"
DRIVERS: Final = ("sqlite+aiosqlite", "postgresql+asyncpg")
PART_IDS: Final = ("BP", "IN", "PI", "CB")
UPC_IDS: Final = ("UP", "UK", "UA", "EN", "EO")
VENDOR_IDS: Final = ("VP", "VN", "VA", "SK")
# PostgreSQL SQLSTATE classes worth another try: 08 connection, 40 transaction rollback
# (40001 serialization failure, 40P01 deadlock), 53 insufficient resources, 57 operator
# intervention (admin shutdown, query cancelled), 55P03 lock not available.
_TRANSIENT_SQLSTATE: Final = ("08", "40", "53", "57", "55P03")
_TRANSIENT_SQLITE: Final = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL"}
)
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class SqlSettings(BaseModel):
    """The ``erp:`` settings block for ``connector: sql``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = None
    """SQLAlchemy async URL of the staging database, without a password."""
    url_secret: str | None = None
    """Name of the secret holding the URL instead (it may carry a password)."""
    schema_name: str | None = Field(default=None, alias="schema", pattern=_IDENTIFIER)
    """Schema of the staging tables (PostgreSQL); None: the default search path."""
    create_tables: bool = False
    """Create missing staging tables at start-up; in production the ERP team owns them."""
    timeout_seconds: float = Field(default=30.0, gt=0)
    """Connect and statement timeout (PostgreSQL); lock wait (SQLite's busy timeout)."""

    @model_validator(mode="after")
    def _one_url(self) -> SqlSettings:
        if (self.url is None) == (self.url_secret is None):
            raise ValueError("give exactly one of `url` and `url_secret`")
        return self


class _Money(sa.TypeDecorator[Decimal]):
    """``NUMERIC`` on PostgreSQL; decimal text on SQLite, where NUMERIC would mean float."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric())

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def staging_tables(schema: str | None = None) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    """A fresh ``MetaData`` holding the two staging tables, as the ERP team would create them."""
    metadata = sa.MetaData(schema=schema)
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    orders = sa.Table(
        ORDERS,
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("partner_id", sa.String(100), nullable=False),
        sa.Column("po_number", sa.String(100), nullable=False),
        sa.Column("po_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("total", _Money(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default="new"),
        sa.Column("payload", json_type, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("partner_id", "po_number", name=f"uq_{ORDERS}_partner_po"),
    )
    lines = sa.Table(
        LINES,
        metadata,
        sa.Column("order_id", sa.ForeignKey(orders.c.id, ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("line_number", sa.String(20), nullable=True),
        sa.Column("sku", sa.String(100), nullable=True),
        sa.Column("product_ids", json_type, nullable=False),
        sa.Column("quantity", _Money(), nullable=False),
        sa.Column("uom", sa.String(10), nullable=True),
        sa.Column("unit_price", _Money(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
    )
    return metadata, orders, lines


class SqlStagingErp:
    """An ``ErpConnector`` writing staging rows; see the module docstring.

    Args:
        engine: the staging database's engine (the connector disposes of it on close).
        schema: the staging tables' schema.
        partners: partner profiles, for their item cross-reference.
    """

    name = "sql"
    kind: ClassVar[str] = "sql"
    Config: ClassVar[type[SqlSettings]] = SqlSettings

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        schema: str | None = None,
        partners: PartnerRegistry | None = None,
    ) -> None:
        self.engine = engine
        self.metadata, self.orders, self.lines = staging_tables(schema)
        self._partners = partners
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    async def create_tables(self) -> None:
        """Create the staging tables (and their schema on PostgreSQL) when missing."""
        with map_errors("create the staging tables"):
            async with self.engine.begin() as conn:
                if self.metadata.schema and self.engine.dialect.name == "postgresql":
                    await conn.execute(
                        sa.schema.CreateSchema(self.metadata.schema, if_not_exists=True)
                    )
                await conn.run_sync(self.metadata.create_all)

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """Stage the order and its lines in one transaction, unless already staged."""
        with map_errors(f"stage PO {order.po_number}"):
            async with self.engine.begin() as conn:
                order_id = await self._insert_order(conn, order, partner_id)
                created, status = order_id is not None, "new"
                if order_id is None:
                    order_id, status = await self._existing(conn, order.po_number, partner_id)
                elif order.lines:
                    await conn.execute(
                        self.lines.insert(), self._lines(order, partner_id, order_id)
                    )
        where = {"partner_id": partner_id, "po_number": order.po_number, "erp_order_id": order_id}
        log.info("order %s in the staging tables", "staged" if created else "found", extra=where)
        return ErpResult(str(order_id), status, created)

    async def health(self) -> bool:
        """True when the staging orders table answers a query."""
        try:
            with map_errors("check the staging tables"):
                async with self.engine.connect() as conn:
                    await conn.execute(sa.select(self.orders.c.id).limit(1))
        except DeliveryError as exc:
            log.warning("staging database health check failed: %s", exc)
            return False
        return True

    async def close(self) -> None:
        """Close the staging database's connections."""
        await self.engine.dispose()

    async def _insert_order(
        self, conn: AsyncConnection, order: PurchaseOrder, partner_id: str
    ) -> int | None:
        """The new row's id, or None when ``(partner_id, po_number)`` is already staged."""
        values = {
            "partner_id": partner_id,
            "po_number": order.po_number,
            "po_date": order.po_date,
            "currency": order.currency,
            "total": _total(order.lines),
            "status": "new",
            "payload": order.model_dump(mode="json"),
            "created_at": dt.datetime.now(dt.UTC),
        }
        statement = (
            self._insert(self.orders)
            .values(values)
            .on_conflict_do_nothing(index_elements=["partner_id", "po_number"])
            .returning(self.orders.c.id)
        )
        new_id = (await conn.execute(statement)).scalar_one_or_none()
        return None if new_id is None else int(new_id)

    async def _existing(
        self, conn: AsyncConnection, po_number: str, partner_id: str
    ) -> tuple[int, str]:
        """The staged order's id and status (the ERP may have moved it on)."""
        c = self.orders.c
        query = sa.select(c.id, c.status).where(
            c.partner_id == partner_id, c.po_number == po_number
        )
        order_id, status = (await conn.execute(query)).one()
        return int(order_id), str(status)

    def _lines(self, order: PurchaseOrder, partner_id: str, order_id: int) -> list[dict[str, Any]]:
        return [
            {
                "order_id": order_id,
                "position": position,
                "line_number": line.line_number,
                "sku": self._sku(partner_id, line),
                "product_ids": [p.model_dump(mode="json") for p in line.product_ids],
                "quantity": line.quantity,
                "uom": line.uom,
                "unit_price": line.unit_price,
                "description": line.description,
            }
            for position, line in enumerate(order.lines, start=1)
        ]

    def _sku(self, partner_id: str, line: LineItem) -> str | None:
        """Our SKU: the partner's cross-reference first, then the vendor part number quoted."""
        xref = None
        if self._partners is not None:
            with contextlib.suppress(ConfigError):  # unknown partner: no cross-reference
                xref = self._partners.by_id(partner_id).business.item_xref
        ids = line.product_ids
        codes: list[str | None] = []
        if xref is not None:
            codes += [xref.sku_for(partner_part=p.value) for p in ids if p.qualifier in PART_IDS]
            codes += [xref.sku_for(upc=p.value) for p in ids if p.qualifier in UPC_IDS]
        codes += [p.value for p in ids if p.qualifier in VENDOR_IDS]
        return next((code for code in codes if code), None)


def _total(lines: tuple[LineItem, ...]) -> Decimal | None:
    if not lines or any(line.unit_price is None for line in lines):
        return None
    return sum((line.quantity * (line.unit_price or 0) for line in lines), Decimal(0))


@contextlib.contextmanager
def map_errors(action: str) -> Iterator[None]:
    """Turn database errors into the delivery error that says whether a retry can help."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise delivery_error(action, exc) from exc
    except TimeoutError as exc:  # the statement timeout: often a lock another writer holds
        raise TransientDeliveryError(f"cannot {action}: no answer in time") from exc
    except (sa.exc.TimeoutError, sa.exc.DisconnectionError, OSError) as exc:
        raise TransientDeliveryError(
            f"cannot {action}: staging database unreachable ({type(exc).__name__}: {exc})"
        ) from exc
    except sa.exc.SQLAlchemyError as exc:
        raise PermanentDeliveryError(f"cannot {action}: {type(exc).__name__}: {exc}") from exc


def delivery_error(action: str, exc: sa.exc.DBAPIError) -> DeliveryError:
    """Transient or permanent, by the driver's SQLSTATE or SQLite result code."""
    orig = exc.orig
    cause = orig.__cause__ if orig is not None else None
    sqlstate = getattr(orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    sqlite_code = getattr(orig, "sqlite_errorname", None)
    message = " ".join(str(orig).split())[:300]
    text = f"cannot {action}: {message}"
    if isinstance(sqlstate, str):
        transient = sqlstate.startswith(_TRANSIENT_SQLSTATE)
    elif isinstance(sqlite_code, str):
        transient = sqlite_code in _TRANSIENT_SQLITE
    else:
        transient = isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
    retry = transient or exc.connection_invalidated
    return TransientDeliveryError(text) if retry else PermanentDeliveryError(text)


def _config_error(problems: list[str]) -> ConfigError:
    return ConfigError(
        "invalid SQL staging connector settings: " + "; ".join(problems), problems=problems
    )


def _url(ctx: GatewayContext, config: SqlSettings) -> sa.URL:
    """The staging database's URL, checked: our async drivers, and not the gateway's own DB."""
    raw = config.url or ctx.settings.secret(str(config.url_secret)).get_secret_value()
    field = "erp.url" if config.url else f"erp.url_secret ({config.url_secret})"
    try:
        url = sa.make_url(raw)
    except sa.exc.ArgumentError as exc:
        raise _config_error([f"{field}: not a SQLAlchemy URL"]) from exc
    if url.drivername not in DRIVERS:
        raise _config_error(
            [f"{field}: driver {url.drivername!r}; expected one of {', '.join(DRIVERS)}"]
        )
    if config.url and url.password is not None:
        raise _config_error(["erp.url: holds a password; put the URL in a secret (`url_secret`)"])
    try:
        own = sa.make_url(ctx.settings.database_url) if ctx.settings.database_url else None
    except sa.exc.ArgumentError:  # the gateway's own URL is checked where it is used
        own = None
    if own is not None and own.set(drivername=url.drivername) == url:
        raise _config_error([f"{field}: is the gateway's own database; staging needs another one"])
    return url


def _engine(url: sa.URL, config: SqlSettings) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": config.timeout_seconds})

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    timeout = config.timeout_seconds
    return create_async_engine(
        url, pool_pre_ping=True, connect_args={"timeout": timeout, "command_timeout": timeout}
    )


async def create_connector(ctx: GatewayContext, settings: Mapping[str, Any]) -> SqlStagingErp:
    """Build the connector from its settings block; create the tables when asked to."""
    try:
        config = SqlSettings.model_validate(settings)
    except ValidationError as exc:
        raise _config_error(
            [f"erp.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        ) from exc
    erp = SqlStagingErp(
        _engine(_url(ctx, config), config), schema=config.schema_name, partners=ctx.partners
    )
    if config.create_tables:
        try:
            await erp.create_tables()
        except DeliveryError:
            await erp.close()
            raise
    return erp


def register(registry: AdapterRegistry) -> None:
    """Offer the SQL staging connector as ``erp: {connector: sql, ...}``."""
    registry.add_erp("sql", create_connector)
