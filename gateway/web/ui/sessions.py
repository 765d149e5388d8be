"""Browser sessions, CSRF tokens and login throttling for the web UI.

A session lives in the database (:class:`SessionStore` over a :class:`SessionBackend`,
the store's ``ui_sessions`` table), so every process of the web role, on any machine,
serves it; without a backend (unit tests) it lives in this process's memory. The
browser holds only its random id, signed with HMAC-SHA256 (``<id>.<signature>``), in an
HttpOnly, SameSite=Strict cookie; the table holds the id's sha256. A session ends at
logout, after :attr:`SessionPolicy.lifetime` from login, or after
:attr:`SessionPolicy.idle` without a request. Each session has
its own CSRF token, which every form posts back.

Every process must sign with the same key: the secret ``UI_SESSION_KEY``. Without it a
random key is made per process (logged as a warning), which suits a single process and
ends every session at restart. Notices and the last-use time are written back after
each request that changed them (the last-use time at most once a minute). Failed sign-ins
(:class:`LoginThrottle`) are counted in the database too, so every process throttles alike.

The sign-in form, shown before any session exists, is protected by a signed
double-submit token (:meth:`SessionStore.login_token`).

Imports only the standard library and storage records.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gateway.storage.records import Principal

if TYPE_CHECKING:
    from collections.abc import Callable

SESSION_COOKIE = "o2c_session"
LOGIN_COOKIE = "o2c_login"
_MAX_TRACKED = 10_000
CSRF_FIELD = "csrf_token"
"""The form field (or ``X-CSRF-Token`` header) that carries the CSRF token."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long sessions last and how many failed sign-ins are tolerated.

    Attributes:
        lifetime: seconds from sign-in after which a session ends regardless.
        idle: seconds without a request after which a session ends.
        user_failures: failed sign-ins per user name allowed within ``window``.
        address_failures: failed sign-ins per client address allowed within ``window``.
        window: seconds over which failed sign-ins are counted.
        secure_cookies: mark cookies ``Secure``: True always, False never, None when
            the request came over https.
    """

    lifetime: float = 8 * 3600.0
    idle: float = 30 * 60.0
    user_failures: int = 5
    address_failures: int = 20
    window: float = 15 * 60.0
    secure_cookies: bool | None = None


class SessionBackend(Protocol):
    """Where sessions are kept (the store's ``ui_sessions`` table); see the module docstring."""

    async def load_session(self, id_hash: str) -> tuple[dict[str, Any], float, float] | None:
        """``(data, started, last_seen)`` of a session, or None."""
        ...

    async def save_session(
        self, id_hash: str, data: dict[str, Any], started: float, last_seen: float
    ) -> None:
        """Insert or replace a session."""
        ...

    async def delete_session(self, id_hash: str) -> None:
        """Forget a session."""
        ...

    async def purge_sessions(self, *, seen_before: float, started_before: float) -> int:
        """Delete the expired sessions."""
        ...


_TOUCH_SECONDS = 60.0
"""A session's last use is written back at most this often (the idle limit is minutes)."""


@dataclass(slots=True)
class Session:
    """One signed-in browser: who, its CSRF token, when it started and was last used."""

    id: str
    principal: Principal
    csrf_token: str
    started: float
    last_seen: float
    notices: list[str] = field(default_factory=list)
    """Messages to show on the next page (``flash`` messages), then dropped."""
    saved: tuple[float, tuple[str, ...]] = (0.0, ())
    """``(last_seen, notices)`` as last written to the backend."""

    def data(self) -> dict[str, Any]:
        """What the backend keeps besides the times."""
        p = self.principal
        return {
            "principal": {
                "name": p.name,
                "role": p.role,
                "partner_id": p.partner_id,
                "key_id": p.key_id,
            },
            "csrf_token": self.csrf_token,
            "notices": list(self.notices),
        }

    def take_notices(self) -> list[str]:
        """The pending notices, which are then cleared."""
        taken, self.notices = self.notices, []
        return taken


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hash(session_id: str) -> str:
    """What the backend keys a session by: the id's sha256 (the cookie alone opens it)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Sessions keyed by random id; cookies carry the id with an HMAC."""

    def __init__(
        self,
        key: bytes,
        policy: SessionPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        backend: SessionBackend | None = None,
    ) -> None:
        self.policy = policy or SessionPolicy()
        self.clock = clock
        self._key = key
        self._backend = backend
        self._sessions: dict[str, Session] = {}
        """Without a backend: the sessions themselves."""

    def _sign(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    def _unsign(self, purpose: str, signed: str | None) -> str | None:
        if not signed or len(signed) > 200:
            return None
        value, _, signature = signed.rpartition(".")
        if not value or not hmac.compare_digest(signature, self._sign(purpose, value)):
            return None
        return value

    async def create(self, principal: Principal) -> tuple[Session, str]:
        """A new session for ``principal``; returns it with its cookie value."""
        await self._purge()
        now = self.clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            principal=principal,
            csrf_token=secrets.token_urlsafe(32),
            started=now,
            last_seen=now,
        )
        if self._backend is None:
            self._sessions[session.id] = session
        else:
            await self._write(session)
        return session, f"{session.id}.{self._sign('session', session.id)}"

    async def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names (its idle clock restarts), or None."""
        session_id = self._unsign("session", cookie)
        if session_id is None:
            return None
        session = await self._find(session_id)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            await self.drop(session)
            return None
        session.last_seen = now
        return session

    async def save(self, session: Session) -> None:
        """Write back what a request changed: notices, and the last use once a minute."""
        if self._backend is None:
            return
        last_seen, notices = session.saved
        if tuple(session.notices) != notices or session.last_seen - last_seen >= _TOUCH_SECONDS:
            await self._write(session)

    async def drop(self, session: Session) -> None:
        """End a session (logout)."""
        self._sessions.pop(session.id, None)
        if self._backend is not None:
            await self._backend.delete_session(_hash(session.id))

    def __len__(self) -> int:
        """Sessions held in this process's memory (none with a backend)."""
        return len(self._sessions)

    async def _find(self, session_id: str) -> Session | None:
        if self._backend is None:
            return self._sessions.get(session_id)
        found = await self._backend.load_session(_hash(session_id))
        if found is None:
            return None
        data, started, last_seen = found
        try:
            p = data["principal"]
            principal = Principal(
                name=p["name"], role=p["role"], partner_id=p["partner_id"], key_id=p["key_id"]
            )
            notices = [str(n) for n in data["notices"]]
            session = Session(
                session_id, principal, str(data["csrf_token"]), started, last_seen, notices
            )
        except (KeyError, TypeError):  # written by another version: sign in again
            return None
        session.saved = (last_seen, tuple(notices))
        return session

    async def _write(self, session: Session) -> None:
        assert self._backend is not None
        await self._backend.save_session(
            _hash(session.id), session.data(), session.started, session.last_seen
        )
        session.saved = (session.last_seen, tuple(session.notices))

    def _expired(self, session: Session, now: float) -> bool:
        return (
            now - session.started > self.policy.lifetime
            or now - session.last_seen > self.policy.idle
        )

    async def _purge(self) -> None:
        now = self.clock()
        if self._backend is not None:
            await self._backend.purge_sessions(
                seen_before=now - self.policy.idle, started_before=now - self.policy.lifetime
            )
            return
        for session_id in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[session_id]

    def login_token(self) -> tuple[str, str]:
        """A fresh sign-in CSRF token: ``(form value, cookie value)``."""
        token = secrets.token_urlsafe(24)
        return token, f"{token}.{self._sign('login', token)}"

    def login_token_ok(self, form_value: str | None, cookie: str | None) -> bool:
        """Whether the sign-in form's token matches its signed cookie."""
        token = self._unsign("login", cookie)
        return (
            token is not None and form_value is not None and hmac.compare_digest(token, form_value)
        )


class ThrottleBackend(Protocol):
    """Where failed sign-ins are counted (the store's ``ui_login_failures`` table)."""

    async def add_login_failures(self, keys: list[str], at: float, *, forget_before: float) -> None:
        """Record a failure under each key; drop those older than ``forget_before``."""
        ...

    async def login_failures(self, key: str, since: float) -> list[float]:
        """The key's failures since ``since``, oldest first."""
        ...

    async def clear_login_failures(self, key: str) -> None:
        """Forget the key's failures."""
        ...


class LoginThrottle:
    """Counts failed sign-ins per user name and per client address in a sliding window.

    With a backend (the store) every web process counts the same failures; without one
    (unit tests) they are counted in this process's memory.
    """

    def __init__(
        self,
        policy: SessionPolicy,
        *,
        clock: Callable[[], float] = time.time,
        backend: ThrottleBackend | None = None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._backend = backend
        self._failures: dict[str, deque[float]] = {}

    async def _recent(self, key: str) -> list[float]:
        horizon = self.clock() - self.policy.window
        if self._backend is not None:
            return await self._backend.login_failures(key, horizon)
        failures = self._failures.get(key)
        if failures is None:
            return []
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return list(failures)

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (
            (f"user:{username.casefold()}"[:300], self.policy.user_failures),
            (f"addr:{address}"[:300], self.policy.address_failures),
        )

    async def retry_after(self, username: str, address: str) -> float:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        wait = 0.0
        for key, limit in self._keys(username, address):
            failures = await self._recent(key)
            if len(failures) >= limit:
                wait = max(wait, failures[-limit] + self.policy.window - self.clock())
        return max(wait, 0.0)

    async def failed(self, username: str, address: str) -> None:
        """Record a failed sign-in."""
        now = self.clock()
        keys = [key for key, _ in self._keys(username, address)]
        if self._backend is not None:
            await self._backend.add_login_failures(
                keys, now, forget_before=now - self.policy.window
            )
            return
        if len(self._failures) >= _MAX_TRACKED:
            # Many names tried at once: forget those whose failures are all past the window.
            horizon = now - self.policy.window
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= horizon]:
                del self._failures[key]
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    async def succeeded(self, username: str) -> None:
        """Forget the user name's failures (the address keeps its count)."""
        key = f"user:{username.casefold()}"[:300]
        self._failures.pop(key, None)
        if self._backend is not None:
            await self._backend.clear_login_failures(key)
