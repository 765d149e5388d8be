"""Browser sessions and failed sign-ins as rows: the store's side of the UI's sessions.

Failed sign-ins (:meth:`SessionRows.add_login_failures` and friends) back
:class:`gateway.web.ui.sessions.LoginThrottle`, so that a guesser meets the same limit on
every web process.

:class:`SessionRows` keeps each session by the sha256 of its id (a copy of the table
does not give anyone a usable cookie), with its contents as JSON and its start and last
use as Unix times, so that every process of the web role, on any machine, serves the same
sessions. Each call is its own short transaction.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gateway.storage.base import StoreBase
from gateway.storage.schema import ui_login_failures, ui_sessions


class SessionRows(StoreBase):
    """Load, save, delete and purge browser sessions on top of :class:`StoreBase`."""

    async def load_session(self, id_hash: str) -> tuple[dict[str, Any], float, float] | None:
        """``(data, started, last_seen)`` of a session, or None."""
        c = ui_sessions.c
        stmt = sa.select(c.data, c.started, c.last_seen).where(c.id_hash == id_hash)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return (dict(row.data), float(row.started), float(row.last_seen)) if row else None

    async def save_session(
        self, id_hash: str, data: dict[str, Any], started: float, last_seen: float
    ) -> None:
        """Insert or replace a session."""
        values = {"id_hash": id_hash, "data": data, "started": started, "last_seen": last_seen}
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        stmt = dialect.insert(ui_sessions).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id_hash"],
            set_={"data": stmt.excluded.data, "last_seen": stmt.excluded.last_seen},
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def delete_session(self, id_hash: str) -> None:
        """Forget a session (sign-out); nothing happens when there is none."""
        async with self._write() as conn:
            await conn.execute(sa.delete(ui_sessions).where(ui_sessions.c.id_hash == id_hash))

    async def purge_sessions(self, *, seen_before: float, started_before: float) -> int:
        """Delete sessions idle since ``seen_before`` or started before ``started_before``."""
        c = ui_sessions.c
        stmt = sa.delete(ui_sessions).where(
            sa.or_(c.last_seen < seen_before, c.started < started_before)
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount

    async def add_login_failures(self, keys: list[str], at: float, *, forget_before: float) -> None:
        """Record one failed sign-in under each key; drop failures older than the window."""
        c = ui_login_failures.c
        async with self._write() as conn:
            await conn.execute(sa.delete(ui_login_failures).where(c.at < forget_before))
            await conn.execute(sa.insert(ui_login_failures), [{"key": k, "at": at} for k in keys])

    async def login_failures(self, key: str, since: float) -> list[float]:
        """When ``key`` failed since ``since`` (Unix times, oldest first)."""
        c = ui_login_failures.c
        stmt = sa.select(c.at).where(c.key == key, c.at > since).order_by(c.at)
        async with self._read() as conn:
            return [float(at) for at in (await conn.execute(stmt)).scalars()]

    async def clear_login_failures(self, key: str) -> None:
        """Forget ``key``'s failures (a successful sign-in of that user)."""
        async with self._write() as conn:
            await conn.execute(sa.delete(ui_login_failures).where(ui_login_failures.c.key == key))

    async def count_sessions(self) -> int:
        """How many sessions are stored (expired ones not purged yet included)."""
        async with self._read() as conn:
            return int(
                (await conn.scalar(sa.select(sa.func.count()).select_from(ui_sessions))) or 0
            )
