"""Database fixtures: ``database_url`` (SQLite and PostgreSQL) and ``store`` (upgraded, open).

``tests/conftest.py`` loads this module through ``pytest_plugins``.

Each test gets a fresh database: a new SQLite file under its ``tmp_path``, or a new
PostgreSQL database ``o2c_t_<random>`` created on the server named by
``$O2C_TEST_DATABASE_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``)
and dropped afterwards. When that server cannot be reached the PostgreSQL case is
skipped with the reason, or fails under ``CI=true``.

The create/drop statements run on their own event loops in worker threads, so the
fixtures are synchronous and serve sync tests (the CLI runs ``asyncio.run``) and async
tests alike.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa

from gateway.storage import Store
from gateway.storage.migrate import upgrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

PG_URL_ENV = "O2C_TEST_DATABASE_URL"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DATABASES = ("sqlite", "postgresql")


class PostgresServer:
    """Creates and drops throwaway databases on one PostgreSQL server.

    Creating and dropping a database takes about a second each, so both run in
    background threads: the next database is made while a test runs, and a finished
    test's database is dropped without waiting. :meth:`close` waits for all of it.
    """

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url).set(drivername="postgresql+asyncpg")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="o2c-test-pg")
        self._pending: list[Future[None]] = []
        self._spare: Future[str] | None = None

    def _dsn(self) -> str:
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(self._dsn(), timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def _run(self, sql: str) -> None:
        asyncio.run(self._execute(sql))

    def check(self) -> str | None:
        """None when the server answers, else why not."""
        try:
            self._pool.submit(self._run, "SELECT 1").result()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            where = self.url.render_as_string(hide_password=True)
            return f"PostgreSQL at {where} is unreachable ({exc}); set ${PG_URL_ENV}"
        return None

    def _make(self) -> str:
        name = f"o2c_t_{secrets.token_hex(6)}"
        self._run(f'CREATE DATABASE "{name}"')
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self) -> str:
        """A new empty database; return its SQLAlchemy URL."""
        spare, self._spare = self._spare, self._pool.submit(self._make)
        return spare.result() if spare is not None else self._make()

    def drop(self, url: str) -> None:
        """Drop a database made by :meth:`create` (closing its leftover connections)."""
        name = sa.make_url(url).database
        assert name is not None and name.startswith("o2c_t_")
        self._pending.append(
            self._pool.submit(self._run, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        )

    def close(self) -> None:
        """Drop the spare database and wait for every drop."""
        if self._spare is not None:
            self.drop(self._spare.result())
            self._spare = None
        for future in self._pending:
            future.result()
        self._pool.shutdown()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server for tests; skips (fails under ``CI=true``) when unreachable."""
    server = PostgresServer(os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL)
    reason = server.check()
    if reason is not None:
        server.close()
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'o2c.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create()
    try:
        yield url
    finally:
        server.drop(url)


@pytest.fixture
def pg_database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, for tests only PostgreSQL can run (SKIP LOCKED)."""
    url = postgres_server.create()
    try:
        yield url
    finally:
        postgres_server.drop(url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The store's data directory (payload files) for this test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest_asyncio.fixture
async def store(database_url: str, data_dir: Path) -> AsyncIterator[Store]:
    """An open :class:`Store` on a freshly upgraded ``database_url``; closed after."""
    await upgrade(database_url)
    opened = await Store.open(database_url, data_dir=data_dir)
    try:
        yield opened
    finally:
        await opened.close()
