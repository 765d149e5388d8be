"""Schema migrations: upgrade a database to the code's head revision, or tell where it is.

Alembic is synchronous, so each function opens the async engine and runs Alembic on its
connection through ``run_sync``. The Alembic config is built in code (no ``alembic.ini``)
and points at ``gateway/storage/migrations``, which ships inside the wheel.

Imports only SQLAlchemy, Alembic and :mod:`gateway.storage.schema` (through ``env.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.storage.engine import create_engine

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema is (``current``, None when empty) and where code needs it."""

    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        """True when the database is at the code's head revision."""
        return self.current == self.head


def alembic_config() -> Config:
    """The Alembic config for this package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_status(engine: AsyncEngine) -> SchemaStatus:
    """The revision the database behind ``engine`` is at, and the code's head."""
    async with engine.connect() as conn:
        current = await conn.run_sync(_current)
    return SchemaStatus(current=current, head=head_revision())


async def status(url: str) -> SchemaStatus:
    """The revision the database at ``url`` is at, and the code's head."""
    engine = create_engine(url)
    try:
        return await schema_status(engine)
    finally:
        await engine.dispose()


async def upgrade(url: str) -> list[str]:
    """Upgrade the database at ``url`` to head; return the revisions applied, oldest first."""
    config = alembic_config()
    script = ScriptDirectory.from_config(config)

    def run(connection: sa.Connection) -> list[str]:
        before = _current(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        applied = [
            rev.revision for rev in script.iterate_revisions("head", before or "base") if rev
        ]
        return list(reversed(applied))

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(run)
    finally:
        await engine.dispose()
