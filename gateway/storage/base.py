"""The store's engine and transactions: SQLite's write lock, units, joining a unit.

:class:`StoreBase` holds the engine and hands out read connections and write
transactions; :class:`gateway.storage.store.Store` builds on it. See the store's
module docstring for the locking rules.

Imports SQLAlchemy, the standard library and :mod:`gateway.storage.unit`.
"""

from __future__ import annotations

import asyncio
import weakref
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.storage.payloads import PayloadFiles
from gateway.storage.unit import Unit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def _current_task() -> asyncio.Task[Any] | None:
    return asyncio.current_task()


@dataclass(frozen=True, slots=True)
class _Active:
    """The unit the current task holds open, and on which database."""

    key: str
    task: asyncio.Task[Any] | None
    unit: Unit


_ACTIVE: ContextVar[_Active | None] = ContextVar("o2c_storage_active_unit", default=None)
_SQLITE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _sqlite_lock(key: str) -> asyncio.Lock:
    """The one write lock of SQLite file ``key`` on the running loop, shared by every Store."""
    locks = _SQLITE_LOCKS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


class StoreBase:
    """The engine, the payload files and transactions; see :class:`gateway.storage.store.Store`."""

    def __init__(self, engine: AsyncEngine, *, data_dir: Path, payloads_in_db: bool) -> None:
        self._engine = engine
        self._payloads_in_db = payloads_in_db
        self._receipts: list[Any] = []
        """Receipts waiting for the group commit of ``Store.receive``."""
        self._receiver: asyncio.Task[None] | None = None
        self._files = PayloadFiles(data_dir / "payloads")
        url = engine.url
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            self._key = (
                str(Path(database).resolve())
                if database and database != ":memory:"
                else f"memory:{id(self)}"
            )
        else:
            self._key = url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def payload_dir(self) -> Path:
        """Where payload files go (``<data_dir>/payloads``)."""
        return self._files.root

    async def close(self) -> None:
        """Finish pending receipts, then dispose of the engine."""
        if self._receiver is not None:
            await asyncio.gather(self._receiver, return_exceptions=True)
        await self._engine.dispose()

    # -- transactions ---------------------------------------------------------------------
    def _active(self) -> _Active | None:
        active = _ACTIVE.get()
        if active is not None and active.key == self._key and active.task is _current_task():
            return active
        return None

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, or the one of the unit this task holds open."""
        active = self._active()
        if active is not None:
            await active.unit.flush_updates()  # the store's statement sees them
            yield active.unit.connection
            return
        if self.dialect == "sqlite":
            async with _sqlite_lock(self._key), self._engine.connect() as conn:
                await conn.execution_options(sqlite_begin="IMMEDIATE")
                async with conn.begin():
                    yield conn
        else:
            async with self._engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read; on PostgreSQL without BEGIN/ROLLBACK round trips."""
        async with self._engine.connect() as conn:
            if self._engine.dialect.name == "postgresql":
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @asynccontextmanager
    async def unit(
        self, owner: str | None = None, fence: Iterable[int] = ()
    ) -> AsyncIterator[Unit]:
        """A transaction: commits on normal exit, rolls back on an exception.

        With ``owner`` (a worker's name), changes to the documents in ``fence`` are fenced
        by that worker's claims on them (see :class:`Unit`).

        Store writes made by this task while the unit is open join it. A unit opened
        inside another one joins the outer transaction (no savepoint).
        """
        async with self._write() as conn:
            unit = Unit(conn, owner, fence)
            token = _ACTIVE.set(_Active(self._key, _current_task(), unit))
            try:
                yield unit
                await unit.flush()
                staged = [item for item, _ in unit.staged.values()]
                if staged:  # durable before the rows that name them commit
                    await asyncio.to_thread(self._files.publish, staged)
                    unit.staged.clear()
            finally:
                _ACTIVE.reset(token)
                if unit.staged:
                    leftover = [item for item, _ in unit.staged.values()]
                    await asyncio.to_thread(self._files.discard, leftover)
