"""API keys, browser users and the audit log: the store's access-control tables.

:class:`AccountsStore` adds these methods to the store; the hashing lives in
:mod:`gateway.storage.credentials` and runs off the event loop.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from gateway.errors import UsageError
from gateway.storage import credentials
from gateway.storage.base import StoreBase
from gateway.storage.records import Principal, Role
from gateway.storage.rows import utcnow
from gateway.storage.schema import api_keys, audit_log, users

ROLES: tuple[Role, ...] = ("admin", "operator", "ar", "viewer", "partner")


def _check_role(role: str, partner_id: str | None) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "partner" and not partner_id:
        raise UsageError("a partner key needs a partner id")


class AccountsStore(StoreBase):
    """API keys, users and the audit log on top of :class:`StoreBase`."""

    async def create_api_key(
        self, *, partner_id: str | None, role: Role = "partner", label: str = ""
    ) -> tuple[int, str]:
        """Make a key; store only its hash; return ``(key_id, key)``. The key is shown once.

        Raises:
            UsageError: an unknown role, or a ``partner`` key without a partner id.
        """
        _check_role(role, partner_id)
        key, prefix, digest = credentials.new_api_key()
        stmt = (
            sa.insert(api_keys)
            .values(
                partner_id=partner_id,
                role=role,
                label=label,
                prefix=prefix,
                hash=digest,
                created_at=utcnow(),
            )
            .returning(api_keys.c.id)
        )
        async with self._write() as conn:
            key_id = (await conn.execute(stmt)).scalar_one()
        return int(key_id), key

    async def verify_api_key(self, key: str) -> Principal | None:
        """The principal of a live (not revoked) key, or None; constant-time comparison."""
        if not key.startswith(credentials.KEY_PREFIX) or len(key) > 200:
            return None
        c = api_keys.c
        stmt = sa.select(c.id, c.partner_id, c.role, c.label, c.hash).where(
            c.prefix == key[: credentials.KEY_PREFIX_LENGTH], c.revoked_at.is_(None)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        found = None
        for row in rows:  # every candidate is compared, so timing does not tell which matched
            if credentials.key_matches(key, row.hash):
                found = row
        if found is None:
            return None
        return Principal(
            name=found.label or f"api key {found.id}",
            role=found.role,
            partner_id=found.partner_id,
            key_id=found.id,
        )

    async def revoke_api_key(self, key_id: int) -> bool:
        """Revoke a key; False when there is no such live key."""
        c = api_keys.c
        stmt = (
            sa.update(api_keys)
            .where(c.id == key_id, c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount > 0

    async def list_api_keys(self, partner_id: str | None = None) -> list[dict[str, Any]]:
        """Keys without secrets: id, partner_id, role, label, created_at, revoked_at.

        Also ``prefix``, the key's first characters, so a person can tell keys apart.
        """
        c = api_keys.c
        stmt = sa.select(
            c.id, c.partner_id, c.role, c.label, c.prefix, c.created_at, c.revoked_at
        ).order_by(c.id)
        if partner_id is not None:
            stmt = stmt.where(c.partner_id == partner_id)
        async with self._read() as conn:
            return [dict(row._mapping) for row in await conn.execute(stmt)]

    async def create_user(self, username: str, password: str, role: Role) -> int:
        """A browser user with a scrypt password hash; return its id.

        Raises:
            UsageError: an unknown role, an empty name or password, or the name is taken.
        """
        _check_role(role, None)
        if role == "partner":
            raise UsageError("partner is a role for API keys, not users")
        if not username or not password:
            raise UsageError("a user needs a name and a password")
        encoded = await asyncio.to_thread(credentials.hash_password, password)
        stmt = (
            sa.insert(users)
            .values(username=username, password_hash=encoded, role=role, created_at=utcnow())
            .returning(users.c.id)
        )
        try:
            async with self._write() as conn:
                user_id = (await conn.execute(stmt)).scalar_one()
        except sa.exc.IntegrityError as exc:
            raise UsageError(f"user {username!r} already exists") from exc
        return int(user_id)

    async def verify_user(self, username: str, password: str) -> Principal | None:
        """The user's principal when the password is right, else None."""
        stmt = sa.select(users.c.password_hash, users.c.role).where(users.c.username == username)
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        encoded = row.password_hash if row is not None else None
        if not await asyncio.to_thread(credentials.check_password, password, encoded):
            return None
        assert row is not None
        return Principal(name=username, role=row.role)

    async def audit(
        self, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append to the audit log (who did what to what)."""
        stmt = sa.insert(audit_log).values(
            at=utcnow(), actor=actor, action=action, target=target, detail=detail or {}
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest audit entries, newest first: id, at, actor, action, target, detail."""
        stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        async with self._read() as conn:
            return [dict(row._mapping) for row in await conn.execute(stmt)]
